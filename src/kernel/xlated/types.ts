/** Inputs and results of the xlated-length model. */

/** A map as the verifier sees it through an ld_imm64. */
export interface XlatedMap {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** BPF_MAP_FREEZE was called (with BPF_F_RDONLY_PROG, loads from it are constants). */
  frozen: boolean;
  /** Arrays: value_size * max_entries bytes (element after element); null when unknown. */
  contents: Uint8Array | null;
  /** Map-in-map: the inner map template (what a lookup returns). */
  inner?: { type: number; keySize: number; valueSize: number; maxEntries: number; flags: number } | null;
}

/** One resolved ld_imm64 of a map (pseudo 1/5: the map; 2/6: a pointer into its value). */
export interface XlatedMapLoad {
  /** Instruction slot of the ld_imm64. */
  insn: number;
  pseudo: number;
  map: XlatedMap;
  /** Value offset for pseudo 2/6. */
  offset: number;
}

export interface XlatedInput {
  /** The program's instructions as loaded (8 bytes each, after the loader patched fds in). */
  insns: Uint8Array;
  /** Byte order of `insns` (default little-endian: x86-64). */
  order?: 'le' | 'be';
  progType: number;
  expectedAttachType: number;
  /** prog_flags (BPF_F_SLEEPABLE matters). */
  progFlags?: number;
  maps: XlatedMapLoad[];
  /** bpf_capable() loader (dead code removal instead of sanitizing). Default true. */
  privileged?: boolean;
  /** Instruction indexes where global (BTF_FUNC_GLOBAL) subprograms start: verified apart, not inlined in callers' paths. */
  globalFuncs?: number[];
  /** Upper bound on instructions the exploration processes before giving up (default 1,000,000). */
  budget?: number;
}

export type XlatedStepKind =
  | 'dead-code'
  | 'nop'
  | 'prologue'
  | 'ctx-access'
  | 'ctx-narrow'
  | 'map-lookup-inline'
  | 'loop-inline'
  | 'helper-inline'
  | 'storage-get-gfp'
  | 'timer-aux'
  | 'div-guard'
  | 'ld-abs'
  | 'may-goto';

export interface XlatedStep {
  kind: XlatedStepKind;
  /** Instruction index in the program as loaded. */
  at: number;
  /** Instructions added (positive) or removed (negative). */
  delta: number;
  detail?: string;
}

export interface XlatedResult {
  /** Predicted bpf_prog_info.xlated_prog_len / 8. */
  count: number;
  steps: XlatedStep[];
  /** True when every rewrite this program needs is modelled; false lists why in `unmodelled`. */
  exact: boolean;
  unmodelled: string[];
  /** Instructions the exploration processed. */
  processed: number;
}
