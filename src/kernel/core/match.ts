/**
 * Matching a local CO-RE spec against one candidate target type, and the
 * three compatibility relations libbpf uses: fields compatible (field
 * relocations), types compatible (type relocations) and types match
 * (TYPE_MATCHES).
 */
import type { Btf, BtfType } from '../../loader/btf/index.js';
import { essentialName, namesMatch } from './names.js';
import {
  CORE_KIND,
  CORE_SPEC_MAX_LEN,
  type CoreSpec,
  coreError,
  isEnumvalKind,
  isFieldKind,
  isFlexArray,
  isTypeKind,
  resolveSize,
  skipModsAndTypedefs,
} from './spec.js';

/** Recursion depth libbpf (user space) allows for compat/match checks. */
const MAX_LEVEL = 32;

function isEnumKind(k: string): boolean {
  return k === 'ENUM' || k === 'ENUM64';
}

/** libbpf's btf_kind_core_compat: same kind, or enum vs enum64. */
export function kindsCoreCompat(a: string, b: string): boolean {
  return a === b || (isEnumKind(a) && isEnumKind(b));
}

function isComposite(t: BtfType): boolean {
  return t.kind === 'STRUCT' || t.kind === 'UNION';
}

function intOffset(t: BtfType): number {
  return t.kind === 'INT' ? t.bitOffset : 0;
}

function intEncoding(t: BtfType): number {
  return t.kind === 'INT' ? t.encoding : 0;
}

/** Field-access compatibility (bpf_core_fields_are_compat). */
export function fieldsAreCompat(local: Btf, localId: number, targ: Btf, targId: number): boolean {
  let lid = localId,
    tid = targId;
  for (let depth = 0; depth <= MAX_LEVEL * 4; depth++) {
    lid = skipModsAndTypedefs(local, lid);
    tid = skipModsAndTypedefs(targ, tid);
    const lt = local.type(lid),
      tt = targ.type(tid);
    if (isComposite(lt) && isComposite(tt)) return true;
    if (!kindsCoreCompat(lt.kind, tt.kind)) return false;
    switch (lt.kind) {
      case 'PTR':
      case 'FLOAT':
        return true;
      case 'FWD':
      case 'ENUM':
      case 'ENUM64': {
        const ln = essentialName(lt.name),
          tn = essentialName(tt.name);
        return ln === '' || tn === '' || ln === tn;
      }
      case 'INT':
        return intOffset(lt) === 0 && intOffset(tt) === 0;
      case 'ARRAY':
        if (tt.kind !== 'ARRAY') return false;
        lid = lt.elemType;
        tid = tt.elemType;
        continue;
      default:
        return false;
    }
  }
  throw coreError('field compatibility check recursed too deep', { typeId: localId });
}

/** Type compatibility for type-based relocations (bpf_core_types_are_compat). */
export function typesAreCompat(local: Btf, localId: number, targ: Btf, targId: number, level = MAX_LEVEL): boolean {
  if (!kindsCoreCompat(local.kind(localId), targ.kind(targId))) return false;
  let lid = localId,
    tid = targId;
  for (let depth = 32; ;) {
    if (--depth < 0) throw coreError('type compatibility check recursed too deep', { typeId: localId });
    lid = skipModsAndTypedefs(local, lid);
    tid = skipModsAndTypedefs(targ, tid);
    const lt = local.type(lid),
      tt = targ.type(tid);
    if (!kindsCoreCompat(lt.kind, tt.kind)) return false;
    switch (lt.kind) {
      case 'VOID':
      case 'STRUCT':
      case 'UNION':
      case 'ENUM':
      case 'FWD':
      case 'ENUM64':
        return true;
      case 'INT':
        return intOffset(lt) === 0 && intOffset(tt) === 0;
      case 'PTR':
        if (tt.kind !== 'PTR') return false;
        lid = lt.type;
        tid = tt.type;
        continue;
      case 'ARRAY':
        if (tt.kind !== 'ARRAY') return false;
        lid = lt.elemType;
        tid = tt.elemType;
        continue;
      case 'FUNC_PROTO': {
        if (tt.kind !== 'FUNC_PROTO') return false;
        if (lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (level <= 0) throw coreError('type compatibility check recursed too deep', { typeId: localId });
          const ok = typesAreCompat(
            local,
            skipModsAndTypedefs(local, lt.params[i].type),
            targ,
            skipModsAndTypedefs(targ, tt.params[i].type),
            level - 1,
          );
          if (!ok) return false;
        }
        lid = skipModsAndTypedefs(local, lt.type);
        tid = skipModsAndTypedefs(targ, tt.type);
        continue;
      }
      default:
        return false;
    }
  }
}

function enumNames(t: BtfType): string[] {
  return t.kind === 'ENUM' || t.kind === 'ENUM64' ? t.enumerators.map((e) => e.name) : [];
}

function enumsMatch(lt: BtfType, tt: BtfType): boolean {
  if (!('size' in lt) || !('size' in tt) || lt.size !== tt.size) return false;
  const ln = enumNames(lt),
    tn = enumNames(tt);
  if (ln.length > tn.length) return false;
  return ln.every((l) => tn.some((t) => namesMatch(l, t)));
}

function compositesMatch(local: Btf, lt: BtfType, targ: Btf, tt: BtfType, behindPtr: boolean, level: number): boolean {
  if (!isComposite(lt) || !isComposite(tt) || lt.kind === 'VOID' || tt.kind === 'VOID') return false;
  const lm = (lt as { members: { name: string; type: number }[] }).members;
  const tm = (tt as { members: { name: string; type: number }[] }).members;
  if (lm.length > tm.length) return false;
  for (const l of lm) {
    let matched = false;
    for (const t of tm) {
      if (!namesMatch(l.name, t.name)) continue;
      if (typesMatch(local, l.type, targ, t.type, behindPtr, level - 1)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

/** TYPE_MATCHES relation (__bpf_core_types_match). */
export function typesMatch(local: Btf, localId: number, targ: Btf, targId: number, behindPtr = false, level = MAX_LEVEL): boolean {
  if (level <= 0) throw coreError('type match check recursed too deep', { typeId: localId });
  let lid = localId,
    tid = targId,
    behind = behindPtr;
  for (let depth = 32; ;) {
    if (--depth < 0) throw coreError('type match check recursed too deep', { typeId: localId });
    lid = skipModsAndTypedefs(local, lid);
    tid = skipModsAndTypedefs(targ, tid);
    const lt = local.type(lid),
      tt = targ.type(tid);
    if (!namesMatch(lt.name, tt.name)) return false;
    switch (lt.kind) {
      case 'VOID':
        return tt.kind === 'VOID';
      case 'FWD': {
        if (behind) {
          if (tt.kind === 'FWD') return lt.kindFlag === tt.kindFlag;
          return (tt.kind === 'STRUCT' && !lt.kindFlag) || (tt.kind === 'UNION' && lt.kindFlag);
        }
        return tt.kind === 'FWD' && lt.kindFlag === tt.kindFlag;
      }
      case 'ENUM':
      case 'ENUM64':
        return isEnumKind(tt.kind) && enumsMatch(lt, tt);
      case 'STRUCT':
      case 'UNION':
        if (behind) {
          if (lt.kind === tt.kind) return true;
          if (tt.kind !== 'FWD') return false;
          return (lt.kind === 'UNION') === tt.kindFlag;
        }
        if (lt.kind !== tt.kind) return false;
        return compositesMatch(local, lt, targ, tt, behind, level);
      case 'INT':
        if (tt.kind !== 'INT') return false;
        return lt.size === tt.size && (lt.encoding & 1) === (tt.encoding & 1);
      case 'PTR':
        if (tt.kind !== 'PTR') return false;
        behind = true;
        lid = lt.type;
        tid = tt.type;
        continue;
      case 'ARRAY':
        if (tt.kind !== 'ARRAY' || lt.nelems !== tt.nelems) return false;
        lid = lt.elemType;
        tid = tt.elemType;
        continue;
      case 'FUNC_PROTO': {
        if (tt.kind !== 'FUNC_PROTO' || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (!typesMatch(local, lt.params[i].type, targ, tt.params[i].type, behind, level - 1)) return false;
        }
        lid = lt.type;
        tid = tt.type;
        continue;
      }
      default:
        return false;
    }
  }
}

/** Finds the member named like the local accessor in target type `targId`, descending into anonymous members. */
function matchMember(
  local: Btf,
  localAcc: { typeId: number; idx: number },
  targ: Btf,
  targId: number,
  spec: CoreSpec,
  next: { id: number },
): boolean {
  const tid = skipModsAndTypedefs(targ, targId);
  const tt = targ.type(tid);
  if (tt.kind !== 'STRUCT' && tt.kind !== 'UNION') return false;
  const lt = local.type(localAcc.typeId);
  if (lt.kind !== 'STRUCT' && lt.kind !== 'UNION') return false;
  const lm = lt.members[localAcc.idx];
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i];
    if (spec.raw.length === CORE_SPEC_MAX_LEN) throw coreError('struct/union/array nesting too deep', { typeId: tid });
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      if (matchMember(local, localAcc, targ, m.type, spec, next)) return true;
    } else if (m.name === lm.name) {
      spec.access.push({ typeId: tid, idx: i, name: m.name });
      next.id = m.type;
      const ok = fieldsAreCompat(local, lm.type, targ, m.type);
      if (!ok) spec.access.pop();
      return ok;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return false;
}

/**
 * Matches the local spec against candidate `targId` (bpf_core_spec_match):
 * the target spec when it matches, null when it does not.
 */
export function matchSpec(local: Btf, localSpec: CoreSpec, targ: Btf, targId: number): CoreSpec | null {
  const spec: CoreSpec = { rootTypeId: targId, kind: localSpec.kind, access: [], raw: [], bitOffset: 0 };
  if (isTypeKind(localSpec.kind)) {
    const ok =
      localSpec.kind === CORE_KIND.TYPE_MATCHES
        ? typesMatch(local, localSpec.rootTypeId, targ, targId)
        : typesAreCompat(local, localSpec.rootTypeId, targ, targId);
    return ok ? spec : null;
  }
  if (isEnumvalKind(localSpec.kind)) {
    const tid = skipModsAndTypedefs(targ, targId);
    const tt = targ.type(tid);
    if (tt.kind !== 'ENUM' && tt.kind !== 'ENUM64') return null;
    const want = essentialName(localSpec.access[0].name ?? '');
    const i = tt.enumerators.findIndex((e) => essentialName(e.name) === want);
    if (i < 0) return null;
    spec.access.push({ typeId: tid, idx: i, name: tt.enumerators[i].name });
    spec.raw.push(i);
    return spec;
  }
  if (!isFieldKind(localSpec.kind)) throw coreError(`unknown relocation kind ${localSpec.kind}`);
  let tid = targId;
  for (let i = 0; i < localSpec.access.length; i++) {
    const la = localSpec.access[i];
    tid = skipModsAndTypedefs(targ, tid);
    if (la.name !== null) {
      const next = { id: tid };
      if (!matchMember(local, la, targ, tid, spec, next)) return null;
      tid = next.id;
      continue;
    }
    if (i > 0) {
      const tt = targ.type(tid);
      if (tt.kind !== 'ARRAY') return null;
      const flex = isFlexArray(targ, spec.access[spec.access.length - 1], tt.nelems);
      if (!flex && la.idx >= tt.nelems) return null;
      tid = skipModsAndTypedefs(targ, tt.elemType);
    }
    if (spec.raw.length === CORE_SPEC_MAX_LEN) throw coreError('struct/union/array nesting too deep', { typeId: tid });
    spec.access.push({ typeId: tid, idx: la.idx, name: null });
    spec.raw.push(la.idx);
    const sz = resolveSize(targ, tid);
    if (sz === null) throw coreError(`target type [${tid}] has no size`, { typeId: tid });
    spec.bitOffset += la.idx * sz * 8;
  }
  return spec;
}
