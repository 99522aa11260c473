/**
 * A parsed BTF blob: typed-array index over the raw bytes, with types decoded
 * to plain objects on demand. Type ids: 0 is void; a base BTF owns ids
 * 1..typeCount; a split BTF owns ids startId..totalCount-1 where startId is
 * its base's totalCount, and can look up base ids too.
 */

import { LoaderError } from '../errors.js';
import { decodeTypeAt } from './decode.js';
import { dumpRaw } from './dump.js';
import type { BtfHeader } from './header.js';
import { type MemberLocation, memberOffsetOf, membersOf, resolveType, sizeOfType, skipModifiers } from './query.js';
import type { BtfStrings } from './strings.js';
import { BTF_KIND, BTF_KIND_NAMES, type BtfKindName, type BtfMember, type BtfType, type ByteOrder, VOID_TYPE } from './types.js';
import { encodeBtf } from './write.js';

export interface BtfIndex {
  bytes: Uint8Array;
  dv: DataView;
  le: boolean;
  header: BtfHeader;
  /** Byte offset (into bytes) of each own type, index = id - startId. */
  offsets: Uint32Array;
  /** Kind number of each own type. */
  kinds: Uint8Array;
  strings: BtfStrings;
  base: Btf | undefined;
  startId: number;
}

export class Btf {
  readonly byteOrder: ByteOrder;
  readonly header: BtfHeader;
  readonly strings: BtfStrings;
  readonly base: Btf | undefined;
  /** First type id owned by this BTF: 1 for base BTF, base.totalCount for split BTF. */
  readonly startId: number;
  /** Number of types owned by this BTF (void and base types excluded). */
  readonly typeCount: number;
  /** One past the largest valid id (= startId + typeCount), like libbpf's btf__type_cnt(). */
  readonly totalCount: number;

  readonly #ix: BtfIndex;
  #byName: Map<string, number[]> | undefined;

  constructor(ix: BtfIndex) {
    this.#ix = ix;
    this.byteOrder = ix.le ? 'little' : 'big';
    this.header = ix.header;
    this.strings = ix.strings;
    this.base = ix.base;
    this.startId = ix.startId;
    this.typeCount = ix.offsets.length;
    this.totalCount = ix.startId + ix.offsets.length;
  }

  #check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.totalCount) {
      throw new LoaderError('BTF_NOT_FOUND', `btf: no type with id ${id} (valid ids are 0..${this.totalCount - 1})`, {
        typeId: id,
        got: id,
        want: `< ${this.totalCount}`,
      });
    }
  }

  /** The decoded type `id` (id 0 is void). A fresh object on every call. */
  type(id: number): BtfType {
    if (id < this.startId) {
      if (id === 0) return VOID_TYPE;
      if (this.base && id > 0 && Number.isInteger(id)) return this.base.type(id);
    }
    this.#check(id);
    return decodeTypeAt(this.#ix.dv, this.#ix.le, this.#ix.offsets[id - this.startId], id, this.strings);
  }

  /** Kind name of type `id`, without decoding it. */
  kind(id: number): BtfKindName {
    if (id < this.startId && this.base && id > 0) return this.base.kind(id);
    this.#check(id);
    return id === 0 ? 'VOID' : BTF_KIND_NAMES[this.#ix.kinds[id - this.startId]];
  }

  /** Numeric kind of type `id` (0 for void). */
  kindNumber(id: number): number {
    if (id < this.startId && this.base && id > 0) return this.base.kindNumber(id);
    this.#check(id);
    return id === 0 ? 0 : this.#ix.kinds[id - this.startId];
  }

  /** The raw size-or-type word of type `id` (0 for void), without decoding. */
  sizeOrType(id: number): number {
    if (id < this.startId && this.base && id > 0) return this.base.sizeOrType(id);
    this.#check(id);
    return id === 0 ? 0 : this.#ix.dv.getUint32(this.#ix.offsets[id - this.startId] + 8, this.#ix.le);
  }

  /** Name of type `id` ('' if anonymous), without decoding the rest of it. */
  name(id: number): string {
    if (id < this.startId && this.base && id > 0) return this.base.name(id);
    this.#check(id);
    if (id === 0) return '';
    const off = this.#ix.dv.getUint32(this.#ix.offsets[id - this.startId], this.#ix.le);
    return off === 0 ? '' : this.strings.get(off);
  }

  /** The string at offset `off` of the (combined, for split BTF) string table. */
  string(off: number): string {
    return this.strings.get(off);
  }

  /** Iterates this BTF's own types in id order. */
  *types(): Generator<BtfType> {
    for (let id = this.startId; id < this.totalCount; id++) yield this.type(id);
  }

  #nameIndex(): Map<string, number[]> {
    return (this.#byName ??= indexNames(this.#ix.dv, this.#ix.le, this.#ix.offsets, this.strings, this.startId));
  }

  /** All type ids named `name` (base types first), optionally of one kind. */
  findAllByName(name: string, kind?: BtfKindName): number[] {
    const own = this.#nameIndex().get(name) ?? [];
    const want = kind === undefined ? -1 : BTF_KIND[kind];
    const mine = want < 0 ? own.slice() : own.filter((id) => this.#ix.kinds[id - this.startId] === want);
    return this.base ? [...this.base.findAllByName(name, kind), ...mine] : mine;
  }

  /** First type id named `name` (optionally of one kind), or undefined. */
  findByName(name: string, kind?: BtfKindName): number | undefined {
    const base = this.base?.findByName(name, kind);
    if (base !== undefined) return base;
    const own = this.#nameIndex().get(name);
    if (!own) return undefined;
    if (kind === undefined) return own[0];
    const want = BTF_KIND[kind];
    return own.find((id) => this.#ix.kinds[id - this.startId] === want);
  }

  /** Like findByName but throws BTF_NOT_FOUND when there is no such type. */
  getByName(name: string, kind?: BtfKindName): number {
    const id = this.findByName(name, kind);
    if (id === undefined) {
      throw new LoaderError('BTF_NOT_FOUND', `btf: no ${kind ?? 'type'} named '${name}'`, { symbol: name, want: kind });
    }
    return id;
  }

  /** Skips TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG. */
  resolve(id: number): number {
    return resolveType(this, id);
  }

  /** Skips CONST, VOLATILE, RESTRICT and TYPE_TAG (keeps typedefs). */
  skipModifiers(id: number): number {
    return skipModifiers(this, id);
  }

  /** Size in bytes; throws BTF_NOT_FOUND for unsized kinds and BTF_MALFORMED on reference loops. */
  sizeOf(id: number): number {
    return sizeOfType(this, id);
  }

  /** Members of a struct/union (typedefs and modifiers resolved), bit offsets honouring kflag. */
  members(id: number): BtfMember[] {
    return membersOf(this, id);
  }

  /** Offset of a member path ("a.b[2].c" or ['a','b',2,'c']) inside type `structId`. */
  memberOffset(structId: number, path: string | (string | number)[]): MemberLocation {
    return memberOffsetOf(this, structId, path);
  }

  /** Text identical to `bpftool btf dump file X format raw` (own types only for split BTF). */
  rawDump(): string {
    return dumpRaw(this);
  }

  /** Re-encodes the decoded types and the string table with the original header layout and byte order. */
  toBytes(): Uint8Array {
    return encodeBtf(this.header, [...this.types()], this.strings.bytes);
  }
}

/**
 * Type ids by name. A function of its own, with nothing after its loop: the server indexes the
 * kernel's BTF (tens of thousands of types) first, so V8 compiles this loop on-stack there; when
 * the loop was in the method, the code after it had not run yet when it was compiled, and every
 * later call (every object's BTF) left the cached on-stack code at that point again: a
 * deoptimisation and recompilation per object signed, none now.
 */
function indexNames(dv: DataView, le: boolean, offsets: Uint32Array, strings: BtfStrings, startId: number): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (let i = 0; i < offsets.length; i++) {
    const off = dv.getUint32(offsets[i], le);
    if (off === 0) continue;
    const name = strings.get(off);
    const ids = map.get(name);
    if (ids) ids.push(startId + i);
    else map.set(name, [startId + i]);
  }
  return map;
}
