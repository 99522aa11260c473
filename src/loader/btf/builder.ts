/**
 * BtfBuilder: constructs new BTF (base or split) type by type with a
 * deduplicated string table, and encodes it in either byte order.
 * Decoded BtfType objects (e.g. from another Btf, ids remapped with
 * remapTypeIds) are accepted as input as well.
 */

import { LoaderError } from '../errors.js';
import type { Btf } from './btf.js';
import { parseBtf } from './parse.js';
import { type BtfType, type BtfVarSecinfo, type ByteOrder, remapTypeIds } from './types.js';
import { encodeBtf } from './write.js';

export interface BtfMemberInput {
  name?: string;
  type: number;
  bitOffset: number;
  bitfieldSize?: number;
}
export interface BtfParamInput {
  name?: string;
  type: number;
}

interface Flag {
  name?: string;
  kindFlag?: boolean;
}

export type BtfTypeInput =
  | (Flag & { kind: 'INT'; name: string; size: number; encoding?: number; bitOffset?: number; bits?: number })
  | (Flag & { kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG'; type: number })
  | (Flag & { kind: 'ARRAY'; elemType: number; indexType: number; nelems: number })
  | (Flag & { kind: 'STRUCT' | 'UNION'; size: number; members: BtfMemberInput[] })
  | (Flag & { kind: 'ENUM'; size?: number; signed?: boolean; enumerators: { name: string; value: number }[] })
  | (Flag & { kind: 'ENUM64'; size?: number; signed?: boolean; enumerators: { name: string; value: bigint }[] })
  | (Flag & { kind: 'FWD'; name: string; fwdKind?: 'struct' | 'union' })
  | (Flag & { kind: 'FUNC'; name: string; type: number; linkage?: number })
  | (Flag & { kind: 'FUNC_PROTO'; type: number; params: BtfParamInput[] })
  | (Flag & { kind: 'VAR'; name: string; type: number; linkage?: number })
  | (Flag & { kind: 'DATASEC'; name: string; size: number; vars: BtfVarSecinfo[] })
  | (Flag & { kind: 'FLOAT'; name: string; size: number })
  | (Flag & { kind: 'DECL_TAG'; name: string; type: number; componentIdx?: number });

const encoder = new TextEncoder();

export class BtfBuilder {
  readonly base: Btf | undefined;
  /** Id of the first type added (1, or base.totalCount for split BTF). */
  readonly startId: number;
  readonly #types: BtfType[] = [];
  readonly #strOffsets = new Map<string, number>();
  #strChunks: Uint8Array[] = [];
  #strLen = 0;
  readonly #strStart: number;

  constructor(opts: { base?: Btf } = {}) {
    this.base = opts.base;
    this.startId = opts.base ? opts.base.totalCount : 1;
    this.#strStart = opts.base ? opts.base.strings.endOff : 0;
    this.#strOffsets.set('', 0);
    if (!opts.base) this.#pushStr(new Uint8Array(1));
  }

  /** Number of types added so far. */
  get typeCount(): number {
    return this.#types.length;
  }

  /** One past the last id (void and base types included). */
  get totalCount(): number {
    return this.startId + this.#types.length;
  }

  #pushStr(b: Uint8Array): void {
    this.#strChunks.push(b);
    this.#strLen += b.length;
  }

  /** Adds `s` to the string table (once) and returns its offset; '' is offset 0. */
  addString(s: string): number {
    const known = this.#strOffsets.get(s);
    if (known !== undefined) return known;
    const enc = encoder.encode(s);
    if (enc.includes(0)) throw new LoaderError('BTF_MALFORMED', `btf builder: string contains NUL: ${JSON.stringify(s)}`, { got: s });
    const off = this.#strStart + this.#strLen;
    const b = new Uint8Array(enc.length + 1);
    b.set(enc);
    this.#pushStr(b);
    this.#strOffsets.set(s, off);
    return off;
  }

  /** The type previously added with id `id`. */
  get(id: number): BtfType {
    const t = this.#types[id - this.startId];
    if (!t) throw new LoaderError('BTF_NOT_FOUND', `btf builder: no type ${id}`, { typeId: id });
    return t;
  }

  /** Adds a type and returns its id. */
  add(input: BtfTypeInput): number {
    const id = this.totalCount;
    this.#types.push(this.#materialize(id, input));
    return id;
  }

  /** Replaces type `id` (e.g. to fill in a struct added early to break a reference cycle). */
  replace(id: number, input: BtfTypeInput): void {
    this.get(id);
    this.#types[id - this.startId] = this.#materialize(id, input);
  }

  /** Adds a copy of `t` (from any Btf) with its type ids mapped through `map`. */
  addCopy(t: BtfType, map: (id: number) => number): number {
    if (t.kind === 'VOID') throw new LoaderError('BTF_MALFORMED', 'btf builder: cannot add VOID', { typeId: 0 });
    return this.add(remapTypeIds(t, map) as BtfTypeInput);
  }

  #materialize(id: number, t: BtfTypeInput): BtfType {
    const name = t.name ?? '';
    const nameOff = this.addString(name);
    const common = { id, name, nameOff };
    switch (t.kind) {
      case 'INT':
        return {
          ...common,
          kind: 'INT',
          kindFlag: t.kindFlag ?? false,
          size: t.size,
          encoding: t.encoding ?? 0,
          bitOffset: t.bitOffset ?? 0,
          bits: t.bits ?? t.size * 8,
        };
      case 'PTR':
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG':
        return { ...common, kind: t.kind, kindFlag: t.kindFlag ?? false, type: t.type };
      case 'ARRAY':
        return { ...common, kind: 'ARRAY', kindFlag: t.kindFlag ?? false, elemType: t.elemType, indexType: t.indexType, nelems: t.nelems };
      case 'STRUCT':
      case 'UNION': {
        const kindFlag = t.kindFlag ?? t.members.some((m) => (m.bitfieldSize ?? 0) > 0);
        const members = t.members.map((m) => {
          const mname = m.name ?? '';
          return { name: mname, nameOff: this.addString(mname), type: m.type, bitOffset: m.bitOffset, bitfieldSize: m.bitfieldSize ?? 0 };
        });
        return { ...common, kind: t.kind, kindFlag, size: t.size, members };
      }
      case 'ENUM': {
        const kindFlag = t.kindFlag ?? t.signed ?? t.enumerators.some((e) => e.value < 0);
        const enumerators = t.enumerators.map((e) => ({ name: e.name, nameOff: this.addString(e.name), value: e.value }));
        return { ...common, kind: 'ENUM', kindFlag, signed: kindFlag, size: t.size ?? 4, enumerators };
      }
      case 'ENUM64': {
        const kindFlag = t.kindFlag ?? t.signed ?? t.enumerators.some((e) => e.value < 0n);
        const enumerators = t.enumerators.map((e) => ({ name: e.name, nameOff: this.addString(e.name), value: e.value }));
        return { ...common, kind: 'ENUM64', kindFlag, signed: kindFlag, size: t.size ?? 8, enumerators };
      }
      case 'FWD': {
        const kindFlag = t.kindFlag ?? t.fwdKind === 'union';
        return { ...common, kind: 'FWD', kindFlag, fwdKind: kindFlag ? 'union' : 'struct' };
      }
      case 'FUNC':
        return { ...common, kind: 'FUNC', kindFlag: t.kindFlag ?? false, type: t.type, linkage: t.linkage ?? 0 };
      case 'FUNC_PROTO': {
        const params = t.params.map((p) => {
          const pname = p.name ?? '';
          return { name: pname, nameOff: this.addString(pname), type: p.type };
        });
        return { ...common, kind: 'FUNC_PROTO', kindFlag: t.kindFlag ?? false, type: t.type, params };
      }
      case 'VAR':
        return { ...common, kind: 'VAR', kindFlag: t.kindFlag ?? false, type: t.type, linkage: t.linkage ?? 0 };
      case 'DATASEC':
        return {
          ...common,
          kind: 'DATASEC',
          kindFlag: t.kindFlag ?? false,
          size: t.size,
          vars: t.vars.map((v) => ({ type: v.type, offset: v.offset, size: v.size })),
        };
      case 'FLOAT':
        return { ...common, kind: 'FLOAT', kindFlag: t.kindFlag ?? false, size: t.size };
      case 'DECL_TAG':
        return { ...common, kind: 'DECL_TAG', kindFlag: t.kindFlag ?? false, type: t.type, componentIdx: t.componentIdx ?? -1 };
      default:
        throw new LoaderError('BTF_MALFORMED', `btf builder: unknown kind ${(t as { kind: unknown }).kind}`, { typeId: id });
    }
  }

  /** The string section built so far. */
  stringBytes(): Uint8Array {
    const out = new Uint8Array(this.#strLen);
    let p = 0;
    for (const c of this.#strChunks) {
      out.set(c, p);
      p += c.length;
    }
    this.#strChunks = [out];
    return out;
  }

  /** Encodes the BTF (header, types, strings) in the given byte order (default little). */
  toBytes(opts: { byteOrder?: ByteOrder } = {}): Uint8Array {
    return encodeBtf({ byteOrder: opts.byteOrder ?? 'little' }, this.#types, this.stringBytes());
  }

  /** Encodes and parses back (validating every reference). */
  build(opts: { byteOrder?: ByteOrder } = {}): Btf {
    return parseBtf(this.toBytes(opts), { base: this.base });
  }
}
