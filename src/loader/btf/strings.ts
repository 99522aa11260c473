/**
 * The BTF string section: NUL-terminated strings addressed by byte offset.
 * Split BTF continues the offset space of its base: offsets below
 * `startOff` refer into the base table, the rest into this section.
 * Strings are decoded lazily, on request.
 */

import { LoaderError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes bytes[start, end) — short ASCII runs without TextDecoder (faster), as Latin-1 (the
 * same text for ASCII) in one piece: built a character at a time, a name of 13 or more
 * characters was a chain of V8 cons strings, and a vmlinux name index kept hundreds of thousands
 * of them (a large share of a process's heap objects, walked by every full garbage collection).
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  if (len <= 32) {
    for (let i = start; i < end; i++) if (bytes[i] >= 0x80) return utf8.decode(bytes.subarray(start, end));
    return (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('latin1', start, end);
  }
  return utf8.decode(bytes.subarray(start, end));
}

export class BtfStrings {
  /** This section's bytes (may be empty for split BTF). */
  readonly bytes: Uint8Array;
  /** Offset of bytes[0] in the combined offset space (0 for base BTF). */
  readonly startOff: number;
  readonly base: BtfStrings | undefined;
  /** The same bytes as a Buffer (a view, made once), for decodeUtf8's Latin-1 path. */
  readonly #view: Buffer;

  constructor(bytes: Uint8Array, base?: BtfStrings) {
    this.bytes = bytes;
    this.#view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.base = base;
    this.startOff = base ? base.endOff : 0;
  }

  /** One past the last valid offset of the combined offset space. */
  get endOff(): number {
    return this.startOff + this.bytes.length;
  }

  has(off: number): boolean {
    return Number.isInteger(off) && off >= 0 && off < this.endOff;
  }

  /** The string at `off`; throws BTF_MALFORMED when the offset is out of range. */
  get(off: number): string {
    if (off < this.startOff) {
      if (this.base) return this.base.get(off);
      if (off === 0 && this.bytes.length === 0) return '';
    }
    const rel = off - this.startOff;
    const b = this.bytes;
    if (!Number.isInteger(rel) || rel < 0 || rel >= b.length) {
      throw new LoaderError('BTF_MALFORMED', `btf: string offset ${off} out of range (string section ends at ${this.endOff})`, {
        field: 'name_off',
        got: off,
        want: `< ${this.endOff}`,
      });
    }
    let end = b.indexOf(0, rel);
    if (end < 0) end = b.length;
    return decodeUtf8(this.#view, rel, end);
  }

  /** Iterates (offset, string) for every string that starts after a NUL in this section (own strings only). */
  *entries(): Generator<[number, string]> {
    const b = this.bytes;
    let i = 0;
    while (i < b.length) {
      let end = b.indexOf(0, i);
      if (end < 0) end = b.length;
      yield [this.startOff + i, decodeUtf8(this.#view, i, end)];
      i = end + 1;
    }
  }
}
