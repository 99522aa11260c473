/**
 * Byte layouts of C structs as plain data: a field table plus encode/decode helpers
 * that work in either byte order. Pointers are u64; char arrays are 'name' fields.
 */
import { LoaderError } from '../errors.js';

export type FieldType = 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 'name';

export interface FieldSpec {
  offset: number;
  type: FieldType;
  /** Bytes, for 'name' fields. */
  size?: number;
}

export interface StructLayout<F extends string> {
  name: string;
  /** Bytes the kernel reads (offsetofend of the last field used). */
  size: number;
  fields: Readonly<Record<F, FieldSpec>>;
}

export type StructValues<F extends string> = Partial<Record<F, number | bigint | string>>;

export type Endian = 'le' | 'be';

function widthOf(f: FieldSpec): number {
  switch (f.type) {
    case 'u8': return 1;
    case 'u16': return 2;
    case 'u32': case 's32': return 4;
    case 'u64': return 8;
    case 'name': return f.size ?? 16;
  }
}

/** Writes `values` into `out` at `base` (fields not given stay as they are). */
export function writeStruct<F extends string>(layout: StructLayout<F>, values: StructValues<F>, order: Endian, out?: Uint8Array, base = 0): Uint8Array {
  const buf = out ?? new Uint8Array(layout.size);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = order === 'le';
  for (const key of Object.keys(values) as F[]) {
    const f = layout.fields[key];
    const v = values[key];
    if (!f || v === undefined) continue;
    const at = base + f.offset;
    if (at + widthOf(f) > buf.length) {
      throw new LoaderError('OBJECT_MALFORMED', `${layout.name}: field ${key} at ${at} past end of buffer (${buf.length})`, { field: key, offset: at });
    }
    switch (f.type) {
      case 'u8': dv.setUint8(at, Number(v) & 0xff); break;
      case 'u16': dv.setUint16(at, Number(v) & 0xffff, le); break;
      case 'u32': case 's32': dv.setUint32(at, Number(v) >>> 0, le); break;
      case 'u64': dv.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), le); break;
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
export function readStruct<F extends string>(layout: StructLayout<F>, bytes: Uint8Array, order: Endian, base = 0): Record<F, number | bigint | string> {
  if (base < 0 || base + layout.size > bytes.length) {
    throw new LoaderError('OBJECT_MALFORMED', `${layout.name}: ${layout.size} bytes at ${base} past end of buffer (${bytes.length})`, { offset: base, got: bytes.length, want: base + layout.size });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = order === 'le';
  const out = {} as Record<F, number | bigint | string>;
  for (const key of Object.keys(layout.fields) as F[]) {
    const f = layout.fields[key];
    const at = base + f.offset;
    if (at + widthOf(f) > bytes.length) continue;
    switch (f.type) {
      case 'u8': out[key] = dv.getUint8(at); break;
      case 'u16': out[key] = dv.getUint16(at, le); break;
      case 'u32': out[key] = dv.getUint32(at, le); break;
      case 's32': out[key] = dv.getInt32(at, le); break;
      case 'u64': out[key] = dv.getBigUint64(at, le); break;
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
export function offsetOf<F extends string>(layout: StructLayout<F>, field: F): number {
  return layout.fields[field].offset;
}

/** Named, typed reads of one struct in a buffer (no copy; each read goes to the bytes). */
export interface StructReader<F extends string> {
  /** An unsigned field (u8, u16, u32), or s32 read as unsigned. */
  u32(field: F): number;
  /** A signed 32-bit field. */
  s32(field: F): number;
  u64(field: F): bigint;
  /** The raw bytes of a field (for char arrays the caller checks itself). */
  bytes(field: F): Uint8Array;
}

/**
 * A reader over `bytes` at `base` for `layout`. Reads past the end of `bytes` throw RangeError
 * (the caller sizes the buffer: the kernel model reads a whole union bpf_attr).
 */
export function structReader<F extends string>(layout: StructLayout<F>, bytes: Uint8Array, order: Endian, base = 0): StructReader<F> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = order === 'le';
  const at = (field: F): FieldSpec => layout.fields[field];
  return {
    u32(field) {
      const f = at(field);
      switch (f.type) {
        case 'u8': return dv.getUint8(base + f.offset);
        case 'u16': return dv.getUint16(base + f.offset, le);
        default: return dv.getUint32(base + f.offset, le);
      }
    },
    s32: (field) => dv.getInt32(base + at(field).offset, le),
    u64: (field) => dv.getBigUint64(base + at(field).offset, le),
    bytes: (field) => {
      const f = at(field);
      return bytes.subarray(base + f.offset, base + f.offset + widthOf(f));
    },
  };
}
