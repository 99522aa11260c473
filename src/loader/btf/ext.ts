/**
 * .BTF.ext: per-section func_info, line_info and CO-RE relocation records.
 * Layout: header (magic, version, flags, hdr_len, then off/len pairs relative
 * to the end of the header), and per info block: u32 rec_size followed by
 * {u32 sec_name_off, u32 num_info, records[num_info]} groups. Records may be
 * larger than the size we know; the extra bytes are kept for re-encoding.
 */

import { LoaderError } from '../errors.js';
import type { Btf } from './btf.js';
import { BTF_MAGIC, type ByteOrder } from './types.js';

export const BTF_EXT_MIN_HEADER = 24;
export const BTF_EXT_CORE_HEADER = 32;
export const FUNC_INFO_MIN_SIZE = 8;
export const LINE_INFO_MIN_SIZE = 16;
export const CORE_RELO_MIN_SIZE = 16;

/** CO-RE relocation kind names, indexed by kind number (enum bpf_core_relo_kind). */
export const CORE_RELO_KIND_NAMES: readonly string[] = [
  'field_byte_offset',
  'field_byte_size',
  'field_exists',
  'field_signed',
  'field_lshift_u64',
  'field_rshift_u64',
  'type_id_local',
  'type_id_target',
  'type_exists',
  'type_size',
  'enumval_exists',
  'enumval_value',
  'type_matches',
];

export interface FuncInfoRecord {
  insnOff: number;
  typeId: number;
  extra?: Uint8Array;
}
export interface LineInfoRecord {
  insnOff: number;
  fileNameOff: number;
  fileName: string;
  lineOff: number;
  /** Source text of the line (may be empty). */
  lineText: string;
  line: number;
  column: number;
  extra?: Uint8Array;
}
export interface CoreReloRecord {
  insnOff: number;
  typeId: number;
  accessStrOff: number;
  accessStr: string;
  kind: number;
  /** e.g. 'field_byte_offset'; 'unknown(N)' for kinds we do not know. */
  kindName: string;
  extra?: Uint8Array;
}

export interface BtfExtSection<R> {
  section: string;
  sectionNameOff: number;
  records: R[];
}

export interface BtfExtLayout {
  hdrLen: number;
  funcInfoOff: number;
  funcInfoLen: number;
  lineInfoOff: number;
  lineInfoLen: number;
  coreReloOff: number;
  coreReloLen: number;
  /** Bytes after the header (data area) in the parsed blob. */
  dataLen: number;
  /**
   * Non-zero bytes of the data area outside every block (gcc, for example,
   * writes a record size for an empty core_relo block); offsets relative to
   * the data area.
   */
  uncovered: { off: number; bytes: Uint8Array }[];
}

export interface BtfExt {
  byteOrder: ByteOrder;
  version: number;
  flags: number;
  /** Record sizes as found (0 when the block is absent). */
  funcInfoRecSize: number;
  lineInfoRecSize: number;
  coreReloRecSize: number;
  funcInfo: BtfExtSection<FuncInfoRecord>[];
  lineInfo: BtfExtSection<LineInfoRecord>[];
  coreRelos: BtfExtSection<CoreReloRecord>[];
  /** Header and block placement as parsed (used to re-encode identically). */
  layout?: BtfExtLayout;
}

export function coreReloKindName(kind: number): string {
  return CORE_RELO_KIND_NAMES[kind] ?? `unknown(${kind})`;
}

function malformed(message: string, details: Record<string, unknown>): LoaderError {
  return new LoaderError('BTF_EXT_MALFORMED', `btf.ext: ${message}`, details);
}

/** Normalises 'le'/'be' (ELF reader style) to 'little'/'big'. */
export function normalizeByteOrder(order: ByteOrder | 'le' | 'be'): ByteOrder {
  return order === 'le' ? 'little' : order === 'be' ? 'big' : order;
}

interface BlockCtx {
  bytes: Uint8Array;
  dv: DataView;
  le: boolean;
  btf: Btf;
  block: string;
  minSize: number;
  /** Strings already decoded, by offset: line_info records repeat file names and lines. */
  strings: Map<number, string>;
}

function str(ctx: BlockCtx, off: number, field: string, at: number): string {
  if (!ctx.btf.strings.has(off)) {
    throw malformed(`${ctx.block}: ${field} ${off} at offset ${at} is outside the BTF string table (${ctx.btf.strings.endOff} bytes)`, {
      field,
      offset: at,
      got: off,
      want: `< ${ctx.btf.strings.endOff}`,
    });
  }
  let v = ctx.strings.get(off);
  if (v === undefined) {
    v = ctx.btf.strings.get(off);
    ctx.strings.set(off, v);
  }
  return v;
}

function typeRef(ctx: BlockCtx, id: number, at: number): number {
  if (id >= ctx.btf.totalCount) {
    throw malformed(`${ctx.block}: type id ${id} at offset ${at} does not exist (last is ${ctx.btf.totalCount - 1})`, {
      field: 'type_id',
      typeId: id,
      offset: at,
      got: id,
      want: `< ${ctx.btf.totalCount}`,
    });
  }
  return id;
}

function parseBlock<R>(
  ctx: BlockCtx,
  start: number,
  len: number,
  decode: (p: number, recSize: number) => R,
): { recSize: number; sections: BtfExtSection<R>[] } {
  const { dv, le, block } = ctx;
  const sections: BtfExtSection<R>[] = [];
  if (len === 0) return { recSize: 0, sections };
  if (len < 4)
    throw malformed(`${block}: block of ${len} bytes has no record size`, { field: `${block}_len`, offset: start, got: len, want: '>= 4' });
  const recSize = dv.getUint32(start, le);
  if (recSize < ctx.minSize || recSize % 4 !== 0 || recSize > len) {
    throw malformed(`${block}: record size ${recSize} invalid (minimum ${ctx.minSize}, multiple of 4)`, {
      field: 'rec_size',
      offset: start,
      got: recSize,
      want: `>= ${ctx.minSize}`,
    });
  }
  const end = start + len;
  let p = start + 4;
  while (p < end) {
    if (p + 8 > end)
      throw malformed(`${block}: section header at offset ${p} truncated`, { field: 'sec_hdr', offset: p, got: end - p, want: 8 });
    const nameOff = dv.getUint32(p, le);
    const num = dv.getUint32(p + 4, le);
    const section = str(ctx, nameOff, 'sec_name_off', p);
    if (num === 0)
      throw malformed(`${block}: section '${section}' has no records`, { section, field: 'num_info', offset: p + 4, got: 0, want: '> 0' });
    if (num > Math.floor((end - p - 8) / recSize)) {
      throw malformed(`${block}: section '${section}' claims ${num} records of ${recSize} bytes, only ${end - p - 8} bytes left`, {
        section,
        field: 'num_info',
        offset: p + 4,
        got: num,
        want: `<= ${Math.floor((end - p - 8) / recSize)}`,
      });
    }
    p += 8;
    const records: R[] = new Array(num);
    for (let i = 0; i < num; i++, p += recSize) records[i] = decode(p, recSize);
    sections.push({ section, sectionNameOff: nameOff, records });
  }
  return { recSize, sections };
}

function extraBytes(ctx: BlockCtx, p: number, recSize: number): Uint8Array | undefined {
  return recSize > ctx.minSize ? ctx.bytes.slice(p + ctx.minSize, p + recSize) : undefined;
}

/** Non-zero runs of `data` outside the [start, end) ranges. */
function uncoveredBytes(data: Uint8Array, ranges: [number, number][]): { off: number; bytes: Uint8Array }[] {
  const covered = new Uint8Array(data.length);
  for (const [a, b] of ranges) covered.fill(1, a, b);
  const out: { off: number; bytes: Uint8Array }[] = [];
  for (let i = 0; i < data.length; i++) {
    if (covered[i] || data[i] === 0) continue;
    let j = i;
    while (j < data.length && !covered[j]) j++;
    out.push({ off: i, bytes: data.slice(i, j) });
    i = j;
  }
  return out;
}

/** Parses .BTF.ext; `btf` supplies the string table and type count; `order` defaults to btf.byteOrder. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, order?: ByteOrder | 'le' | 'be'): BtfExt {
  const byteOrder = normalizeByteOrder(order ?? btf.byteOrder);
  const le = byteOrder === 'little';
  if (bytes.length < BTF_EXT_MIN_HEADER) {
    throw malformed(`data too short for header (${bytes.length} < ${BTF_EXT_MIN_HEADER} bytes)`, {
      field: 'header',
      got: bytes.length,
      want: BTF_EXT_MIN_HEADER,
    });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint16(0, le);
  if (magic !== BTF_MAGIC) {
    throw malformed(`bad magic 0x${magic.toString(16)} (byte order ${byteOrder})`, {
      field: 'magic',
      offset: 0,
      got: magic,
      want: BTF_MAGIC,
    });
  }
  const version = bytes[2],
    flags = bytes[3];
  if (version !== 1) throw malformed(`unsupported version ${version}`, { field: 'version', offset: 2, got: version, want: 1 });
  if (flags !== 0) throw malformed(`unsupported flags 0x${flags.toString(16)}`, { field: 'flags', offset: 3, got: flags, want: 0 });
  const hdrLen = dv.getUint32(4, le);
  if (hdrLen < BTF_EXT_MIN_HEADER || hdrLen > bytes.length) {
    throw malformed(`hdr_len ${hdrLen} invalid (data is ${bytes.length} bytes)`, {
      field: 'hdr_len',
      offset: 4,
      got: hdrLen,
      want: `${BTF_EXT_MIN_HEADER}..${bytes.length}`,
    });
  }
  const hasCore = hdrLen >= BTF_EXT_CORE_HEADER;
  const layout: BtfExtLayout = {
    hdrLen,
    funcInfoOff: dv.getUint32(8, le),
    funcInfoLen: dv.getUint32(12, le),
    lineInfoOff: dv.getUint32(16, le),
    lineInfoLen: dv.getUint32(20, le),
    coreReloOff: hasCore ? dv.getUint32(24, le) : 0,
    coreReloLen: hasCore ? dv.getUint32(28, le) : 0,
    dataLen: bytes.length - hdrLen,
    uncovered: [],
  };
  for (let i = hasCore ? BTF_EXT_CORE_HEADER : BTF_EXT_MIN_HEADER; i < hdrLen; i++) {
    if (bytes[i] !== 0)
      throw malformed(`unknown header byte at offset ${i} is not zero`, { field: 'hdr_len', offset: i, got: bytes[i], want: 0 });
  }
  const dataLen = bytes.length - hdrLen;
  const blocks = [
    ['func_info', layout.funcInfoOff, layout.funcInfoLen],
    ['line_info', layout.lineInfoOff, layout.lineInfoLen],
    ['core_relo', layout.coreReloOff, layout.coreReloLen],
  ] as const;
  for (const [name, off, len] of blocks) {
    if (len > 0 && (off % 4 !== 0 || off + len > dataLen)) {
      throw malformed(`${name} block [${off}, ${off + len}) is misaligned or past the end of data (${dataLen} bytes after header)`, {
        field: `${name}_off`,
        got: off + len,
        want: `<= ${dataLen}`,
      });
    }
  }
  layout.uncovered = uncoveredBytes(
    bytes.subarray(hdrLen),
    blocks.filter((b) => b[2] > 0).map((b) => [b[1], b[1] + b[2]]),
  );
  const seen = new Map<number, string>();
  const ctx = (block: string, minSize: number): BlockCtx => ({ bytes, dv, le, btf, block, minSize, strings: seen });

  const fctx = ctx('func_info', FUNC_INFO_MIN_SIZE);
  const fi = parseBlock(fctx, hdrLen + layout.funcInfoOff, layout.funcInfoLen, (p, rs) => {
    const r: FuncInfoRecord = { insnOff: dv.getUint32(p, le), typeId: typeRef(fctx, dv.getUint32(p + 4, le), p + 4) };
    const extra = extraBytes(fctx, p, rs);
    if (extra) r.extra = extra;
    return r;
  });
  const lctx = ctx('line_info', LINE_INFO_MIN_SIZE);
  const li = parseBlock(lctx, hdrLen + layout.lineInfoOff, layout.lineInfoLen, (p, rs) => {
    const fileNameOff = dv.getUint32(p + 4, le),
      lineOff = dv.getUint32(p + 8, le),
      lineCol = dv.getUint32(p + 12, le);
    const r: LineInfoRecord = {
      insnOff: dv.getUint32(p, le),
      fileNameOff,
      fileName: str(lctx, fileNameOff, 'file_name_off', p + 4),
      lineOff,
      lineText: str(lctx, lineOff, 'line_off', p + 8),
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
    };
    const extra = extraBytes(lctx, p, rs);
    if (extra) r.extra = extra;
    return r;
  });
  const cctx = ctx('core_relo', CORE_RELO_MIN_SIZE);
  const cr = parseBlock(cctx, hdrLen + layout.coreReloOff, layout.coreReloLen, (p, rs) => {
    const accessStrOff = dv.getUint32(p + 8, le),
      kind = dv.getUint32(p + 12, le);
    const r: CoreReloRecord = {
      insnOff: dv.getUint32(p, le),
      typeId: typeRef(cctx, dv.getUint32(p + 4, le), p + 4),
      accessStrOff,
      accessStr: str(cctx, accessStrOff, 'access_str_off', p + 8),
      kind,
      kindName: coreReloKindName(kind),
    };
    const extra = extraBytes(cctx, p, rs);
    if (extra) r.extra = extra;
    return r;
  });
  return {
    byteOrder,
    version,
    flags,
    funcInfoRecSize: fi.recSize,
    lineInfoRecSize: li.recSize,
    coreReloRecSize: cr.recSize,
    funcInfo: fi.sections,
    lineInfo: li.sections,
    coreRelos: cr.sections,
    layout,
  };
}
