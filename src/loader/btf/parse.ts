/**
 * parseBtf: one pass over the type section that records each type's byte
 * offset and kind in typed arrays and validates it (known kind, fits in the
 * section, no unused info bits set, name offsets and type-id references in
 * range). Like libbpf (and unlike the kernel) it accepts a non-zero vlen on
 * kinds without one and a non-zero size/type word on ARRAY and FWD (gcc emits
 * those); such values are kept as rawVlen / rawSizeOrType for re-encoding.
 * Types are decoded to objects only when asked for (see decode.ts).
 */

import { LoaderError } from '../errors.js';
import { Btf } from './btf.js';
import { parseBtfHeader, type BtfHeader } from './header.js';
import { BtfStrings } from './strings.js';
import { BTF_KIND, BTF_KIND_MAX, BTF_KIND_NAMES } from './types.js';

export interface ParseBtfOptions {
  /** Base BTF for split BTF (e.g. vmlinux for a module's BTF). */
  base?: Btf;
}

/** Field names for error details, indexed by the codes `Extremes` records. */
const FIELDS = [
  'name_off',
  'type',
  'array.type',
  'array.index_type',
  'member.type',
  'param.type',
  'var_secinfo.type',
  'member.name_off',
  'enum.name_off',
  'param.name_off',
];

function malformed(message: string, details: Record<string, unknown>): LoaderError {
  return new LoaderError('BTF_MALFORMED', `btf: ${message}`, details);
}

export function parseBtf(bytes: Uint8Array, opts: ParseBtfOptions = {}): Btf {
  const base = opts.base;
  const header = parseBtfHeader(bytes, { split: base !== undefined });
  const le = header.byteOrder === 'little';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const strings = readStrings(bytes, header, base);
  const startId = base ? base.totalCount : 1;
  const table = scanTypes(dv, le, header, startId);
  checkExtremes(table.extremes, startId + table.count, strings.endOff);
  return new Btf({ bytes, dv, le, header, offsets: table.offsets, kinds: table.kinds, strings, base, startId });
}

/** The string section: NUL first (unless split, where it continues the base's) and NUL-terminated. */
function readStrings(bytes: Uint8Array, header: BtfHeader, base: Btf | undefined): BtfStrings {
  const strStart = header.hdrLen + header.strOff;
  const strBytes = bytes.subarray(strStart, strStart + header.strLen);
  if (strBytes.length > 0) {
    if (!base && strBytes[0] !== 0) {
      throw malformed('string section does not start with NUL', { field: 'str_off', offset: strStart, got: strBytes[0], want: 0 });
    }
    if (strBytes[strBytes.length - 1] !== 0) {
      throw malformed('string section is not NUL-terminated', {
        field: 'str_len',
        offset: strStart + strBytes.length - 1,
        got: strBytes[strBytes.length - 1],
        want: 0,
      });
    }
  }
  return new BtfStrings(strBytes, base?.strings);
}

/**
 * The largest name offset and type id the types reference, and where (type id and FIELDS
 * code): one comparison per reference during the pass, checked once the count is known.
 */
class Extremes {
  maxName = 0;
  maxNameId = 0;
  maxNameField = 0;
  maxRef = 0;
  maxRefId = 0;
  maxRefField = 0;

  name(off: number, id: number, field: number): void {
    if (off > this.maxName) {
      this.maxName = off;
      this.maxNameId = id;
      this.maxNameField = field;
    }
  }

  ref(typeId: number, id: number, field: number): void {
    if (typeId > this.maxRef) {
      this.maxRef = typeId;
      this.maxRefId = id;
      this.maxRefField = field;
    }
  }
}

interface TypeTable {
  /** Byte offset of each type record, index = id - startId. */
  offsets: Uint32Array;
  kinds: Uint8Array;
  count: number;
  extremes: Extremes;
}

/** The pass over the type section: each record's offset and kind, validated as it goes. */
function scanTypes(dv: DataView, le: boolean, header: BtfHeader, startId: number): TypeTable {
  const typeStart = header.hdrLen + header.typeOff;
  const typeEnd = typeStart + header.typeLen;
  const maxTypes = Math.floor(header.typeLen / 12);
  const offsets = new Uint32Array(maxTypes);
  const kinds = new Uint8Array(maxTypes);
  const extremes = new Extremes();
  let n = 0;
  let pos = typeStart;
  while (pos < typeEnd) {
    const id = startId + n;
    if (pos + 12 > typeEnd) throw truncated(id, pos, typeEnd);
    const info = dv.getUint32(pos + 4, le);
    const kind = (info >>> 24) & 0x1f;
    extremes.name(dv.getUint32(pos, le), id, 0);
    if ((info & 0x60ff0000) !== 0 || kind === 0 || kind > BTF_KIND_MAX) throw badInfo(id, pos, info);
    const vlen = info & 0xffff;
    const size = typeSize(dv, le, pos, typeEnd, id, kind, vlen, extremes);
    if (pos + size > typeEnd) {
      throw malformed(
        `type [${id}] ${BTF_KIND_NAMES[kind]} (vlen ${vlen}) needs ${size} bytes, only ${typeEnd - pos} left in type section`,
        {
          typeId: id,
          field: 'vlen',
          offset: pos,
          got: typeEnd - pos,
          want: size,
        },
      );
    }
    offsets[n] = pos;
    kinds[n] = kind;
    n++;
    pos += size;
  }
  return {
    offsets: n === maxTypes ? offsets : offsets.slice(0, n),
    kinds: n === maxTypes ? kinds : kinds.slice(0, n),
    count: n,
    extremes,
  };
}

/** The type section ends inside the 12-byte common record of type `id`. */
function truncated(id: number, pos: number, typeEnd: number): LoaderError {
  return malformed(`type [${id}] truncated: ${typeEnd - pos} bytes left, need 12`, {
    typeId: id,
    field: 'type',
    offset: pos,
    got: typeEnd - pos,
    want: 12,
  });
}

/** The common record's info word has unused bits set, or a kind this parser does not know. */
function badInfo(id: number, pos: number, info: number): LoaderError {
  const kind = (info >>> 24) & 0x1f;
  if ((info & 0x60ff0000) !== 0)
    return malformed(`type [${id}] has unused info bits set (info 0x${info.toString(16)})`, {
      typeId: id,
      field: 'info',
      offset: pos + 4,
      got: info,
    });
  return malformed(`type [${id}] has unknown kind ${kind}`, { typeId: id, field: 'kind', offset: pos + 4, got: kind });
}

/**
 * The record's size with what follows the common part, its references recorded in `extremes`.
 * The data after the common part is read only when it fits before `typeEnd` (the caller reports
 * a record that does not fit).
 */
function typeSize(
  dv: DataView,
  le: boolean,
  pos: number,
  typeEnd: number,
  id: number,
  kind: number,
  vlen: number,
  extremes: Extremes,
): number {
  const st = dv.getUint32(pos + 8, le);
  switch (kind) {
    case BTF_KIND.INT:
      if (pos + 16 <= typeEnd) checkIntData(dv.getUint32(pos + 12, le), st, id, pos);
      return 16;
    case BTF_KIND.PTR:
    case BTF_KIND.TYPEDEF:
    case BTF_KIND.VOLATILE:
    case BTF_KIND.CONST:
    case BTF_KIND.RESTRICT:
    case BTF_KIND.TYPE_TAG:
    case BTF_KIND.FUNC:
      extremes.ref(st, id, 1);
      return 12;
    case BTF_KIND.VAR:
    case BTF_KIND.DECL_TAG:
      extremes.ref(st, id, 1);
      return 16;
    case BTF_KIND.ARRAY:
      if (pos + 24 <= typeEnd) {
        extremes.ref(dv.getUint32(pos + 12, le), id, 2);
        extremes.ref(dv.getUint32(pos + 16, le), id, 3);
      }
      return 24;
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION:
    case BTF_KIND.DATASEC:
      return membersSize(dv, le, pos, typeEnd, id, kind === BTF_KIND.DATASEC, vlen, extremes);
    case BTF_KIND.ENUM:
    case BTF_KIND.ENUM64:
      return enumeratorsSize(dv, le, pos, typeEnd, id, kind === BTF_KIND.ENUM ? 8 : 12, vlen, extremes);
    case BTF_KIND.FUNC_PROTO:
      extremes.ref(st, id, 1);
      return paramsSize(dv, le, pos, typeEnd, id, vlen, extremes);
    default: // FWD, FLOAT
      return 12;
  }
}

function checkIntData(data: number, size: number, id: number, pos: number): void {
  const bits = data & 0xff,
    off = (data >>> 16) & 0xff;
  if ((data & 0xf000ff00) !== 0 || bits > 128 || bits + off > size * 8) {
    throw malformed(`type [${id}] INT has invalid encoding data 0x${data.toString(16)} (size ${size})`, {
      typeId: id,
      field: 'int_data',
      offset: pos + 12,
      got: data,
    });
  }
}

/** STRUCT / UNION members (name, type, offset) or DATASEC variables (type, offset, size): 12 bytes each. */
function membersSize(
  dv: DataView,
  le: boolean,
  pos: number,
  typeEnd: number,
  id: number,
  isDatasec: boolean,
  vlen: number,
  extremes: Extremes,
): number {
  const size = 12 + 12 * vlen;
  if (pos + size > typeEnd) return size;
  for (let p = pos + 12, e = pos + size; p < e; p += 12) {
    if (isDatasec) extremes.ref(dv.getUint32(p, le), id, 6);
    else {
      extremes.name(dv.getUint32(p, le), id, 7);
      extremes.ref(dv.getUint32(p + 4, le), id, 4);
    }
  }
  return size;
}

/** ENUM (8-byte) or ENUM64 (12-byte) enumerators: a name each. */
function enumeratorsSize(
  dv: DataView,
  le: boolean,
  pos: number,
  typeEnd: number,
  id: number,
  rec: number,
  vlen: number,
  extremes: Extremes,
): number {
  const size = 12 + rec * vlen;
  if (pos + size > typeEnd) return size;
  for (let p = pos + 12, e = pos + size; p < e; p += rec) extremes.name(dv.getUint32(p, le), id, 8);
  return size;
}

/** FUNC_PROTO parameters (name, type): 8 bytes each. */
function paramsSize(dv: DataView, le: boolean, pos: number, typeEnd: number, id: number, vlen: number, extremes: Extremes): number {
  const size = 12 + 8 * vlen;
  if (pos + size > typeEnd) return size;
  for (let p = pos + 12, e = pos + size; p < e; p += 8) {
    extremes.name(dv.getUint32(p, le), id, 9);
    extremes.ref(dv.getUint32(p + 4, le), id, 5);
  }
  return size;
}

/** Every referenced type id exists and every name offset is inside the string section. */
function checkExtremes(x: Extremes, totalCount: number, strEnd: number): void {
  if (x.maxRef >= totalCount) {
    throw malformed(
      `type [${x.maxRefId}] field ${FIELDS[x.maxRefField]} references type id ${x.maxRef}, but the last type id is ${totalCount - 1}`,
      {
        typeId: x.maxRefId,
        field: FIELDS[x.maxRefField],
        got: x.maxRef,
        want: `< ${totalCount}`,
      },
    );
  }
  if (x.maxName >= strEnd && x.maxName !== 0) {
    throw malformed(
      `type [${x.maxNameId}] field ${FIELDS[x.maxNameField]} is string offset ${x.maxName}, past the end of the string section (${strEnd})`,
      {
        typeId: x.maxNameId,
        field: FIELDS[x.maxNameField],
        got: x.maxName,
        want: `< ${strEnd}`,
      },
    );
  }
}
