/**
 * applyCoreRelocations: performs a program's CO-RE relocations against a
 * target kernel's BTF the way libbpf does (candidate search by essential
 * name in vmlinux, then module BTF; per-root-type candidate pruning shared
 * across relocations; ambiguity checks; poisoning), and reports each one.
 */
import type { Btf, ByteOrder } from '../../loader/btf/index.js';
import { coreReloKindName } from '../../loader/btf/index.js';
import type { Insn } from '../../loader/isa/index.js';
import { calcRelo, type CoreResult } from './calc.js';
import { kindsCoreCompat, matchSpec } from './match.js';
import { essentialName } from './names.js';
import { patchInsn } from './patch.js';
import { CORE_KIND, type CoreSpec, coreError, isFieldKind, isEnumvalKind, parseCoreSpec } from './spec.js';

export interface CoreTarget {
  vmlinux: Btf;
  /** Module BTFs (split over vmlinux), searched only when vmlinux has no candidate. */
  modules?: { name: string; btf: Btf }[];
  /** The candidate search's index of these BTFs, kept by the caller across calls; absent: built for this call. */
  names?: CoreNameIndex;
}

export interface CoreRelocation {
  /** Slot index of the instruction in the program. */
  insn: number;
  typeId: number;
  accessStr: string;
  kind: number;
}

export interface CoreSpecView {
  /** 'vmlinux', a module name, or 'local'. */
  btf: string;
  typeId: number;
  typeName: string;
  raw: number[];
  /** C-like view of the access: `.a[3].b`, `::ENUMERATOR`, or '' for type relocations. */
  path: string;
  bitOffset: number;
}

export interface CoreReport {
  insn: number;
  kind: number;
  kindName: string;
  accessStr: string;
  local: CoreSpecView;
  /** The (first) matching target spec; null when no candidate matched or for type_id_local. */
  target: CoreSpecView | null;
  /** Number of candidates that matched. */
  matched: number;
  /** Value the compiler put in the instruction (as libbpf computes it from the local spec). */
  localValue: bigint;
  /** The instruction's field before patching (imm, off or imm64). */
  oldValue: bigint;
  /** The value written (0 when poisoned). */
  newValue: bigint;
  poisoned: boolean;
  /** LDX/ST/STX memory size change, when one happened. */
  memSize: { from: number; to: number } | null;
}

interface Candidate {
  btf: Btf;
  btfName: string;
  id: number;
}

/** Candidate lists per local root type id; share one across the programs of an object, like libbpf. */
export type CoreCandidateCache = Map<number, Candidate[]>;

/**
 * The candidate search's index: each BTF's own type ids by essential name (libbpf's key), built
 * the first time a search looks in that BTF and kept with this object. A target BTF is searched
 * for every program relocated against it; whoever keeps the BTF keeps its index beside it (the
 * kernel profile does) and passes it in CoreTarget.names.
 */
export class CoreNameIndex {
  readonly #byBtf = new Map<Btf, Map<string, number[]>>();

  /** Own type ids of `btf` (its base's aside) whose essential name is `essential`, in id order. */
  ids(btf: Btf, essential: string): readonly number[] {
    let ix = this.#byBtf.get(btf);
    if (!ix) this.#byBtf.set(btf, (ix = essentialIndex(btf)));
    return ix.get(essential) ?? [];
  }
}

function essentialIndex(btf: Btf): Map<string, number[]> {
  const ix = new Map<string, number[]>();
  for (let id = btf.startId; id < btf.totalCount; id++) {
    const n = btf.name(id);
    if (n === '') continue;
    const e = essentialName(n);
    const list = ix.get(e);
    if (list) list.push(id);
    else ix.set(e, [id]);
  }
  return ix;
}

function findCandidates(local: Btf, localId: number, target: CoreTarget, names: CoreNameIndex): Candidate[] {
  const name = local.name(localId);
  if (name === '') throw coreError(`local type [${localId}] is anonymous: candidate search needs a name`, { typeId: localId });
  const kind = local.kind(localId);
  const ess = essentialName(name);
  const from = (btf: Btf, btfName: string): Candidate[] =>
    names
      .ids(btf, ess)
      .filter((id) => kindsCoreCompat(btf.kind(id), kind))
      .map((id) => ({ btf, btfName, id }));
  const main = from(target.vmlinux, 'vmlinux');
  if (main.length > 0) return main;
  const out: Candidate[] = [];
  for (const m of target.modules ?? []) out.push(...from(m.btf, m.name));
  return out;
}

function specPath(btf: Btf, spec: CoreSpec): string {
  if (isEnumvalKind(spec.kind)) return `::${spec.access[0]?.name ?? ''}`;
  if (!isFieldKind(spec.kind)) return '';
  let s = '';
  spec.access.forEach((a, i) => {
    if (a.name !== null) s += `.${a.name}`;
    else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
  });
  void btf;
  return s;
}

function view(btf: Btf, btfName: string, spec: CoreSpec): CoreSpecView {
  return {
    btf: btfName,
    typeId: spec.rootTypeId,
    typeName: btf.name(spec.rootTypeId),
    raw: spec.raw.slice(),
    path: specPath(btf, spec),
    bitOffset: spec.bitOffset,
  };
}

function currentValue(i: Insn): bigint {
  const cls = i.opcode & 7;
  if (i.width === 2) return BigInt.asUintN(64, (BigInt((i.next?.imm ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0));
  if (cls === 1 || cls === 2 || cls === 3) return BigInt(i.off);
  return BigInt(i.imm);
}

/** Resolves one relocation: local spec, matching target spec, values (bpf_core_calc_relo_insn). */
function resolveOne(
  local: Btf,
  r: CoreRelocation,
  idx: number,
  target: CoreTarget,
  cache: CoreCandidateCache,
  names: CoreNameIndex,
  order: ByteOrder,
  prune: boolean,
) {
  if (!Number.isInteger(r.typeId) || r.typeId <= 0 || r.typeId >= local.totalCount) {
    throw coreError(`relo #${idx}: no local type [${r.typeId}]`, { typeId: r.typeId, pc: r.insn });
  }
  const localSpec = parseCoreSpec(local, r.typeId, r.accessStr, r.kind);
  if (r.kind === CORE_KIND.TYPE_ID_LOCAL) {
    const v = BigInt(r.typeId);
    const res: CoreResult = {
      origValue: v,
      newValue: v,
      poison: false,
      validate: false,
      failMemSizeAdjust: false,
      origSize: 0,
      newSize: 0,
    };
    return { localSpec, res, targ: null, matched: 0 };
  }
  let cands = cache.get(r.typeId);
  if (!cands) {
    cands = findCandidates(local, r.typeId, target, names);
    cache.set(r.typeId, cands);
  }
  let best: { cand: Candidate; spec: CoreSpec; res: CoreResult } | null = null;
  const kept: Candidate[] = [];
  for (const cand of cands) {
    const spec = matchSpec(local, localSpec, cand.btf, cand.id);
    if (!spec) continue;
    const res = calcRelo(local, localSpec, cand.btf, spec, order);
    if (!best) best = { cand, spec, res };
    else if (spec.bitOffset !== best.spec.bitOffset) {
      throw coreError(`relo #${idx}: field offset ambiguity: ${spec.bitOffset} != ${best.spec.bitOffset}`, {
        pc: r.insn,
        got: spec.bitOffset,
        want: best.spec.bitOffset,
      });
    } else if (res.poison !== best.res.poison || res.newValue !== best.res.newValue) {
      throw coreError(`relo #${idx}: relocation decision ambiguity: ${res.newValue} != ${best.res.newValue}`, {
        pc: r.insn,
        got: res.newValue,
        want: best.res.newValue,
      });
    }
    kept.push(cand);
  }
  if (prune && kept.length > 0) cache.set(r.typeId, kept);
  if (best) return { localSpec, res: best.res, targ: { spec: best.spec, cand: best.cand }, matched: kept.length };
  return { localSpec, res: calcRelo(local, localSpec, null, null, order), targ: null, matched: 0 };
}

export interface ApplyCoreOptions {
  /** Byte order used for FIELD_LSHIFT_U64 (default: the target BTF's). */
  byteOrder?: ByteOrder;
  cache?: CoreCandidateCache;
  /**
   * Narrow a root type's candidate list to the ones that matched, for the relocations after
   * (libbpf, default). The kernel's bpf_core_apply copies the cached list for every
   * relocation instead: pass false to relocate as the kernel does.
   */
  pruneCandidates?: boolean;
}

/**
 * Applies `relos` to `insns` against `target`. Returns the patched program (a new
 * array; ld_imm64 still one element) and one report per relocation, in input order.
 * Throws a KernelError where libbpf would fail the load (malformed access string,
 * anonymous root type, ambiguity, an instruction that does not hold the expected value).
 */
export function applyCoreRelocations(
  insns: readonly Insn[],
  relos: readonly CoreRelocation[],
  local: Btf,
  target: CoreTarget,
  opts: ApplyCoreOptions = {},
): { insns: Insn[]; reports: CoreReport[] } {
  const order = opts.byteOrder ?? target.vmlinux.byteOrder;
  const cache = opts.cache ?? new Map();
  const names = target.names ?? new CoreNameIndex();
  const slotToIndex = new Map<number, number>();
  let slot = 0;
  insns.forEach((ins, i) => {
    slotToIndex.set(slot, i);
    slot += ins.width;
  });
  const out: Insn[][] = insns.map((i) => [i]);
  const reports: CoreReport[] = [];
  relos.forEach((r, idx) => {
    const at = slotToIndex.get(r.insn);
    if (at === undefined) throw coreError(`relo #${idx}: insn #${r.insn} is not an instruction start of the program`, { pc: r.insn });
    const { localSpec, res, targ, matched } = resolveOne(local, r, idx, target, cache, names, order, opts.pruneCandidates ?? true);
    const before = out[at][0];
    const patched = patchInsn(before, res, { pc: r.insn, relo: idx });
    out[at] = patched;
    const after = patched[0];
    const memFrom = before.width === 1 ? before.opcode & 0x18 : 0,
      memTo = after.opcode & 0x18;
    const sizes: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
    const memOp = (before.opcode & 7) === 1 || (before.opcode & 7) === 2 || (before.opcode & 7) === 3;
    reports.push({
      insn: r.insn,
      kind: r.kind,
      kindName: coreReloKindName(r.kind),
      accessStr: r.accessStr,
      local: view(local, 'local', localSpec),
      target: targ ? view(targ.cand.btf, targ.cand.btfName, targ.spec) : null,
      matched,
      localValue: res.origValue,
      oldValue: currentValue(before),
      newValue: res.poison ? 0n : res.newValue,
      poisoned: res.poison || (res.failMemSizeAdjust && memOp),
      memSize: memOp && !res.poison && !res.failMemSizeAdjust && memFrom !== memTo ? { from: sizes[memFrom], to: sizes[memTo] } : null,
    });
  });
  return { insns: out.flat(), reports };
}
