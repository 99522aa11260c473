/**
 * CO-RE access specs: the parsed form of a relocation's access string
 * against one BTF ("0:1:2:3" → low-level indices plus the high-level
 * accessors: the root element, named fields and array indices) with the
 * bit offset it denotes. Mirrors the semantics of libbpf's relo_core.c.
 */
import type { Btf, BtfType } from '../../loader/btf/index.js';
import { CORE_RELO_KIND } from '../../loader/uapi/index.js';
import { KernelError } from '../errors.js';

/** enum bpf_core_relo_kind (generated from the kernel's BTF). */
export const CORE_KIND = CORE_RELO_KIND;

/** Longest access string libbpf accepts (BPF_CORE_SPEC_MAX_LEN). */
export const CORE_SPEC_MAX_LEN = 64;

export interface CoreAccessor {
  /** Type holding the accessed element (struct for a field, element type for an index). */
  typeId: number;
  idx: number;
  /** Field or enumerator name; null for an array index. */
  name: string | null;
}

export interface CoreSpec {
  rootTypeId: number;
  kind: number;
  /** High-level accessors. */
  access: CoreAccessor[];
  /** Low-level indices (the access string). */
  raw: number[];
  bitOffset: number;
}

export function isFieldKind(kind: number): boolean {
  return kind >= CORE_KIND.FIELD_BYTE_OFFSET && kind <= CORE_KIND.FIELD_RSHIFT_U64;
}

export function isTypeKind(kind: number): boolean {
  return (kind >= CORE_KIND.TYPE_ID_LOCAL && kind <= CORE_KIND.TYPE_SIZE) || kind === CORE_KIND.TYPE_MATCHES;
}

export function isEnumvalKind(kind: number): boolean {
  return kind === CORE_KIND.ENUMVAL_EXISTS || kind === CORE_KIND.ENUMVAL_VALUE;
}

/** A CO-RE failure that stops relocation (libbpf returns an error for the whole object). */
export function coreError(message: string, details: Record<string, unknown> = {}): KernelError {
  return new KernelError('KERNEL_INVALID', `co-re: ${message}`, details);
}

/** Skips typedefs and modifiers; returns the resolved id (like libbpf's skip_mods_and_typedefs). */
export function skipModsAndTypedefs(btf: Btf, id: number): number {
  let cur = id;
  for (let steps = 0; steps <= btf.totalCount; steps++) {
    switch (btf.kind(cur)) {
      case 'TYPEDEF':
      case 'CONST':
      case 'VOLATILE':
      case 'RESTRICT':
      case 'TYPE_TAG':
        cur = btf.sizeOrType(cur);
        continue;
      default:
        return cur;
    }
  }
  throw coreError(`reference loop at type [${id}]`, { typeId: id });
}

/** Size of a type in bytes, or null where libbpf's btf__resolve_size fails. */
export function resolveSize(btf: Btf, id: number): number | null {
  try {
    return btf.sizeOf(id);
  } catch {
    return null;
  }
}

function vlen(t: BtfType): number {
  switch (t.kind) {
    case 'STRUCT':
    case 'UNION':
      return t.members.length;
    case 'ENUM':
    case 'ENUM64':
      return t.enumerators.length;
    default:
      return 0;
  }
}

/** A flexible array: zero elements, reached as the last member of a struct. */
export function isFlexArray(btf: Btf, prev: CoreAccessor | undefined, nelems: number): boolean {
  if (!prev || prev.name === null || nelems > 0) return false;
  return prev.idx === vlen(btf.type(prev.typeId)) - 1;
}

/** Parses "0:1:2" into integers the way libbpf's sscanf loop does; null when malformed. */
export function parseAccessString(s: string): number[] | null {
  if (s === '' || s[0] === ':') return null;
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ':') i++;
    const m = /^\s*([+-]?\d+)/.exec(s.slice(i));
    if (!m) return null;
    const v = Number(m[1]);
    if (!Number.isSafeInteger(v) || v > 0x7fffffff || v < -0x80000000) return null;
    out.push(v);
    i += m[0].length;
  }
  return out;
}

/**
 * Builds the local spec of a relocation (libbpf's bpf_core_parse_spec).
 * Throws a KernelError when the access string does not fit the type.
 */
export function parseCoreSpec(btf: Btf, typeId: number, accessStr: string, kind: number): CoreSpec {
  const fail = (why: string): KernelError =>
    coreError(`cannot parse access string '${accessStr}' on [${typeId}]: ${why}`, { typeId, got: accessStr });
  if (accessStr === '' || accessStr[0] === ':') throw fail('empty or starts with ":"');
  const spec: CoreSpec = { rootTypeId: typeId, kind, access: [], raw: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    if (accessStr !== '0') throw fail('type-based relocations take "0"');
    return spec;
  }
  const raw = parseAccessString(accessStr);
  if (!raw || raw.length === 0) throw fail('not a list of integers');
  if (raw.length > CORE_SPEC_MAX_LEN) throw fail(`longer than ${CORE_SPEC_MAX_LEN}`);
  spec.raw = raw;
  if (typeId <= 0 || typeId >= btf.totalCount) throw fail('no such type');
  let id = skipModsAndTypedefs(btf, typeId);
  const t0 = btf.type(id);
  if (isEnumvalKind(kind)) {
    if ((t0.kind !== 'ENUM' && t0.kind !== 'ENUM64') || raw.length > 1 || raw[0] < 0 || raw[0] >= t0.enumerators.length) {
      throw fail('enum value relocations need one index of an enumerator');
    }
    spec.access.push({ typeId: id, idx: raw[0], name: t0.enumerators[raw[0]].name });
    return spec;
  }
  if (!isFieldKind(kind)) throw fail(`unknown relocation kind ${kind}`);
  spec.access.push({ typeId: id, idx: raw[0], name: null });
  const sz = resolveSize(btf, id);
  if (sz === null) throw fail(`root type [${id}] has no size`);
  spec.bitOffset = raw[0] * sz * 8;
  for (let i = 1; i < raw.length; i++) {
    id = skipModsAndTypedefs(btf, id);
    const t = btf.type(id);
    const idx = raw[i];
    if (t.kind === 'STRUCT' || t.kind === 'UNION') {
      if (idx < 0 || idx >= t.members.length) throw fail(`member index ${idx} out of range for [${id}]`);
      const m = t.members[idx];
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') spec.access.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === 'ARRAY') {
      id = skipModsAndTypedefs(btf, t.elemType);
      const flex = isFlexArray(btf, spec.access[spec.access.length - 1], t.nelems);
      if (!flex && (idx < 0 || idx >= t.nelems)) throw fail(`array index ${idx} out of range (${t.nelems})`);
      spec.access.push({ typeId: id, idx, name: null });
      const esz = resolveSize(btf, id);
      if (esz === null) throw fail(`array element [${id}] has no size`);
      spec.bitOffset += idx * esz * 8;
    } else {
      throw fail(`index ${i} reaches type [${id}] of kind ${t.kind}`);
    }
  }
  return spec;
}
