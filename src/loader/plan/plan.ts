/**
 * The plan: the ordered kernel operations libbpf performs for an object in gen_loader mode,
 * with every byte they carry, plus every host-dependent input that went into them.
 */
import type { Endian } from '../uapi/index.js';
import type { ElfFile } from '../elf/index.js';

/** Host-dependent inputs. Every one has a documented default and ends up in `Plan.host`. */
export interface HostOptions {
  /**
   * Kconfig values as they appear in a kernel .config (`y`, `m`, `n`, `123`, `0x10`, `"text"`).
   * Default `{}`: weak CONFIG_* externs read as 0, strong ones are an error (as libbpf without a config).
   */
  kconfig?: Readonly<Record<string, string>>;
  /** LINUX_KERNEL_VERSION, encoded `(a << 16) + (b << 8) + min(c, 255)`. Default 0x061200 (6.18.0). */
  kernelVersion?: number;
  /** Typeless ksym addresses (host /proc/kallsyms). Default `{}`: strong typeless ksyms are an error, weak ones 0. */
  ksymAddresses?: Readonly<Record<string, bigint>>;
  /** Possible CPUs: max_entries of a PERF_EVENT_ARRAY declared without one. Default 1. */
  possibleCpus?: number;
  /** Host page size: RINGBUF/USER_RINGBUF max_entries rounding. Default 4096. */
  pageSize?: number;
  /** USDT programs load with expected_attach_type BPF_TRACE_UPROBE_MULTI (libbpf ≥ 1.3 probe). Default true. */
  usdtUprobeMulti?: boolean;
  /** Byte order libbpf writes .kconfig values in (the generating host's). Default 'le'. */
  hostByteOrder?: Endian;
}

export interface PlanOptions extends HostOptions {
  /** The ELF object bytes the spec was parsed from (BTF, .BTF.ext layout, symbol visibility). */
  object: Uint8Array;
  /** `object` parsed, when the caller has parsed it already (parseObjectParts); else it is parsed here. */
  elf?: ElfFile;
}

/** The resolved host inputs, recorded in the plan. */
export interface HostInputs {
  kconfig: Record<string, string>;
  kernelVersion: number;
  ksymAddresses: Record<string, string>;
  possibleCpus: number;
  pageSize: number;
  usdtUprobeMulti: boolean;
  hostByteOrder: Endian;
}

export interface MapCreateAttr {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  ifindex: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
}

/** One extern relocation record (bpf_gen__record_extern). */
export interface ExternRecord {
  name: string;
  /** BTF kind looked up: 12 FUNC, 14 VAR. */
  kind: number;
  /** Slot index of the instruction in the program. */
  insn: number;
  weak: boolean;
  typeless: boolean;
  /** ld_imm64 (ksym) rather than call (kfunc). */
  ld64: boolean;
}

export interface ProgLoadAttr {
  name: string;
  type: number;
  expectedAttachType: number;
  flags: number;
  license: string;
  /** Final instructions in target byte order. */
  insns: Uint8Array;
  insnCnt: number;
  funcInfo: Uint8Array;
  funcInfoCnt: number;
  funcInfoRecSize: number;
  lineInfo: Uint8Array;
  lineInfoCnt: number;
  lineInfoRecSize: number;
  coreRelos: Uint8Array;
  coreReloCnt: number;
  /** 1 when the kernel BTF attach target is resolved by the loader, else 0. */
  attachBtfId: number;
  attach: { name: string; kind: number } | null;
  externs: ExternRecord[];
}

export type PlanOp =
  | { op: 'btf_load'; btf: Uint8Array }
  | { op: 'map_create'; mapIndex: number; attr: MapCreateAttr }
  | { op: 'map_update'; mapIndex: number; value: Uint8Array }
  | { op: 'map_freeze'; mapIndex: number }
  | { op: 'populate_outer_map'; outerIndex: number; slot: number; innerIndex: number }
  | { op: 'prog_load'; loadIndex: number; prog: ProgLoadAttr }
  /** Beyond libbpf: a PROG_ARRAY initial slot, filled after the programs are loaded. */
  | { op: 'prog_array_update'; mapIndex: number; slot: number; loadIndex: number };

export interface PlanMap {
  name: string;
  /** Skeleton identifier (bpftool's rule). */
  ident: string;
  index: number;
  internal: boolean;
  mmapable: boolean;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Pinning recorded for the skeleton to perform (libbpf would fail in gen mode). */
  pin: { path: string } | null;
}

export interface Plan {
  objectName: string;
  byteOrder: Endian;
  /** libbpf's obj->nr_programs: every function program, .text subprograms and non-autoload ones included. */
  nrPrograms: number;
  nrMaps: number;
  /** Bytes of the loader's stack area (136 for ≤ 32 programs). */
  stackSize: number;
  ops: PlanOp[];
  maps: PlanMap[];
  /** Skeleton programs (entry programs, object order) and whether the loader loads them. */
  programs: { name: string; loaded: boolean }[];
  host: HostInputs;
}
