/**
 * The object spec: what a BPF ELF object contains, as plain deterministic data.
 *
 * Parsing the same bytes with the same options always yields deep-equal specs; nothing
 * here depends on the machine that parses (no kernel probing, no kallsyms, no kconfig).
 * Host-dependent choices (kconfig values, ksym addresses, CPU counts) belong to the plan.
 */
import type { Insn } from '../isa/index.js';
import type { ByteOrder } from '../elf/index.js';

export interface ObjectSpec {
  /** Object name as libbpf/bpftool derive it (file basename, non-alnum → `_`, ≤ 15 chars). */
  name: string;
  byteOrder: ByteOrder;
  /** Contents of the `license` section ('' when absent). */
  license: string;
  /** Contents of the `version` section, when present. */
  kernVersion: number | null;
  /** Entry programs in libbpf order (section index, then offset). */
  programs: ProgramSpec[];
  /** `.text` functions (callable subprograms), in section order. */
  subprograms: FunctionSpec[];
  /** Maps in libbpf order: BTF-defined, legacy, global data, .kconfig, struct_ops. */
  maps: MapSpec[];
  /** Variables of the global-data sections, per DATASEC, in offset order. */
  globals: GlobalVarSpec[];
  /** `.kconfig` and `.ksyms` externs in libbpf's sorted order. */
  externs: ExternSpec[];
  btf: BtfSummary | null;
  /** Keywords naming what the object uses (sorted): see features.ts. */
  features: string[];
}

export interface FunctionSpec {
  name: string;
  section: string;
  sectionIndex: number;
  /** Byte offset of the function in its section. */
  offset: number;
  /** Number of instruction slots (ld_imm64 counts 2). */
  slots: number;
  global: boolean;
}

export interface ProgramSpec extends FunctionSpec {
  /** Program type name without the BPF_PROG_TYPE_ prefix ('XDP', 'TRACING', ...); null for an unknown section. */
  type: string | null;
  typeId: number;
  expectedAttachType: string | null;
  /** For struct_ops programs libbpf puts the struct member index here. */
  expectedAttachTypeId: number;
  /** struct_ops programs: the map and member whose function pointer they implement. */
  structOps: { map: string; member: string; memberIndex: number } | null;
  /** Attach target from the section name ('do_unlinkat' for fentry/do_unlinkat), when it has one. */
  attachTarget: string | null;
  /** Name libbpf looks up in kernel BTF for the attach target (e.g. 'bpf_lsm_file_open'), when needed. */
  attachBtfName: string | null;
  sleepable: boolean;
  xdpFrags: boolean;
  usdt: boolean;
  /** false for a `?`-prefixed section. */
  autoload: boolean;
  /** Linked instructions: the program, then every subprogram it reaches, call immediates patched. */
  insns: Insn[];
  /** Where each appended subprogram starts in `insns` (slot index). */
  linked: { name: string; start: number; slots: number }[];
  /** Resolved relocations in libbpf order (own sorted by insn, then each appended subprogram's). */
  relocations: RelocSpec[];
  funcInfo: { insn: number; typeId: number }[];
  lineInfo: { insn: number; fileNameOff: number; lineOff: number; line: number; column: number }[];
  coreRelos: { insn: number; typeId: number; accessStr: string; kind: number }[];
  /** Helper ids called (sorted, unique). */
  helpers: number[];
  /** Names of maps referenced (sorted, unique). */
  maps: string[];
}

/** A relocation resolved against the object. `insn` is a slot index in the linked program. */
export type RelocSpec =
  | { kind: 'map'; insn: number; map: string; mapIndex: number }
  | { kind: 'data'; insn: number; map: string; mapIndex: number; offset: number }
  | { kind: 'call'; insn: number; target: string; targetInsn: number }
  | { kind: 'subprog_addr'; insn: number; target: string; targetInsn: number }
  | { kind: 'extern_call'; insn: number; extern: string }
  | { kind: 'extern_ld64'; insn: number; extern: string };

export type MapOrigin = 'btf' | 'legacy' | 'data' | 'rodata' | 'bss' | 'kconfig' | 'struct_ops';

export interface MapSpec {
  name: string;
  /** Position in the object's map list (the fd_array index of the generated loader). */
  index: number;
  origin: MapOrigin;
  /** ELF section holding the definition or the data. */
  section: string;
  /** Byte offset of the definition inside `section` (0 for internal maps). */
  sectionOffset: number;
  type: string;
  typeId: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  pinning: 'none' | 'by_name';
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** Inner map definition (map-in-map `__array(values, ...)`). */
  inner: MapSpec | null;
  /** Initial slots from `.values = { [i] = &x }`: target map or program name. */
  slots: { index: number; target: string; targetKind: 'map' | 'prog' }[];
  /** Initial contents of a global-data map (ELF bytes, zeros for .bss); null otherwise. */
  initialValue: Uint8Array | null;
  /** Global-data map with at least one non-static variable (libbpf sets BPF_F_MMAPABLE). */
  mmapable: boolean;
  /** `.rodata*` and `.kconfig` maps: libbpf freezes them after the update. */
  frozen: boolean;
  /** struct_ops maps: value type name and function pointer members → program names. */
  structOps: { typeName: string; typeId: number; funcs: { member: string; memberIndex: number; prog: string }[] } | null;
}

export interface GlobalVarSpec {
  name: string;
  section: string;
  offset: number;
  size: number;
  typeId: number;
  /** 'static' | 'global' | 'extern' (BTF VAR linkage). */
  linkage: 'static' | 'global' | 'extern';
}

export type KconfigKind = 'bool' | 'tristate' | 'char' | 'int' | 'char_array' | 'unknown';

export interface ExternSpec {
  name: string;
  kind: 'kconfig' | 'ksym';
  weak: boolean;
  btfId: number;
  /** ksyms: a function (kfunc) rather than a variable. */
  func: boolean;
  /** ksyms: has a BTF type (typed ksym) rather than `void` (typeless). */
  typed: boolean;
  /** kconfig: value kind, size, alignment, signedness and offset in the .kconfig map. */
  kconfig: { kind: KconfigKind; size: number; align: number; signed: boolean; offset: number } | null;
}

export interface BtfSummary {
  byteOrder: ByteOrder;
  types: number;
  stringsBytes: number;
  /** Number of types of each kind, kinds sorted by name. */
  kinds: Record<string, number>;
  ext: { funcInfo: number; lineInfo: number; coreRelos: number } | null;
}
