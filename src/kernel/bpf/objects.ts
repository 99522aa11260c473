/**
 * Kernel objects of the bpf() model (maps, programs, BTF objects) and the process
 * fd table that refers to them. Objects get ids in creation order, as the kernel's
 * idr does; an object lives while an fd or another object refers to it.
 */
import type { Btf } from '../../loader/btf/index.js';
import type { Program, Region } from '../vm/index.js';
import { E, fail } from './errno.js';

export interface KernelBtf {
  readonly kind: 'btf';
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly btf: Btf;
  /** Module name for a kernel module's BTF, 'vmlinux' for the kernel's, null for a loaded one. */
  readonly kernelName: string | null;
}

export interface InnerMapMeta {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

export interface KernelMap {
  readonly kind: 'map';
  readonly id: number;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly numaNode: number;
  readonly mapExtra: bigint;
  readonly btf: KernelBtf | null;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly btfVmlinuxValueTypeId: number;
  readonly innerMeta: InnerMapMeta | null;
  readonly exclProgHash: Uint8Array | null;
  frozen: boolean;
  /** struct bpf_map as the loader reads it (sha, excl); a read-only kernel region. */
  readonly struct: Region;
  /** Arrays: one region of round_up(value_size, 8) * max_entries bytes. */
  readonly values: Region | null;
  /** Hash-like maps and fd maps: key (hex) → value bytes, in insertion order. */
  readonly entries: Map<string, Uint8Array>;
  /** Fd maps (prog array, map-in-map): slot key (hex) → the object stored. */
  readonly refs: Map<string, KernelMap | KernelProg>;
  /** map->sha as last computed by OBJ_GET_INFO_BY_FD (zeros until then). */
  readonly sha: Uint8Array;
}

export interface ResolvedLoad {
  /** Slot index of the ld_imm64. */
  insn: number;
  pseudo: number;
  map: KernelMap;
  /** Value offset for MAP_VALUE / MAP_IDX_VALUE. */
  offset: number;
}

export interface KfuncRef {
  insn: number;
  btfId: number;
  name: string;
  module: string;
}

/** What the xlated-length model predicts for a program (src/kernel/xlated). */
export interface XlatedPrediction {
  /** Predicted bpf_prog_info.xlated_prog_len / 8: instructions after the verifier's rewrites. */
  insnCnt: number;
  /** The model covers every rewrite this program needs (else `unmodelled` says what it does not). */
  exact: boolean;
  unmodelled: string[];
}

export interface KernelProg {
  readonly kind: 'prog';
  readonly id: number;
  readonly type: number;
  readonly expectedAttachType: number;
  readonly name: string;
  readonly license: string;
  readonly gpl: boolean;
  readonly flags: number;
  /** Instructions as the loader passed them (after the loader's patching; before CO-RE and the verifier's rewrites). */
  readonly insns: Uint8Array;
  /** The instructions after the kernel applied the CO-RE records (check_core_relo); null when there were none. The tag is theirs. */
  readonly relocatedInsns: Uint8Array | null;
  readonly tag: Uint8Array;
  readonly digest: Uint8Array;
  readonly attachBtfId: number;
  readonly attachBtfObj: KernelBtf | null;
  readonly attachTarget: string | null;
  readonly btf: KernelBtf | null;
  readonly funcInfoCnt: number;
  readonly lineInfoCnt: number;
  readonly coreReloCnt: number;
  readonly usedMaps: KernelMap[];
  readonly loads: ResolvedLoad[];
  readonly kfuncs: KfuncRef[];
  readonly helpers: number[];
  readonly signed: boolean;
  /** The xlated length predicted from the program and the maps' state (frozen, contents) at its PROG_LOAD (worked out on first read). */
  readonly xlated: XlatedPrediction;
  /** The instructions the verifier walked (`relocatedInsns ?? insns`) decoded and validated for the interpreter; null when they do not pass. */
  readonly compiled: Program | null;
}

export type KernelObject = KernelMap | KernelProg | KernelBtf;

/** The process fd table: lowest free fd from 3 up (0-2 are stdio). */
export class FdTable {
  readonly #fds = new Map<number, KernelObject>();

  install(obj: KernelObject): number {
    let fd = 3;
    while (this.#fds.has(fd)) fd++;
    this.#fds.set(fd, obj);
    return fd;
  }

  get(fd: number): KernelObject | undefined {
    return this.#fds.get(fd);
  }

  close(fd: number): void {
    if (!this.#fds.delete(fd)) fail(E.EBADF, `close(${fd}): not an open fd`);
  }

  map(fd: number): KernelMap {
    const o = this.#fds.get(fd);
    if (!o) fail(E.EBADF, `fd ${fd} is not open`);
    if (o.kind !== 'map') fail(E.EINVAL, `fd ${fd} is a ${o.kind}, not a map`);
    return o;
  }

  prog(fd: number): KernelProg {
    const o = this.#fds.get(fd);
    if (!o) fail(E.EBADF, `fd ${fd} is not open`);
    if (o.kind !== 'prog') fail(E.EINVAL, `fd ${fd} is a ${o.kind}, not a program`);
    return o;
  }

  btf(fd: number): KernelBtf {
    const o = this.#fds.get(fd);
    if (!o) fail(E.EBADF, `fd ${fd} is not open`);
    if (o.kind !== 'btf') fail(E.EINVAL, `fd ${fd} is a ${o.kind}, not BTF`);
    return o;
  }

  /** Open fds in ascending order. */
  entries(): [number, KernelObject][] {
    return [...this.#fds.entries()].sort((a, b) => a[0] - b[0]);
  }
}
