/**
 * The kernel's xlated program length (bpf_prog_info.xlated_prog_len / 8): the instruction
 * count after the verifier's rewrites, predicted from the program as loaded, its type and the
 * maps it references. Pure: bytes and plain data in, a count and the rewrites that make it out.
 */
import type { Btf } from '../../loader/btf/index.js';
import type { ReportMap, ReportProg } from '../replay/report.js';
import { explore } from './explore.js';
import { rewrite } from './rewrite.js';
import type { XlatedInput, XlatedMap, XlatedResult } from './types.js';

export type { XlatedInput, XlatedMap, XlatedMapLoad, XlatedResult, XlatedStep, XlatedStepKind } from './types.js';

/** Predict the xlated length of a program loaded by a privileged (CAP_BPF + CAP_PERFMON) loader on x86-64 Linux 6.18. */
export function xlatedLength(input: XlatedInput): XlatedResult {
  const ex = explore(input);
  const r = rewrite(input, ex);
  return { count: r.count, steps: r.steps, exact: ex.complete && r.unmodelled.length === 0, unmodelled: r.unmodelled, processed: ex.processed };
}

/** The map as the xlated model needs it, from a replay report's map. */
export function xlatedMapFromReport(m: ReportMap): XlatedMap {
  return {
    type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags, frozen: m.frozen,
    contents: m.contents === null ? null : new Uint8Array(Buffer.from(m.contents, 'hex')),
    inner: m.innerMap ? { ...m.innerMap } : null,
  };
}

/**
 * The input for one program of a replay report: its instructions (`prog.insns`), type and
 * expected attach type, flags, and every map ld_imm64 (`prog.maps`) resolved against `maps`
 * (the report's `maps`, found by id). Map state is taken as the report has it at the end of the
 * run, which is the state at PROG_LOAD for the loaders bpfsign generates (maps are created,
 * filled and frozen before programs load).
 */
export function xlatedInputFromReport(prog: ReportProg, maps: readonly ReportMap[], extra: Partial<XlatedInput> = {}): XlatedInput {
  const byId = new Map(maps.map((m) => [m.id, m]));
  const cache = new Map<number, XlatedMap>();
  const get = (id: number): XlatedMap => {
    let x = cache.get(id);
    if (!x) {
      const m = byId.get(id);
      x = m ? xlatedMapFromReport(m) : { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, frozen: false, contents: null };
      cache.set(id, x);
    }
    return x;
  };
  return {
    insns: new Uint8Array(Buffer.from(prog.insns, 'hex')),
    progType: prog.type,
    expectedAttachType: prog.expectedAttachType,
    progFlags: prog.flags,
    maps: prog.maps.map((l) => ({ insn: l.insn, pseudo: l.pseudo, map: get(l.mapId), offset: l.offset })),
    ...extra,
  };
}

/**
 * Instruction indexes of a program's global subprograms (BTF_FUNC_GLOBAL in its func_info):
 * the verifier checks them on their own, with arguments it knows nothing of, so branches on
 * their arguments are not resolved from callers' values. Record 0 (the program) is skipped.
 */
export function globalFuncStarts(btf: Btf, funcInfo: readonly { insn: number; typeId: number }[]): number[] {
  const out: number[] = [];
  for (const f of funcInfo) {
    if (f.insn === 0 || f.typeId <= 0 || f.typeId >= btf.totalCount) continue;
    const t = btf.type(f.typeId);
    if (t.kind === 'FUNC' && t.linkage === 1) out.push(f.insn);
  }
  return out;
}
