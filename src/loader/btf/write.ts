/**
 * Encoding BtfType objects back to the binary type-section format, and
 * assembling a whole BTF blob (header, type section, string section).
 */

import { LoaderError } from '../errors.js';
import { type BtfHeader, writeBtfHeader } from './header.js';
import { BTF_HEADER_SIZE, BTF_KIND, BTF_MAGIC, BTF_VERSION, type BtfType, type ByteOrder } from './types.js';

function bad(t: BtfType, field: string, got: unknown, want: unknown): LoaderError {
  return new LoaderError('BTF_MALFORMED', `btf: cannot encode type [${t.id}] ${t.kind}: field ${field} is ${String(got)}`, {
    typeId: t.id,
    field,
    got,
    want,
  });
}

function u32(t: BtfType, field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad(t, field, v, 'u32');
  return v;
}

function vlenOf(t: BtfType, n: number): number {
  if (n > 0xffff) throw bad(t, 'vlen', n, '<= 65535');
  return n;
}

/** Number of bytes `t` occupies in the type section. */
export function typeByteSize(t: BtfType): number {
  switch (t.kind) {
    case 'INT':
    case 'VAR':
    case 'DECL_TAG':
      return 16;
    case 'ARRAY':
      return 24;
    case 'STRUCT':
    case 'UNION':
      return 12 + 12 * t.members.length;
    case 'DATASEC':
      return 12 + 12 * t.vars.length;
    case 'ENUM':
      return 12 + 8 * t.enumerators.length;
    case 'ENUM64':
      return 12 + 12 * t.enumerators.length;
    case 'FUNC_PROTO':
      return 12 + 8 * t.params.length;
    case 'VOID':
      throw bad(t, 'kind', 'VOID', 'a real type');
    default:
      return 12;
  }
}

/** Writes `t` at `pos`; returns the position after it. */
export function encodeType(dv: DataView, pos: number, t: BtfType, le: boolean): number {
  const kindNum = BTF_KIND[t.kind];
  let vlen = 0;
  let st = 0;
  let p = pos + 12;
  switch (t.kind) {
    case 'VOID':
      throw bad(t, 'kind', 'VOID', 'a real type');
    case 'INT': {
      st = t.size;
      if (t.encoding > 0xf || t.bitOffset > 0xff || t.bits > 0xff)
        throw bad(t, 'int_data', `${t.encoding}/${t.bitOffset}/${t.bits}`, 'encoding<16, offset<256, bits<256');
      dv.setUint32(p, ((t.encoding << 24) | (t.bitOffset << 16) | t.bits) >>> 0, le);
      p += 4;
      break;
    }
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      st = t.type;
      break;
    case 'ARRAY':
      dv.setUint32(p, u32(t, 'elemType', t.elemType), le);
      dv.setUint32(p + 4, u32(t, 'indexType', t.indexType), le);
      dv.setUint32(p + 8, u32(t, 'nelems', t.nelems), le);
      p += 12;
      break;
    case 'STRUCT':
    case 'UNION': {
      st = t.size;
      vlen = vlenOf(t, t.members.length);
      for (const m of t.members) {
        let off = m.bitOffset;
        if (t.kindFlag) {
          if (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff)
            throw bad(t, `member ${m.name}`, `${m.bitOffset}:${m.bitfieldSize}`, 'offset < 2^24, bitfield size < 256');
          off = (m.bitfieldSize * 0x1000000 + m.bitOffset) >>> 0;
        } else if (m.bitfieldSize !== 0) {
          throw bad(t, `member ${m.name}.bitfieldSize`, m.bitfieldSize, '0 unless kindFlag is set');
        }
        dv.setUint32(p, u32(t, 'member.nameOff', m.nameOff), le);
        dv.setUint32(p + 4, u32(t, 'member.type', m.type), le);
        dv.setUint32(p + 8, u32(t, 'member.bitOffset', off), le);
        p += 12;
      }
      break;
    }
    case 'ENUM':
      st = t.size;
      vlen = vlenOf(t, t.enumerators.length);
      for (const e of t.enumerators) {
        dv.setUint32(p, u32(t, 'enumerator.nameOff', e.nameOff), le);
        if (!Number.isInteger(e.value) || e.value < -0x80000000 || e.value > 0xffffffff)
          throw bad(t, `enumerator ${e.name}`, e.value, '32-bit');
        dv.setUint32(p + 4, e.value >>> 0, le);
        p += 8;
      }
      break;
    case 'ENUM64':
      st = t.size;
      vlen = vlenOf(t, t.enumerators.length);
      for (const e of t.enumerators) {
        const v = BigInt.asUintN(64, e.value);
        dv.setUint32(p, u32(t, 'enumerator.nameOff', e.nameOff), le);
        dv.setUint32(p + 4, Number(v & 0xffffffffn), le);
        dv.setUint32(p + 8, Number(v >> 32n), le);
        p += 12;
      }
      break;
    case 'FWD':
    case 'FLOAT':
      st = t.kind === 'FLOAT' ? t.size : 0;
      break;
    case 'FUNC':
      st = t.type;
      vlen = vlenOf(t, t.linkage);
      break;
    case 'FUNC_PROTO':
      st = t.type;
      vlen = vlenOf(t, t.params.length);
      for (const prm of t.params) {
        dv.setUint32(p, u32(t, 'param.nameOff', prm.nameOff), le);
        dv.setUint32(p + 4, u32(t, 'param.type', prm.type), le);
        p += 8;
      }
      break;
    case 'VAR':
      st = t.type;
      dv.setUint32(p, u32(t, 'linkage', t.linkage), le);
      p += 4;
      break;
    case 'DATASEC':
      st = t.size;
      vlen = vlenOf(t, t.vars.length);
      for (const v of t.vars) {
        dv.setUint32(p, u32(t, 'var.type', v.type), le);
        dv.setUint32(p + 4, u32(t, 'var.offset', v.offset), le);
        dv.setUint32(p + 8, u32(t, 'var.size', v.size), le);
        p += 12;
      }
      break;
    case 'DECL_TAG':
      st = t.type;
      dv.setInt32(p, t.componentIdx, le);
      p += 4;
      break;
  }
  if (t.rawVlen !== undefined) vlen = vlenOf(t, t.rawVlen);
  if (t.rawSizeOrType !== undefined) st = t.rawSizeOrType;
  dv.setUint32(pos, u32(t, 'nameOff', t.nameOff), le);
  dv.setUint32(pos + 4, ((t.kindFlag ? 0x80000000 : 0) + kindNum * 0x1000000 + vlen) >>> 0, le);
  dv.setUint32(pos + 8, u32(t, 'size/type', st), le);
  return p;
}

/**
 * Builds a BTF blob. `layout` (a previously parsed header) keeps the original
 * hdr_len, byte order and section order when the section sizes still match;
 * otherwise types are placed first, then strings.
 */
export function encodeBtf(layout: BtfHeader | { byteOrder: ByteOrder }, types: readonly BtfType[], strBytes: Uint8Array): Uint8Array {
  let typeLen = 0;
  for (const t of types) typeLen += typeByteSize(t);
  const strLen = strBytes.length;
  let h: BtfHeader;
  if ('hdrLen' in layout && layout.typeLen === typeLen && layout.strLen === strLen) {
    h = layout;
  } else {
    const hdrLen = 'hdrLen' in layout ? layout.hdrLen : BTF_HEADER_SIZE;
    h = {
      byteOrder: layout.byteOrder,
      magic: BTF_MAGIC,
      version: BTF_VERSION,
      flags: 0,
      hdrLen,
      typeOff: 0,
      typeLen,
      strOff: typeLen,
      strLen,
    };
  }
  const out = new Uint8Array(h.hdrLen + Math.max(h.typeOff + typeLen, h.strOff + strLen));
  const dv = new DataView(out.buffer);
  writeBtfHeader(dv, h);
  const le = h.byteOrder === 'little';
  let pos = h.hdrLen + h.typeOff;
  for (const t of types) pos = encodeType(dv, pos, t, le);
  out.set(strBytes, h.hdrLen + h.strOff);
  return out;
}
