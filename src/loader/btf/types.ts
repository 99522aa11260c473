/**
 * The BTF type model: kind numbers and names, and the plain objects a decoded
 * type becomes. Every object carries the raw fields needed to re-encode it
 * byte for byte (nameOff, kindFlag), plus convenient derived fields.
 */

export type ByteOrder = 'little' | 'big';

export type BtfKindName =
  | 'VOID'
  | 'INT'
  | 'PTR'
  | 'ARRAY'
  | 'STRUCT'
  | 'UNION'
  | 'ENUM'
  | 'FWD'
  | 'TYPEDEF'
  | 'VOLATILE'
  | 'CONST'
  | 'RESTRICT'
  | 'FUNC'
  | 'FUNC_PROTO'
  | 'VAR'
  | 'DATASEC'
  | 'FLOAT'
  | 'DECL_TAG'
  | 'TYPE_TAG'
  | 'ENUM64';

/** Kind names indexed by the kind number of the info word (0 is void / unknown). */
export const BTF_KIND_NAMES: readonly BtfKindName[] = [
  'VOID',
  'INT',
  'PTR',
  'ARRAY',
  'STRUCT',
  'UNION',
  'ENUM',
  'FWD',
  'TYPEDEF',
  'VOLATILE',
  'CONST',
  'RESTRICT',
  'FUNC',
  'FUNC_PROTO',
  'VAR',
  'DATASEC',
  'FLOAT',
  'DECL_TAG',
  'TYPE_TAG',
  'ENUM64',
];

export const BTF_KIND = {
  VOID: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const satisfies Record<BtfKindName, number>;

export const BTF_KIND_MAX = 19;
export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
export const BTF_HEADER_SIZE = 24;
/** Largest string offset the kernel accepts. */
export const BTF_MAX_NAME_OFFSET = 0xffffff;

/** INT encoding bits. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;

/** FUNC linkage (stored in vlen) and VAR linkage values. */
export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;
export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;

interface BtfTypeCommon {
  id: number;
  name: string;
  nameOff: number;
  /** Bit 31 of the info word, kept for every kind so re-encoding is exact. */
  kindFlag: boolean;
  /** Present only if a kind without vlen had a non-zero vlen (kept for exact re-encoding). */
  rawVlen?: number;
  /** Present only if ARRAY or FWD had a non-zero size/type word (gcc emits this for FWD). */
  rawSizeOrType?: number;
}

export interface BtfVoid {
  id: 0;
  kind: 'VOID';
  name: '';
  nameOff: 0;
  kindFlag: false;
}

export interface BtfInt extends BtfTypeCommon {
  kind: 'INT';
  size: number;
  /** Bit set of BTF_INT_SIGNED / BTF_INT_CHAR / BTF_INT_BOOL. */
  encoding: number;
  bitOffset: number;
  bits: number;
}

export interface BtfRefType extends BtfTypeCommon {
  kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG';
  type: number;
}

export interface BtfArray extends BtfTypeCommon {
  kind: 'ARRAY';
  elemType: number;
  indexType: number;
  nelems: number;
}

export interface BtfMember {
  name: string;
  nameOff: number;
  type: number;
  bitOffset: number;
  /** 0 unless the parent has kindFlag set and the member is a bitfield. */
  bitfieldSize: number;
}

export interface BtfComposite extends BtfTypeCommon {
  kind: 'STRUCT' | 'UNION';
  size: number;
  members: BtfMember[];
}

export interface BtfEnumerator {
  name: string;
  nameOff: number;
  value: number;
}
export interface BtfEnumerator64 {
  name: string;
  nameOff: number;
  value: bigint;
}

export interface BtfEnum extends BtfTypeCommon {
  kind: 'ENUM';
  size: number;
  /** Same as kindFlag: values are signed 32-bit. */
  signed: boolean;
  enumerators: BtfEnumerator[];
}

export interface BtfEnum64 extends BtfTypeCommon {
  kind: 'ENUM64';
  size: number;
  signed: boolean;
  enumerators: BtfEnumerator64[];
}

export interface BtfFwd extends BtfTypeCommon {
  kind: 'FWD';
  /** Derived from kindFlag. */
  fwdKind: 'struct' | 'union';
}

export interface BtfFunc extends BtfTypeCommon {
  kind: 'FUNC';
  type: number;
  /** BTF_FUNC_STATIC / GLOBAL / EXTERN, stored in vlen. */
  linkage: number;
}

export interface BtfParam {
  name: string;
  nameOff: number;
  type: number;
}

export interface BtfFuncProto extends BtfTypeCommon {
  kind: 'FUNC_PROTO';
  /** Return type id (0 = void). */
  type: number;
  params: BtfParam[];
}

export interface BtfVar extends BtfTypeCommon {
  kind: 'VAR';
  type: number;
  linkage: number;
}

export interface BtfVarSecinfo {
  type: number;
  offset: number;
  size: number;
}

export interface BtfDatasec extends BtfTypeCommon {
  kind: 'DATASEC';
  size: number;
  vars: BtfVarSecinfo[];
}

export interface BtfFloat extends BtfTypeCommon {
  kind: 'FLOAT';
  size: number;
}

export interface BtfDeclTag extends BtfTypeCommon {
  kind: 'DECL_TAG';
  type: number;
  /** -1 for the declaration itself, else member / parameter index. */
  componentIdx: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfRefType
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

export const VOID_TYPE: BtfVoid = Object.freeze({ id: 0, kind: 'VOID', name: '', nameOff: 0, kindFlag: false }) as BtfVoid;

/** Name of an INT encoding as bpftool prints it. */
export function intEncodingName(encoding: number): string {
  switch (encoding) {
    case 0:
      return '(none)';
    case BTF_INT_SIGNED:
      return 'SIGNED';
    case BTF_INT_CHAR:
      return 'CHAR';
    case BTF_INT_BOOL:
      return 'BOOL';
    default:
      return 'UNKN';
  }
}

/** Name of a FUNC or VAR linkage as bpftool prints it. */
export function linkageName(linkage: number): string {
  switch (linkage) {
    case 0:
      return 'static';
    case 1:
      return 'global';
    case 2:
      return 'extern';
    default:
      return '(unknown)';
  }
}

/**
 * Returns a copy of `t` whose type-id fields are mapped through `map`
 * (used to copy types between BTF objects).
 */
export function remapTypeIds<T extends BtfType>(t: T, map: (id: number) => number): T {
  switch (t.kind) {
    case 'VOID':
    case 'INT':
    case 'FWD':
    case 'FLOAT':
    case 'ENUM':
    case 'ENUM64':
      return { ...t };
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
    case 'FUNC':
    case 'VAR':
    case 'DECL_TAG':
      return { ...t, type: map(t.type) };
    case 'ARRAY':
      return { ...t, elemType: map(t.elemType), indexType: map(t.indexType) };
    case 'STRUCT':
    case 'UNION':
      return { ...t, members: t.members.map((m) => ({ ...m, type: map(m.type) })) };
    case 'FUNC_PROTO':
      return { ...t, type: map(t.type), params: t.params.map((p) => ({ ...p, type: map(p.type) })) };
    case 'DATASEC':
      return { ...t, vars: t.vars.map((v) => ({ ...v, type: map(v.type) })) };
  }
}
