/**
 * A language-neutral layout of a global variable's type, derived from BTF, for the skeleton
 * emitters of languages other than C (Go, Rust): those cannot print btf_dump's C declaration
 * (LskelVar.decl) and need sizes, offsets and integer kinds instead.
 *
 * Kinds: integers (bool, char and enums included) and floats of 1/2/4/8 bytes, arrays, structs
 * whose members are all byte-aligned (bitfield-free), and `bytes` for everything a typed view
 * cannot express faithfully (unions, bitfields, pointers, 128-bit integers, long double,
 * forward declarations). A `bytes` type keeps the size, so layouts stay exact.
 */
import type { Btf, BtfType } from '../btf/index.js';

/** BTF INT encoding bits (btf/types.ts; gen may import btf only as types). */
const BTF_INT_SIGNED = 1;
const BTF_INT_BOOL = 4;

export type SkelType =
  | { kind: 'int'; size: 1 | 2 | 4 | 8; signed: boolean; bool?: true }
  | { kind: 'float'; size: 4 | 8 }
  | { kind: 'array'; elem: SkelType; len: number; size: number }
  | { kind: 'struct'; size: number; fields: SkelField[] }
  | { kind: 'bytes'; size: number; what: string };

export interface SkelField {
  /** BTF member name ('' for an anonymous member). */
  name: string;
  /** Byte offset within the struct. */
  offset: number;
  type: SkelType;
}

const MAX_DEPTH = 32;

function sizeOr0(btf: Btf, id: number): number {
  try {
    return btf.sizeOf(id);
  } catch {
    return 0;
  }
}

function intSize(n: number): n is 1 | 2 | 4 | 8 {
  return n === 1 || n === 2 || n === 4 || n === 8;
}

function bytes(size: number, what: string): SkelType {
  return { kind: 'bytes', size, what };
}

function composite(btf: Btf, t: Extract<BtfType, { kind: 'STRUCT' | 'UNION' }>, depth: number): SkelType {
  const label = `${t.kind.toLowerCase()} ${t.name || '(anon)'}`;
  if (t.kind === 'UNION') return bytes(t.size, label);
  const fields: SkelField[] = [];
  for (const m of t.members) {
    if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) return bytes(t.size, `${label} with bitfields`);
    fields.push({ name: m.name, offset: m.bitOffset / 8, type: skelTypeOf(btf, m.type, depth + 1) });
  }
  return { kind: 'struct', size: t.size, fields };
}

/** The layout of BTF type `id` (modifiers, typedefs and type tags resolved). */
export function skelTypeOf(btf: Btf, id: number, depth = 0): SkelType {
  if (depth > MAX_DEPTH) return bytes(sizeOr0(btf, id), 'deeply nested type');
  const t = btf.type(id);
  switch (t.kind) {
    case 'INT':
      if (t.bitOffset !== 0 || t.bits !== 8 * t.size || !intSize(t.size)) return bytes(t.size, `${t.name} (${t.bits} bits)`);
      if (t.encoding & BTF_INT_BOOL) return { kind: 'int', size: t.size, signed: false, bool: true };
      return { kind: 'int', size: t.size, signed: (t.encoding & BTF_INT_SIGNED) !== 0 };
    case 'ENUM':
    case 'ENUM64':
      return intSize(t.size) ? { kind: 'int', size: t.size, signed: t.signed } : bytes(t.size, `enum ${t.name}`);
    case 'FLOAT':
      return t.size === 4 || t.size === 8 ? { kind: 'float', size: t.size } : bytes(t.size, t.name);
    case 'TYPEDEF':
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return skelTypeOf(btf, t.type, depth + 1);
    case 'ARRAY': {
      const elem = skelTypeOf(btf, t.elemType, depth + 1);
      return { kind: 'array', elem, len: t.nelems, size: elem.size * t.nelems };
    }
    case 'STRUCT':
    case 'UNION':
      return composite(btf, t, depth);
    case 'PTR':
      return bytes(8, 'pointer');
    default:
      return bytes(sizeOr0(btf, id), t.kind.toLowerCase());
  }
}
