/**
 * Byte layouts of C structs as plain data: a field table plus encode/decode helpers
 * that work in either byte order. Pointers are u64; char arrays are 'name' fields.
 */
import { LoaderError } from '../errors.js';
function widthOf(f) {
    switch (f.type) {
        case 'u8': return 1;
        case 'u16': return 2;
        case 'u32':
        case 's32': return 4;
        case 'u64': return 8;
        case 'name': return f.size ?? 16;
    }
}
/** Writes `values` into `out` at `base` (fields not given stay as they are). */
export function writeStruct(layout, values, order, out, base = 0) {
    const buf = out ?? new Uint8Array(layout.size);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const le = order === 'le';
    for (const key of Object.keys(values)) {
        const f = layout.fields[key];
        const v = values[key];
        if (!f || v === undefined)
            continue;
        const at = base + f.offset;
        if (at + widthOf(f) > buf.length) {
            throw new LoaderError('OBJECT_MALFORMED', `${layout.name}: field ${key} at ${at} past end of buffer (${buf.length})`, { field: key, offset: at });
        }
        switch (f.type) {
            case 'u8':
                dv.setUint8(at, Number(v) & 0xff);
                break;
            case 'u16':
                dv.setUint16(at, Number(v) & 0xffff, le);
                break;
            case 'u32':
            case 's32':
                dv.setUint32(at, Number(v) >>> 0, le);
                break;
            case 'u64':
                dv.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), le);
                break;
            case 'name': {
                // strlcpy-like: at most size-1 bytes, rest zero.
                const size = f.size ?? 16;
                const bytes = new TextEncoder().encode(String(v)).subarray(0, size - 1);
                buf.fill(0, at, at + size);
                buf.set(bytes, at);
                break;
            }
        }
    }
    return buf;
}
/** Reads every field of `layout` from `bytes` at `base`. */
export function readStruct(layout, bytes, order, base = 0) {
    if (base < 0 || base + layout.size > bytes.length) {
        throw new LoaderError('OBJECT_MALFORMED', `${layout.name}: ${layout.size} bytes at ${base} past end of buffer (${bytes.length})`, { offset: base, got: bytes.length, want: base + layout.size });
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = order === 'le';
    const out = {};
    for (const key of Object.keys(layout.fields)) {
        const f = layout.fields[key];
        const at = base + f.offset;
        if (at + widthOf(f) > bytes.length)
            continue;
        switch (f.type) {
            case 'u8':
                out[key] = dv.getUint8(at);
                break;
            case 'u16':
                out[key] = dv.getUint16(at, le);
                break;
            case 'u32':
                out[key] = dv.getUint32(at, le);
                break;
            case 's32':
                out[key] = dv.getInt32(at, le);
                break;
            case 'u64':
                out[key] = dv.getBigUint64(at, le);
                break;
            case 'name': {
                const raw = bytes.subarray(at, at + (f.size ?? 16));
                const end = raw.indexOf(0);
                out[key] = new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
                break;
            }
        }
    }
    return out;
}
/** Byte offset of a field. */
export function offsetOf(layout, field) {
    return layout.fields[field].offset;
}
//# sourceMappingURL=layout.js.map