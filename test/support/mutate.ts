/**
 * Mutation operators for the verification mutation suite: each takes genuine material (a bundle's
 * JSON value or text, a gen directory's files, a light skeleton's text) and returns named variants.
 * Pure and deterministic (no randomness): the same inputs give the same variants, so a failing
 * variant can be named and rerun.
 */

/** `count` byte positions spread over `length` bytes: the first, the last and evenly between. */
export function spread(length: number, count: number): number[] {
  if (length <= 0) return [];
  const out = new Set<number>([0, length - 1]);
  for (let i = 1; out.size < Math.min(count, length) && i < count * 4; i++) out.add(Math.floor((i * (length - 1)) / count) % length);
  return [...out].sort((a, b) => a - b);
}

/** `b64` decoded, one bit of byte `at` flipped (bit `at % 8`, so positions vary the bit), re-encoded canonically. */
export function flipB64(b64: string, at: number): string {
  const b = Buffer.from(b64, 'base64');
  b[at % b.length] ^= 1 << (at % 8);
  return b.toString('base64');
}

/** Bytes with one bit of byte `at` flipped. */
export function flipBytes(bytes: Uint8Array, at: number): Uint8Array {
  const b = new Uint8Array(bytes);
  b[at % b.length] ^= 1 << (at % 8);
  return b;
}

/**
 * Other spellings of the same bytes as canonical padded base64 (each must be refused: a field has
 * exactly one spelling), and near spellings of other bytes.
 */
export function nonCanonicalB64(b64: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const mid = Math.floor(b64.length / 8) * 4;
  out.push({ name: 'a space inside', text: `${b64.slice(0, mid)} ${b64.slice(mid)}` });
  out.push({ name: 'a newline inside', text: `${b64.slice(0, mid)}\n${b64.slice(mid)}` });
  out.push({ name: 'leading space', text: ` ${b64}` });
  out.push({ name: 'trailing newline', text: `${b64}\n` });
  if (b64.endsWith('=')) out.push({ name: 'padding dropped', text: b64.replace(/=+$/, '') });
  else out.push({ name: 'extra padding', text: `${b64}==` });
  if (/[+/]/.test(b64)) out.push({ name: 'URL-safe letters', text: b64.replace(/\+/g, '-').replace(/\//g, '_') });
  else out.push({ name: 'URL-safe letters (none to change: a dash appended)', text: `${b64}-` });
  out.push({ name: 'text after the padding', text: `${b64}AA==` });
  // Non-zero bits in the padding: the last character before '=' carries unused low bits.
  const m = /([A-Za-z0-9+/])(=+)$/.exec(b64);
  if (m) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const v = alphabet.indexOf(m[1]);
    out.push({ name: 'non-zero padding bits', text: `${b64.slice(0, m.index)}${alphabet[v | 1]}${m[2]}` });
  } else {
    out.push({ name: 'a lone trailing character', text: `${b64}A` });
  }
  out.push({ name: 'upper-cased', text: b64.toUpperCase() });
  return out.filter((v) => v.text !== b64);
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Path = (string | number)[];

/** A deep copy with the value at `path` replaced (`undefined` drops it). */
export function setAt(value: Json, path: Path, to: Json | undefined): Json {
  const copy = structuredClone(value);
  let o: any = copy;
  for (const k of path.slice(0, -1)) o = o[k];
  const last = path[path.length - 1];
  if (to === undefined) {
    if (Array.isArray(o)) o.splice(last as number, 1);
    else delete o[last];
  } else o[last] = to;
  return copy;
}

export function getAt(value: Json, path: Path): Json | undefined {
  let o: any = value;
  for (const k of path) {
    if (o === null || typeof o !== 'object') return undefined;
    o = o[k];
  }
  return o;
}

/**
 * JSON text of `value` in which the object at `path` carries `key` twice: once with its own value
 * and once with `dup` — first (`dupFirst`) or last. A parser that keeps either one silently reads
 * a different bundle than another parser does; the strict reader refuses both.
 */
export function withDuplicateKey(value: Json, path: Path, key: string, dup: Json, dupFirst: boolean): string {
  const write = (v: Json, here: Path): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map((x, i) => write(x, [...here, i])).join(',')}]`;
    const parts = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${write(x, [...here, k])}`);
    if (here.length === path.length && here.every((k, i) => k === path[i])) {
      const extra = `${JSON.stringify(key)}:${JSON.stringify(dup)}`;
      const i = Object.keys(v).indexOf(key);
      if (dupFirst) parts.splice(Math.max(0, i), 0, extra);
      else parts.splice(i < 0 ? parts.length : i + 1, 0, extra);
    }
    return `{${parts.join(',')}}`;
  };
  return write(value, []);
}

/** A PEM certificate's DER. */
export function pemDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

export function derPem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** The byte range [start, end) of a light skeleton's string literal `static const char NAME[] … = "\ … ";`. */
export function literalRange(text: string, name: string): { start: number; end: number } | null {
  const head = new RegExp(`static const char ${name}\\[\\][^=]*= "\\\\\\n`).exec(text);
  if (!head) return null;
  const start = head.index + head[0].length;
  const end = text.indexOf('";', start);
  return end < 0 ? null : { start, end };
}

/**
 * Header texts with one `\xNN` escape of literal `name` changed to `\xMM` (MM = NN with one bit
 * flipped, never 00 so the width and the emitter's spelling stay): a changed embedded byte whose
 * line still prints as the emitter prints it, so only the signature, the hash or the plan can tell.
 */
export function flipHeaderLiteral(text: string, name: string, count: number): { at: number; text: string }[] {
  const r = literalRange(text, name);
  if (!r) return [];
  const escapes: number[] = [];
  const re = /\\x([0-9a-f]{2})/g;
  re.lastIndex = r.start;
  for (let m = re.exec(text); m && m.index < r.end; m = re.exec(text)) escapes.push(m.index);
  const out: { at: number; text: string }[] = [];
  for (const k of spread(escapes.length, count)) {
    const i = escapes[k];
    const v = parseInt(text.slice(i + 2, i + 4), 16);
    let bit = k % 8;
    let w = v ^ (1 << bit);
    while (w === 0) w = v ^ (1 << (++bit % 8));
    out.push({ at: k, text: `${text.slice(0, i + 2)}${w.toString(16).padStart(2, '0')}${text.slice(i + 4)}` });
  }
  return out;
}

/** The literal's text (between the opening line and `";`), to move between headers. */
export function literalText(text: string, name: string): string | null {
  const r = literalRange(text, name);
  return r ? text.slice(r.start, r.end) : null;
}

export function replaceLiteral(text: string, name: string, body: string): string {
  const r = literalRange(text, name)!;
  return `${text.slice(0, r.start)}${body}${text.slice(r.end)}`;
}

/** Counts of variants by operator, and the variants an oracle found wrongly accepted. */
export class Tally {
  readonly counts = new Map<string, { variants: number; refused: number; accepted: number }>();
  readonly falseOk: { op: string; name: string; why: string }[] = [];
  readonly crashes: { op: string; name: string; error: string }[] = [];

  add(op: string, refused: boolean): void {
    const c = this.counts.get(op) ?? { variants: 0, refused: 0, accepted: 0 };
    c.variants++;
    if (refused) c.refused++;
    else c.accepted++;
    this.counts.set(op, c);
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.variants;
    return n;
  }

  table(): string {
    const rows = [...this.counts].map(
      ([op, c]) => `${op.padEnd(58)} ${String(c.variants).padStart(5)} ${String(c.refused).padStart(7)} ${String(c.accepted).padStart(8)}`,
    );
    return [
      `${'operator'.padEnd(58)} ${'count'.padStart(5)} ${'refused'.padStart(7)} ${'accepted'.padStart(8)}`,
      ...rows,
      `${'total'.padEnd(58)} ${String(this.total).padStart(5)}`,
    ].join('\n');
  }
}
