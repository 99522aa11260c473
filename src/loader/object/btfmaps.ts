/**
 * BTF-defined map definitions (`SEC(".maps")`), read the way libbpf reads them.
 *
 * A definition is a struct whose members encode attributes:
 *   __uint(name, N)      →  int (*name)[N]        integer = array dimension behind the pointer
 *   __type(key, T)       →  T *key                 size = sizeof(T), btf_key_type_id = id(T)
 *   __array(values, S)   →  S *values[]            last member, zero-sized: inner map definition
 *                                                  (map-in-map) or FUNC_PROTO (prog_array slots)
 */
import { LoaderError } from '../errors.js';
import type { Btf, BtfType } from '../btf/index.js';
import { MAP_TYPE } from '../uapi/enums.js';

export interface BtfMapDef {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  pinning: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** Byte offset of the `values` member inside the definition, when present. */
  valuesOffset: number | null;
  /** Inner definition for map-in-map (`__array(values, struct inner)`). */
  inner: BtfMapDef | null;
  /** `values` declares program slots (prog_array). */
  progSlots: boolean;
}

const INT_FIELDS: ReadonlySet<string> = new Set([
  'type',
  'max_entries',
  'map_flags',
  'numa_node',
  'key_size',
  'value_size',
  'pinning',
  'map_extra',
]);

/** Skips typedefs and CV/type-tag modifiers. */
export function skipModsAndTypedefs(btf: Btf, id: number): BtfType {
  let t = btf.type(id);
  for (let guard = 0; guard < 256; guard++) {
    if (t.kind === 'TYPEDEF' || t.kind === 'CONST' || t.kind === 'VOLATILE' || t.kind === 'RESTRICT' || t.kind === 'TYPE_TAG') {
      t = btf.type(t.type);
    } else {
      return t;
    }
  }
  throw new LoaderError('BTF_MALFORMED', `type ${id}: modifier chain too long or cyclic`, { typeId: id });
}

function mapError(map: string, message: string, field?: string, extra: Record<string, unknown> = {}): LoaderError {
  return new LoaderError('OBJECT_MALFORMED', `map '${map}': ${message}`, { section: '.maps', symbol: map, field, ...extra });
}

/** `int (*name)[N]` → N */
function intField(btf: Btf, map: string, field: string, typeId: number): number {
  const ptr = skipModsAndTypedefs(btf, typeId);
  if (ptr.kind !== 'PTR') throw mapError(map, `attr '${field}': expected PTR, got ${ptr.kind}`, field, { got: ptr.kind, want: 'PTR' });
  const arr = btf.type(ptr.type);
  if (arr.kind !== 'ARRAY')
    throw mapError(map, `attr '${field}': type [${ptr.type}] is ${arr.kind}, want ARRAY`, field, { got: arr.kind, want: 'ARRAY' });
  return arr.nelems;
}

/** `T *name` → { id(T), sizeof(T) } */
function typeField(btf: Btf, map: string, field: string, typeId: number): { id: number; size: number } {
  const ptr = skipModsAndTypedefs(btf, typeId);
  if (ptr.kind !== 'PTR') throw mapError(map, `${field} spec is not PTR: ${ptr.kind}`, field, { got: ptr.kind, want: 'PTR' });
  let size: number;
  try {
    size = btf.sizeOf(ptr.type);
  } catch (e) {
    throw mapError(map, `can't determine ${field} size for type [${ptr.type}]: ${(e as Error).message}`, field, { typeId: ptr.type });
  }
  return { id: ptr.type, size };
}

function isMapInMap(type: number): boolean {
  return type === MAP_TYPE.ARRAY_OF_MAPS || type === MAP_TYPE.HASH_OF_MAPS;
}

/** Parses one definition struct. `inner` is true for the definition behind `values`. */
export function parseBtfMapDef(btf: Btf, map: string, structId: number, inner = false): BtfMapDef {
  const st = skipModsAndTypedefs(btf, structId);
  if (st.kind !== 'STRUCT')
    throw mapError(map, `unexpected def kind ${st.kind}`, undefined, { typeId: structId, got: st.kind, want: 'STRUCT' });
  const def: BtfMapDef = {
    type: 0,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    numaNode: 0,
    mapExtra: 0n,
    pinning: 0,
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
    valuesOffset: null,
    inner: null,
    progSlots: false,
  };
  const members = st.members;
  members.forEach((m, i) => {
    const name = m.name;
    if (name === '') throw mapError(map, `invalid field #${i}`, undefined, { typeId: st.id });
    if (INT_FIELDS.has(name)) {
      const v = intField(btf, map, name, m.type);
      switch (name) {
        case 'type':
          def.type = v;
          break;
        case 'max_entries':
          def.maxEntries = v;
          break;
        case 'map_flags':
          def.flags = v;
          break;
        case 'numa_node':
          def.numaNode = v;
          break;
        case 'map_extra':
          def.mapExtra = BigInt(v);
          break;
        case 'pinning':
          if (inner) throw mapError(map, `inner def can't be pinned`, 'pinning');
          if (v !== 0 && v !== 1) throw mapError(map, `invalid pinning value ${v}`, 'pinning', { got: v, want: '0 or 1' });
          def.pinning = v;
          break;
        case 'key_size':
          if (def.keySize && def.keySize !== v)
            throw mapError(map, `conflicting key size ${def.keySize} != ${v}`, 'key_size', { got: v, want: def.keySize });
          def.keySize = v;
          break;
        case 'value_size':
          if (def.valueSize && def.valueSize !== v)
            throw mapError(map, `conflicting value size ${def.valueSize} != ${v}`, 'value_size', { got: v, want: def.valueSize });
          def.valueSize = v;
          break;
      }
      return;
    }
    if (name === 'key' || name === 'value') {
      const { id, size } = typeField(btf, map, name, m.type);
      const field = name === 'key' ? 'keySize' : 'valueSize';
      if (def[field] && def[field] !== size)
        throw mapError(map, `conflicting ${name} size ${def[field]} != ${size}`, name, { got: size, want: def[field] });
      def[field] = size;
      if (name === 'key') def.btfKeyTypeId = id;
      else def.btfValueTypeId = id;
      return;
    }
    if (name === 'values') {
      parseValues(btf, map, def, m.type, i === members.length - 1, inner);
      def.valuesOffset = m.bitOffset / 8;
      return;
    }
    throw new LoaderError('OBJECT_UNSUPPORTED', `map '${map}': unknown field '${name}'`, { section: '.maps', symbol: map, field: name });
  });
  if (def.type === 0) throw mapError(map, `map type not specified`, 'type');
  return def;
}

function parseValues(btf: Btf, map: string, def: BtfMapDef, typeId: number, last: boolean, inner: boolean): void {
  const isProgArray = def.type === MAP_TYPE.PROG_ARRAY;
  if (!isMapInMap(def.type) && !isProgArray) {
    throw mapError(map, `should be map-in-map or prog-array to have 'values'`, 'values', { got: def.type });
  }
  if (inner) throw mapError(map, `multi-level inner maps not supported`, 'values');
  if (!last) throw mapError(map, `'values' must be the last field`, 'values');
  const arr = skipModsAndTypedefs(btf, typeId);
  if (arr.kind !== 'ARRAY') throw mapError(map, `values spec is not an array: ${arr.kind}`, 'values', { got: arr.kind, want: 'ARRAY' });
  if (arr.nelems !== 0)
    throw mapError(map, `values array should be zero-sized, has ${arr.nelems} elements`, 'values', { got: arr.nelems, want: 0 });
  const ptr = skipModsAndTypedefs(btf, arr.elemType);
  if (ptr.kind !== 'PTR') throw mapError(map, `values element is not a pointer: ${ptr.kind}`, 'values', { got: ptr.kind, want: 'PTR' });
  const target = skipModsAndTypedefs(btf, ptr.type);
  if (isProgArray) {
    if (target.kind !== 'FUNC_PROTO')
      throw mapError(map, `prog-array value is not a function prototype: ${target.kind}`, 'values', {
        got: target.kind,
        want: 'FUNC_PROTO',
      });
    def.progSlots = true;
  } else {
    if (target.kind !== 'STRUCT')
      throw mapError(map, `inner map def is not a struct: ${target.kind}`, 'values', { got: target.kind, want: 'STRUCT' });
    def.inner = parseBtfMapDef(btf, `${map}.inner`, target.id, true);
  }
  if (def.valueSize && def.valueSize !== 4)
    throw mapError(map, `conflicting value size ${def.valueSize} != 4`, 'value_size', { got: def.valueSize, want: 4 });
  def.valueSize = 4;
}
