/**
 * Relocation values: what a spec (local or target) says an instruction's
 * immediate or offset should be (libbpf's bpf_core_calc_*_relo), and the
 * per-relocation result that decides the patch.
 */
import type { Btf, ByteOrder } from '../../loader/btf/index.js';
import { CORE_KIND, type CoreSpec, coreError, isEnumvalKind, isFieldKind, isTypeKind, resolveSize, skipModsAndTypedefs } from './spec.js';

export interface CoreValue {
  value: bigint;
  /** Memory size of a non-bitfield field (0 when not applicable). */
  size: number;
  /** Resolved type of that field (0 when not applicable). */
  typeId: number;
  /** Whether the instruction's current value must equal the local value. */
  validate: boolean;
}

export interface CoreResult {
  origValue: bigint;
  newValue: bigint;
  poison: boolean;
  validate: boolean;
  failMemSizeAdjust: boolean;
  origSize: number;
  newSize: number;
}

/** Thrown inside the calculation to request instruction poisoning (libbpf's -EUCLEAN). */
class Poison {}

function fieldValue(btf: Btf | null, spec: CoreSpec | null, kind: number, order: ByteOrder): CoreValue {
  const out: CoreValue = { value: 0n, size: 0, typeId: 0, validate: true };
  if (kind === CORE_KIND.FIELD_EXISTS) {
    out.value = spec ? 1n : 0n;
    return out;
  }
  if (!spec || !btf) throw new Poison();
  const acc = spec.access[spec.access.length - 1];
  if (acc.name === null) {
    const sz = resolveSize(btf, acc.typeId);
    if (sz === null) throw coreError(`type [${acc.typeId}] has no size`, { typeId: acc.typeId });
    if (kind === CORE_KIND.FIELD_BYTE_OFFSET) {
      out.value = BigInt(Math.floor(spec.bitOffset / 8));
      out.size = sz;
      out.typeId = acc.typeId;
    } else if (kind === CORE_KIND.FIELD_BYTE_SIZE) {
      out.value = BigInt(sz);
    } else {
      throw coreError(`relocation kind ${kind} cannot be applied to an array access`, { got: kind });
    }
    return out;
  }
  const t = btf.type(acc.typeId);
  if (t.kind !== 'STRUCT' && t.kind !== 'UNION') throw coreError(`accessor type [${acc.typeId}] is not a struct or union`);
  const m = t.members[acc.idx];
  const fieldTypeId = skipModsAndTypedefs(btf, m.type);
  const mt = btf.type(fieldTypeId);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number, byteOff: number;
  if (bitfield) {
    byteSz = 'size' in mt ? mt.size : 0;
    if (byteSz <= 0) throw coreError(`bitfield of type [${fieldTypeId}] has no size`, { typeId: fieldTypeId });
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw coreError('bitfield cannot be read with a 64-bit load', { got: bitOff });
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    const sz = resolveSize(btf, fieldTypeId);
    if (sz === null) throw coreError(`field type [${fieldTypeId}] has no size`, { typeId: fieldTypeId });
    byteSz = sz;
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  out.validate = !bitfield;
  switch (kind) {
    case CORE_KIND.FIELD_BYTE_OFFSET:
      out.value = BigInt(byteOff);
      if (!bitfield) {
        out.size = byteSz;
        out.typeId = fieldTypeId;
      }
      break;
    case CORE_KIND.FIELD_BYTE_SIZE:
      out.value = BigInt(byteSz);
      break;
    case CORE_KIND.FIELD_SIGNED:
      out.value = ((mt.kind === 'ENUM' || mt.kind === 'ENUM64') && mt.kindFlag) || (mt.kind === 'INT' && (mt.encoding & 1) !== 0) ? 1n : 0n;
      out.validate = true;
      break;
    case CORE_KIND.FIELD_LSHIFT_U64:
      out.value = BigInt(order === 'little' ? 64 - (bitOff + bitSz - byteOff * 8) : (8 - byteSz) * 8 + (bitOff - byteOff * 8));
      out.value = BigInt.asUintN(64, out.value);
      break;
    case CORE_KIND.FIELD_RSHIFT_U64:
      out.value = BigInt.asUintN(64, BigInt(64 - bitSz));
      out.validate = true;
      break;
    default:
      throw coreError(`unknown field relocation kind ${kind}`, { got: kind });
  }
  return out;
}

function typeValue(btf: Btf | null, spec: CoreSpec | null, kind: number): CoreValue {
  const out: CoreValue = { value: 0n, size: 0, typeId: 0, validate: true };
  if (!spec || !btf) return out;
  switch (kind) {
    case CORE_KIND.TYPE_ID_TARGET:
      out.value = BigInt(spec.rootTypeId);
      out.validate = false;
      break;
    case CORE_KIND.TYPE_EXISTS:
    case CORE_KIND.TYPE_MATCHES:
      out.value = 1n;
      break;
    case CORE_KIND.TYPE_SIZE: {
      const sz = resolveSize(btf, spec.rootTypeId);
      if (sz === null) throw coreError(`type [${spec.rootTypeId}] has no size`, { typeId: spec.rootTypeId });
      out.value = BigInt(sz);
      break;
    }
    default:
      throw coreError(`unknown type relocation kind ${kind}`, { got: kind });
  }
  return out;
}

function enumValue(btf: Btf | null, spec: CoreSpec | null, kind: number): CoreValue {
  const out: CoreValue = { value: 0n, size: 0, typeId: 0, validate: true };
  if (kind === CORE_KIND.ENUMVAL_EXISTS) {
    out.value = spec ? 1n : 0n;
    return out;
  }
  if (!spec || !btf) throw new Poison();
  const t = btf.type(spec.access[0].typeId);
  if (t.kind === 'ENUM') out.value = BigInt.asUintN(64, BigInt(t.enumerators[spec.access[0].idx].value | 0));
  else if (t.kind === 'ENUM64') out.value = BigInt.asUintN(64, t.enumerators[spec.access[0].idx].value);
  else throw coreError(`type [${t.id}] is not an enum`, { typeId: t.id });
  return out;
}

function valueOf(btf: Btf | null, spec: CoreSpec | null, kind: number, order: ByteOrder): CoreValue {
  if (isFieldKind(kind)) return fieldValue(btf, spec, kind, order);
  if (isTypeKind(kind)) return typeValue(btf, spec, kind);
  if (isEnumvalKind(kind)) return enumValue(btf, spec, kind);
  throw coreError(`unrecognized CO-RE relocation kind ${kind}`, { got: kind });
}

/** The original and new values for one relocation (bpf_core_calc_relo). `targ` null: no candidate matched. */
export function calcRelo(local: Btf, localSpec: CoreSpec, targ: Btf | null, targSpec: CoreSpec | null, order: ByteOrder): CoreResult {
  const res: CoreResult = { origValue: 0n, newValue: 0n, poison: false, validate: true, failMemSizeAdjust: false, origSize: 0, newSize: 0 };
  try {
    const o = valueOf(local, localSpec, localSpec.kind, order);
    res.origValue = o.value;
    res.validate = o.validate;
    res.origSize = o.size;
    const n = valueOf(targ, targSpec, localSpec.kind, order);
    res.newValue = n.value;
    res.newSize = n.size;
    if (isFieldKind(localSpec.kind) && o.size !== n.size && targ) {
      const ot = local.type(o.typeId),
        nt = targ.type(n.typeId);
      const ptrs = ot.kind === 'PTR' && nt.kind === 'PTR';
      const uints = ot.kind === 'INT' && nt.kind === 'INT' && ot.encoding !== 1 && nt.encoding !== 1;
      if (!ptrs && !uints) res.failMemSizeAdjust = true;
    }
  } catch (e) {
    if (!(e instanceof Poison)) throw e;
    res.poison = true;
  }
  return res;
}
