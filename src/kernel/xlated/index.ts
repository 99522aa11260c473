/**
 * The kernel's xlated program length (bpf_prog_info.xlated_prog_len / 8): the instruction
 * count after the verifier's rewrites, predicted from the program as loaded, its type and the
 * maps it references. Pure: bytes and plain data in, a count and the rewrites that make it out.
 */
import type { Btf } from '../../loader/btf/index.js';
import { explore } from './explore.js';
import { rewrite } from './rewrite.js';
import type { XlatedInput, XlatedResult } from './types.js';

export type { XlatedInput, XlatedMap, XlatedMapLoad, XlatedResult, XlatedStep, XlatedStepKind } from './types.js';

/** Predict the xlated length of a program loaded by a privileged (CAP_BPF + CAP_PERFMON) loader on x86-64 Linux 6.18. */
export function xlatedLength(input: XlatedInput): XlatedResult {
  const ex = explore(input);
  const r = rewrite(input, ex);
  return {
    count: r.count,
    steps: r.steps,
    exact: ex.complete && r.unmodelled.length === 0,
    unmodelled: r.unmodelled,
    processed: ex.processed,
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
