/**
 * Encoding BtfExt back to .BTF.ext bytes. A parsed BtfExt whose blocks still
 * have their original sizes is written with its original layout (hdr_len,
 * block offsets), so an unmodified parse round-trips byte for byte.
 */

import { LoaderError } from '../errors.js';
import {
  BTF_EXT_CORE_HEADER,
  type BtfExt,
  type BtfExtLayout,
  type BtfExtSection,
  CORE_RELO_MIN_SIZE,
  FUNC_INFO_MIN_SIZE,
  LINE_INFO_MIN_SIZE,
  normalizeByteOrder,
} from './ext.js';
import { BTF_MAGIC, type ByteOrder } from './types.js';

interface BlockPlan<R> {
  name: string;
  sections: BtfExtSection<R>[];
  recSize: number;
  minSize: number;
  len: number;
  write: (dv: DataView, p: number, r: R, le: boolean) => void;
}

function bad(message: string, details: Record<string, unknown>): LoaderError {
  return new LoaderError('BTF_EXT_MALFORMED', `btf.ext: cannot encode: ${message}`, details);
}

function plan<R extends { extra?: Uint8Array }>(
  name: string,
  sections: BtfExtSection<R>[],
  recSize: number,
  minSize: number,
  write: (dv: DataView, p: number, r: R, le: boolean) => void,
): BlockPlan<R> {
  const rs = Math.max(recSize, minSize);
  if (rs % 4 !== 0) throw bad(`${name} record size ${rs} is not a multiple of 4`, { field: 'rec_size', got: rs });
  let len = 0;
  for (const s of sections) {
    if (s.records.length === 0) throw bad(`${name} section '${s.section}' has no records`, { section: s.section, field: 'num_info' });
    for (const r of s.records) {
      if (r.extra && r.extra.length > rs - minSize) {
        throw bad(`${name} record has ${r.extra.length} extra bytes but record size is ${rs}`, { section: s.section, field: 'extra' });
      }
    }
    len += 8 + s.records.length * rs;
  }
  return { name, sections, recSize: rs, minSize, len: len === 0 ? 0 : len + 4, write };
}

function u32(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad(`${field} ${v} is not a u32`, { field, got: v });
  return v;
}

export function writeBtfExt(ext: BtfExt, order?: ByteOrder | 'le' | 'be'): Uint8Array {
  const byteOrder = normalizeByteOrder(order ?? ext.byteOrder);
  const le = byteOrder === 'little';
  const blocks = [
    plan('func_info', ext.funcInfo, ext.funcInfoRecSize, FUNC_INFO_MIN_SIZE, (dv, p, r, l) => {
      dv.setUint32(p, u32(r.insnOff, 'insn_off'), l);
      dv.setUint32(p + 4, u32(r.typeId, 'type_id'), l);
    }),
    plan('line_info', ext.lineInfo, ext.lineInfoRecSize, LINE_INFO_MIN_SIZE, (dv, p, r, l) => {
      if (r.column > 0x3ff || r.line > 0x3fffff)
        throw bad(`line ${r.line} column ${r.column} does not fit line_col`, { field: 'line_col' });
      dv.setUint32(p, u32(r.insnOff, 'insn_off'), l);
      dv.setUint32(p + 4, u32(r.fileNameOff, 'file_name_off'), l);
      dv.setUint32(p + 8, u32(r.lineOff, 'line_off'), l);
      dv.setUint32(p + 12, (r.line * 1024 + r.column) >>> 0, l);
    }),
    plan('core_relo', ext.coreRelos, ext.coreReloRecSize, CORE_RELO_MIN_SIZE, (dv, p, r, l) => {
      dv.setUint32(p, u32(r.insnOff, 'insn_off'), l);
      dv.setUint32(p + 4, u32(r.typeId, 'type_id'), l);
      dv.setUint32(p + 8, u32(r.accessStrOff, 'access_str_off'), l);
      dv.setUint32(p + 12, u32(r.kind, 'kind'), l);
    }),
  ] as const;
  const [fi, li, cr] = blocks;

  let layout: BtfExtLayout;
  const old = ext.layout;
  const keep =
    old !== undefined &&
    old.funcInfoLen === fi.len &&
    old.lineInfoLen === li.len &&
    old.coreReloLen === cr.len &&
    (cr.len === 0 || old.hdrLen >= BTF_EXT_CORE_HEADER);
  if (keep) {
    layout = old;
  } else {
    layout = {
      hdrLen: BTF_EXT_CORE_HEADER,
      funcInfoOff: 0,
      funcInfoLen: fi.len,
      lineInfoOff: fi.len,
      lineInfoLen: li.len,
      coreReloOff: fi.len + li.len,
      coreReloLen: cr.len,
      dataLen: fi.len + li.len + cr.len,
      uncovered: [],
    };
  }
  const offs = [layout.funcInfoOff, layout.lineInfoOff, layout.coreReloOff];
  let dataLen = keep ? layout.dataLen : 0;
  blocks.forEach((b, i) => {
    if (b.len > 0) dataLen = Math.max(dataLen, offs[i] + b.len);
  });
  const out = new Uint8Array(layout.hdrLen + dataLen);
  const dv = new DataView(out.buffer);
  for (const u of layout.uncovered) {
    if (u.off + u.bytes.length <= dataLen) out.set(u.bytes, layout.hdrLen + u.off);
  }
  dv.setUint16(0, BTF_MAGIC, le);
  out[2] = ext.version;
  out[3] = ext.flags;
  dv.setUint32(4, layout.hdrLen, le);
  dv.setUint32(8, layout.funcInfoOff, le);
  dv.setUint32(12, layout.funcInfoLen, le);
  dv.setUint32(16, layout.lineInfoOff, le);
  dv.setUint32(20, layout.lineInfoLen, le);
  if (layout.hdrLen >= BTF_EXT_CORE_HEADER) {
    dv.setUint32(24, layout.coreReloOff, le);
    dv.setUint32(28, layout.coreReloLen, le);
  }
  blocks.forEach((b, i) => {
    if (b.len === 0) return;
    let p = layout.hdrLen + offs[i];
    dv.setUint32(p, b.recSize, le);
    p += 4;
    for (const s of b.sections as BtfExtSection<{ extra?: Uint8Array }>[]) {
      dv.setUint32(p, u32(s.sectionNameOff, 'sec_name_off'), le);
      dv.setUint32(p + 4, s.records.length, le);
      p += 8;
      for (const r of s.records) {
        (b.write as (dv: DataView, p: number, r: unknown, le: boolean) => void)(dv, p, r, le);
        if (r.extra) out.set(r.extra, p + b.minSize);
        p += b.recSize;
      }
    }
  });
  return out;
}
