/**
 * Type queries that follow references: resolve (skip typedefs and
 * modifiers), size computation, struct members and member-path offsets.
 * They take anything that can look a type up by id.
 */

import { LoaderError } from '../errors.js';
import { BTF_KIND as K, BTF_KIND_NAMES, type BtfMember, type BtfType } from './types.js';

export interface TypeSource {
  /** One past the largest valid type id (void and base types included). */
  readonly totalCount: number;
  type(id: number): BtfType;
  /** Numeric kind (0 for void) without decoding. */
  kindNumber(id: number): number;
  /** The raw size-or-type word of the type record (0 for void) without decoding. */
  sizeOrType(id: number): number;
}

export interface MemberLocation {
  /** Offset from the start of the outer type, in bits. */
  bitOffset: number;
  /** floor(bitOffset / 8). */
  byteOffset: number;
  /** Type id of the member reached. */
  type: number;
  /** Non-zero for a bitfield member. */
  bitfieldSize: number;
}

function cycle(id: number, what: string): LoaderError {
  return new LoaderError('BTF_MALFORMED', `btf: reference loop while ${what} type [${id}]`, { typeId: id, field: 'type' });
}

function notFound(message: string, details: Record<string, unknown>): LoaderError {
  return new LoaderError('BTF_NOT_FOUND', `btf: ${message}`, details);
}

/** Follows TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG to the underlying type id. */
export function resolveType(src: TypeSource, id: number): number {
  let cur = id;
  for (let steps = 0; ; steps++) {
    if (steps > src.totalCount) throw cycle(id, 'resolving');
    const k = src.kindNumber(cur);
    if (k === K.TYPEDEF || k === K.CONST || k === K.VOLATILE || k === K.RESTRICT || k === K.TYPE_TAG) {
      cur = src.sizeOrType(cur);
    } else {
      return cur;
    }
  }
}

/** Follows CONST, VOLATILE, RESTRICT and TYPE_TAG (but not TYPEDEF). */
export function skipModifiers(src: TypeSource, id: number): number {
  let cur = id;
  for (let steps = 0; ; steps++) {
    if (steps > src.totalCount) throw cycle(id, 'skipping modifiers of');
    const k = src.kindNumber(cur);
    if (k === K.CONST || k === K.VOLATILE || k === K.RESTRICT || k === K.TYPE_TAG) {
      cur = src.sizeOrType(cur);
    } else {
      return cur;
    }
  }
}

/** Size in bytes of a value of type `id` (pointers are 8 bytes). */
export function sizeOfType(src: TypeSource, id: number): number {
  let mult = 1;
  let cur = id;
  for (let steps = 0; ; steps++) {
    if (steps > src.totalCount) throw cycle(id, 'computing the size of');
    const k = src.kindNumber(cur);
    let size: number;
    switch (k) {
      case K.INT:
      case K.ENUM:
      case K.ENUM64:
      case K.STRUCT:
      case K.UNION:
      case K.FLOAT:
      case K.DATASEC:
        size = src.sizeOrType(cur);
        break;
      case K.PTR:
        size = 8;
        break;
      case K.TYPEDEF:
      case K.CONST:
      case K.VOLATILE:
      case K.RESTRICT:
      case K.TYPE_TAG:
      case K.VAR:
        cur = src.sizeOrType(cur);
        continue;
      case K.ARRAY: {
        const t = src.type(cur);
        if (t.kind !== 'ARRAY') throw cycle(cur, 'decoding');
        mult *= t.nelems;
        cur = t.elemType;
        continue;
      }
      default:
        throw notFound(`type [${cur}] ${BTF_KIND_NAMES[k]} has no size`, { typeId: cur, got: BTF_KIND_NAMES[k] });
    }
    const total = mult * size;
    if (total > 0xffffffff) {
      throw new LoaderError('BTF_MALFORMED', `btf: size of type [${id}] overflows 32 bits`, { typeId: id, field: 'size', got: total });
    }
    return total;
  }
}

/** Members of the struct or union `id` refers to (after resolving typedefs and modifiers). */
export function membersOf(src: TypeSource, id: number): BtfMember[] {
  const rid = resolveType(src, id);
  const t = src.type(rid);
  if (t.kind !== 'STRUCT' && t.kind !== 'UNION') {
    throw notFound(`type [${id}] is ${t.kind}, not a struct or union`, { typeId: id, got: t.kind, want: 'STRUCT|UNION' });
  }
  return t.members;
}

/** Splits "a.b[3].c" into ['a', 'b', 3, 'c']. */
export function parseMemberPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([A-Za-z_$][\w$]*)|\[(\d+)\]|(\.)/gy;
  let expectName = true;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    expectName = m[3] !== undefined;
  }
  if (re.lastIndex !== path.length || expectName || out.length === 0) {
    throw notFound(`bad member path '${path}'`, { field: 'path', got: path });
  }
  return out;
}

/** Finds `name` among members, descending into anonymous struct/union members like C does. */
function findMember(src: TypeSource, compositeId: number, name: string, depth: number): { m: BtfMember; bitOffset: number } | undefined {
  if (depth > 64) return undefined;
  const members = membersOf(src, compositeId);
  for (const m of members) if (m.name === name) return { m, bitOffset: m.bitOffset };
  for (const m of members) {
    if (m.name !== '') continue;
    const inner = src.type(resolveType(src, m.type));
    if (inner.kind !== 'STRUCT' && inner.kind !== 'UNION') continue;
    const found = findMember(src, inner.id, name, depth + 1);
    if (found) return { m: found.m, bitOffset: m.bitOffset + found.bitOffset };
  }
  return undefined;
}

/** Bit/byte offset of a member path such as "sk.__sk_common.skc_family" or "data[2]" inside type `id`. */
export function memberOffsetOf(src: TypeSource, id: number, path: string | (string | number)[]): MemberLocation {
  const segs = typeof path === 'string' ? parseMemberPath(path) : path;
  let cur = id;
  let bitOffset = 0;
  let bitfieldSize = 0;
  for (const seg of segs) {
    if (typeof seg === 'number') {
      const rid = resolveType(src, cur);
      const t = src.type(rid);
      if (t.kind !== 'ARRAY') {
        throw notFound(`index [${seg}] applied to type [${rid}] ${t.kind}, not an array`, { typeId: rid, got: t.kind, want: 'ARRAY' });
      }
      bitOffset += seg * sizeOfType(src, t.elemType) * 8;
      cur = t.elemType;
      bitfieldSize = 0;
    } else {
      const found = findMember(src, cur, seg, 0);
      if (!found) throw notFound(`type [${cur}] has no member '${seg}'`, { typeId: cur, field: seg });
      bitOffset += found.bitOffset;
      cur = found.m.type;
      bitfieldSize = found.m.bitfieldSize;
    }
  }
  return { bitOffset, byteOffset: Math.floor(bitOffset / 8), type: cur, bitfieldSize };
}
