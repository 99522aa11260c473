/**
 * The BTF string section: NUL-terminated strings addressed by byte offset.
 * Split BTF continues the offset space of its base: offsets below
 * `startOff` refer into the base table, the rest into this section.
 * Strings are decoded lazily, on request.
 */
import { LoaderError } from '../errors.js';
const utf8 = new TextDecoder('utf-8', { fatal: false });
/** Decodes bytes[start, end) — short ASCII runs without TextDecoder (faster). */
export function decodeUtf8(bytes, start, end) {
    const len = end - start;
    if (len === 0)
        return '';
    if (len <= 32) {
        let s = '';
        for (let i = start; i < end; i++) {
            const c = bytes[i];
            if (c >= 0x80)
                return utf8.decode(bytes.subarray(start, end));
            s += String.fromCharCode(c);
        }
        return s;
    }
    return utf8.decode(bytes.subarray(start, end));
}
export class BtfStrings {
    /** This section's bytes (may be empty for split BTF). */
    bytes;
    /** Offset of bytes[0] in the combined offset space (0 for base BTF). */
    startOff;
    base;
    constructor(bytes, base) {
        this.bytes = bytes;
        this.base = base;
        this.startOff = base ? base.endOff : 0;
    }
    /** One past the last valid offset of the combined offset space. */
    get endOff() {
        return this.startOff + this.bytes.length;
    }
    has(off) {
        return Number.isInteger(off) && off >= 0 && off < this.endOff;
    }
    /** The string at `off`; throws BTF_MALFORMED when the offset is out of range. */
    get(off) {
        if (off < this.startOff) {
            if (this.base)
                return this.base.get(off);
            if (off === 0 && this.bytes.length === 0)
                return '';
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
        if (end < 0)
            end = b.length;
        return decodeUtf8(b, rel, end);
    }
    /** Iterates (offset, string) for every string that starts after a NUL in this section (own strings only). */
    *entries() {
        const b = this.bytes;
        let i = 0;
        while (i < b.length) {
            let end = b.indexOf(0, i);
            if (end < 0)
                end = b.length;
            yield [this.startOff + i, decodeUtf8(b, i, end)];
            i = end + 1;
        }
    }
}
//# sourceMappingURL=strings.js.map