/**
 * PROG_LOAD in the bpf() model, in the kernel's order. bpf_prog_load: flags, type,
 * attach types the profile's kernel refuses, sizes, license, name, expected attach
 * type, signature. Then bpf_check: fd_array, kfunc calls (add_subprog_and_kfunc),
 * func_info and line_info, CO-RE relocations applied against the profile's BTF
 * (check_core_relo), the tag, every ld_imm64 (maps, exclusive maps, typed ksyms looked
 * up in kallsyms), the attach target (check_attach_btf_id), and the path walk of
 * src/kernel/check (do_check: reachable helper calls, poisoned CO-RE instructions,
 * memory accesses through scalars, uninitialised registers).
 */
import {
  ATTACH_TYPE as A,
  ATTACH_TYPE_NAME,
  BPF_F_SLEEPABLE,
  MAP_TYPE,
  PROG_LOAD_SIGNED_ATTR,
  PROG_TYPE as P,
  PROG_TYPE_NAME,
  BPF_FUNC_INFO,
  BPF_LINE_INFO,
  structReader,
  type StructLayout,
  type StructReader,
} from '../../loader/uapi/index.js';
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  HELPER_NAMES,
  INSN_SIZE,
  OP_CALL,
  OP_LD_IMM64,
  decodeSlot,
  type InsnSlot,
} from '../../loader/isa/index.js';
import type { Btf } from '../../loader/btf/index.js';
import { walkPaths } from '../check/paths.js';
import { ksymAddress, refusedAttach } from '../profile/index.js';
import { globalFuncStarts, xlatedLength, type XlatedInput, type XlatedMap } from '../xlated/index.js';
import { applyProgCoreRelos } from './core-relo.js';
import { E, SysError, fail } from './errno.js';
import { elemSize } from './maps.js';
import { objName, type ModelContext as BpfModel } from './context.js';
import type { KernelBtf, KernelMap, KernelProg, KfuncRef, ResolvedLoad, XlatedPrediction } from './objects.js';
import { calcTag } from './tag.js';
import { resolveKeyringId } from './keyring.js';
import { isKernelError } from '../errors.js';
import { loadProgram as compileVm, type Program } from '../vm/index.js';

export type { SignatureVerifier } from './context.js';

const PROG_FLAGS = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x10000;
const MAX_INSNS = 1_000_000;
const MAX_USED_MAPS = 64;
const KMALLOC_MAX_CACHE_SIZE = 8192;
const GPL: ReadonlySet<string> = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);
/** The last helper id of Linux 6.18 (bpf_cgrp_storage_delete = 211). */
/** The highest helper id this kernel knows (the generated table's last). */
const MAX_HELPER = HELPER_NAMES.length - 1;

const ALLOWED_ATTACH: Partial<Record<number, readonly number[]>> = {
  [P.CGROUP_SOCK]: [A.CGROUP_INET_SOCK_CREATE, A.CGROUP_INET_SOCK_RELEASE, A.CGROUP_INET4_POST_BIND, A.CGROUP_INET6_POST_BIND],
  [P.CGROUP_SOCK_ADDR]: [
    A.CGROUP_INET4_BIND,
    A.CGROUP_INET6_BIND,
    A.CGROUP_INET4_CONNECT,
    A.CGROUP_INET6_CONNECT,
    A.CGROUP_UNIX_CONNECT,
    A.CGROUP_INET4_GETPEERNAME,
    A.CGROUP_INET6_GETPEERNAME,
    A.CGROUP_UNIX_GETPEERNAME,
    A.CGROUP_INET4_GETSOCKNAME,
    A.CGROUP_INET6_GETSOCKNAME,
    A.CGROUP_UNIX_GETSOCKNAME,
    A.CGROUP_UDP4_SENDMSG,
    A.CGROUP_UDP6_SENDMSG,
    A.CGROUP_UNIX_SENDMSG,
    A.CGROUP_UDP4_RECVMSG,
    A.CGROUP_UDP6_RECVMSG,
    A.CGROUP_UNIX_RECVMSG,
  ],
  [P.CGROUP_SKB]: [A.CGROUP_INET_INGRESS, A.CGROUP_INET_EGRESS],
  [P.CGROUP_SOCKOPT]: [A.CGROUP_GETSOCKOPT, A.CGROUP_SETSOCKOPT],
  [P.SK_LOOKUP]: [A.SK_LOOKUP],
  [P.SK_REUSEPORT]: [A.SK_REUSEPORT_SELECT, A.SK_REUSEPORT_SELECT_OR_MIGRATE],
  [P.SYSCALL]: [0],
  [P.EXT]: [0],
  [P.NETFILTER]: [A.NETFILTER],
  [P.TRACING]: [A.TRACE_RAW_TP, A.TRACE_FENTRY, A.TRACE_FEXIT, A.MODIFY_RETURN, A.TRACE_ITER],
  [P.LSM]: [A.LSM_MAC, A.LSM_CGROUP],
};
/**
 * Program types whose helpers depend on the expected attach type (bpf_setsockopt for
 * CGROUP_SOCKOPT, bpf_bind for CGROUP_SOCK_ADDR, bpf_get_retval for the cgroup types), and
 * the attach type a profile's helper probe loads them with (scripts/make-profile.ts; 0
 * otherwise): their probed list is applied only to programs with that attach type.
 */
const PROBE_ATTACH: Partial<Record<number, number>> = {
  [P.CGROUP_SOCK]: A.CGROUP_INET_SOCK_CREATE,
  [P.CGROUP_SOCK_ADDR]: A.CGROUP_INET4_CONNECT,
  [P.CGROUP_SOCKOPT]: A.CGROUP_GETSOCKOPT,
  [P.CGROUP_SKB]: A.CGROUP_INET_INGRESS,
  [P.CGROUP_DEVICE]: 0,
  [P.CGROUP_SYSCTL]: 0,
  [P.SOCK_OPS]: 0,
};

/** The helpers the profile says this program may call, or null when it does not know. */
function allowedHelpers(p: BpfModel['profile'], type: number, eat: number, flags: number): ReadonlySet<number> | null {
  const list = p.helpers[PROG_TYPE_NAME[type] ?? ''];
  if (!list) return null;
  const probed = PROBE_ATTACH[type];
  if (probed !== undefined && probed !== eat) return null;
  // The probe loads non-sleepable programs (SYSCALL: sleepable); sleepable ones may call more.
  if (flags & BPF_F_SLEEPABLE && type !== P.SYSCALL) return null;
  return new Set(list);
}

const SLEEPABLE_TYPES: ReadonlySet<number> = new Set<number>([P.TRACING, P.LSM, P.KPROBE, P.STRUCT_OPS, P.SYSCALL]);
const NEEDS_ATTACH_BTF: ReadonlySet<number> = new Set<number>([P.TRACING, P.LSM, P.STRUCT_OPS]);

/** The attach target (bpf_check_attach_target): the BTF type's kind and name, and for trampolines its address in kallsyms. */
function attachTarget(m: BpfModel, type: number, eat: number, btfId: number, obj: KernelBtf | null): string {
  const btf: Btf | null = obj ? obj.btf : m.profile.vmlinux;
  if (!btf) fail(E.EINVAL, 'no kernel BTF to find the attach target in');
  if (btfId >= btf.totalCount || btfId === 0) fail(E.EINVAL, `attach_btf_id ${btfId} is invalid`);
  const kind = btf.kind(btfId),
    name = btf.name(btfId);
  const want = (k: string, prefix = '') => {
    if (kind !== k || !name.startsWith(prefix)) fail(E.EINVAL, `attach_btf_id ${btfId} is ${kind} '${name}', want ${k} ${prefix}*`);
  };
  if (type === P.STRUCT_OPS) want('STRUCT');
  else if (eat === A.TRACE_RAW_TP) want('TYPEDEF', 'btf_trace_');
  else if (eat === A.TRACE_ITER) want('FUNC', 'bpf_iter_');
  else if (type === P.LSM) want('FUNC', 'bpf_lsm_');
  else want('FUNC');
  const trampoline = type !== P.STRUCT_OPS && eat !== A.TRACE_RAW_TP && eat !== A.TRACE_ITER;
  if (trampoline && m.profile.kallsyms && (obj === null || obj.kernelName === 'vmlinux') && ksymAddress(m.profile, name) === undefined)
    fail(E.ENOENT, `The address of function ${name} cannot be found`);
  return name;
}

type ProgLoadAttr = StructReader<keyof typeof PROG_LOAD_SIGNED_ATTR.fields>;

/** What bpf_prog_load checks before the verifier: the program's identity and attach point. */
interface ProgHeader {
  type: number;
  flags: number;
  eat: number;
  cnt: number;
  /** The instructions as given. */
  loaded: Uint8Array;
  license: string;
  gpl: boolean;
  name: string;
  attachBtfId: number;
  attachObj: KernelBtf | null;
}

/** fd_array as given: its address, its length (0: the kernel reads slots on demand) and the maps it names. */
interface FdArray {
  ptr: bigint;
  cnt: number;
  maps: KernelMap[];
}

/** BPF_PROG_LOAD. `fromKernel`: the call came from a syscall program (bpf_sys_bpf). */
export function loadProgram(m: BpfModel, a: Uint8Array, fromKernel: boolean): KernelProg {
  const attr: ProgLoadAttr = structReader(PROG_LOAD_SIGNED_ATTR, a, m.order);
  const h = checkProgHeader(m, attr);
  const fdArray = readFdArray(m, attr);
  const given = calcTag(h.loaded, m.order, m.profile.tagHash);
  const signed = verifyProgSignature(m, attr, h.loaded, fdArray, fromKernel);

  // bpf_check: process_fd_array.
  const used = new UsedMaps();
  for (const map of fdArray.maps) used.use(map, given.digest);
  const fdAt = fdArraySlots(m, fdArray);
  const progBtf = progBtfOf(m, attr);
  const loadedSlots = decodeAll(h.loaded, h.cnt, m.order);
  const kfuncs = findKfuncs(m, loadedSlots, h.gpl, fdAt);

  // check_btf_info: func_info, line_info, then CO-RE relocations (only with func_info or line_info).
  const insns = checkBtfInfo(m, attr, h, progBtf);
  // resolve_pseudo_ldimm64: the tag of the instructions as relocated, maps, typed ksyms.
  const { digest, tag } = insns === h.loaded ? given : calcTag(insns, m.order, m.profile.tagHash);
  const slots = insns === h.loaded ? loadedSlots : decodeAll(insns, h.cnt, m.order);
  const { loads, helpers } = resolveLdImm64(m, slots, digest, used, fdAt);

  // check_attach_btf_id.
  let target: string | null = null;
  if (NEEDS_ATTACH_BTF.has(h.type)) {
    if (!h.attachBtfId) fail(E.EINVAL, 'Tracing programs must provide btf_id');
    target = attachTarget(m, h.type, h.eat, h.attachBtfId, h.attachObj);
  }

  const fiCnt = attr.u32('func_info_cnt');
  const globalFuncs =
    progBtf && fiCnt ? globalFuncStarts(progBtf.btf, funcInfoRecords(m, attr.u64('func_info'), attr.u32('func_info_rec_size'), fiCnt)) : [];
  const compiled = doCheck(m, h, insns, slots, globalFuncs);

  // The verifier's rewrites: the xlated length, from the maps as they are now (frozen, read-only
  // contents); worked out when first asked for.
  const xlated = predictXlated(insns, m.order, h.type, h.eat, h.flags, loads, globalFuncs);
  return {
    kind: 'prog',
    id: m.newId(),
    type: h.type,
    expectedAttachType: h.eat,
    name: h.name,
    license: h.license,
    gpl: h.gpl,
    flags: h.flags,
    insns: h.loaded,
    relocatedInsns: insns === h.loaded ? null : insns,
    tag,
    digest,
    attachBtfId: h.attachBtfId,
    attachBtfObj: h.attachObj,
    attachTarget: target,
    btf: progBtf,
    funcInfoCnt: fiCnt,
    lineInfoCnt: attr.u32('line_info_cnt'),
    coreReloCnt: attr.u32('core_relo_cnt'),
    usedMaps: used.maps,
    loads,
    kfuncs,
    helpers,
    signed,
    compiled,
    get xlated() {
      return xlated();
    },
  };
}

/** Every slot of the program, decoded through the isa (an ld_imm64 is two slots, as the kernel counts). */
function decodeAll(bytes: Uint8Array, cnt: number, order: 'le' | 'be'): InsnSlot[] {
  return Array.from({ length: cnt }, (_, i) => decodeSlot(bytes, i * INSN_SIZE, order));
}

/** bpf_prog_load up to the signature: flags, type, refused attach types, sizes, license, name, attach point. */
function checkProgHeader(m: BpfModel, attr: ProgLoadAttr): ProgHeader {
  const p = m.profile;
  const type = attr.u32('prog_type');
  const flags = attr.u32('prog_flags');
  if (flags & ~PROG_FLAGS) fail(E.EINVAL, `prog_flags 0x${flags.toString(16)}`);
  if (type === 0 || type >= p.maxProgType) fail(E.EINVAL, `prog_type ${type}`);
  let eat = attr.u32('expected_attach_type');
  const refused = refusedAttach(p, type, eat);
  if (refused !== null)
    fail(
      refused,
      `this kernel refuses program type ${PROG_TYPE_NAME[type] ?? type} with expected_attach_type ${ATTACH_TYPE_NAME[eat] ?? eat} before verification (profile ${p.name})`,
    );
  const cnt = attr.u32('insn_cnt');
  if (cnt === 0) fail(E.EINVAL, 'insn_cnt is 0');
  if (cnt > MAX_INSNS) fail(E.E2BIG, `insn_cnt ${cnt} > ${MAX_INSNS}`);
  const loaded = m.um.read(attr.u64('insns'), cnt * INSN_SIZE, 'insns');
  const license = m.um.string(attr.u64('license'), 128, 'license');
  const gpl = GPL.has(license);
  const name = objName(attr.bytes('prog_name'));
  if (type === P.CGROUP_SOCK && eat === 0) eat = A.CGROUP_INET_SOCK_CREATE;
  const allowed = ALLOWED_ATTACH[type];
  if (allowed && !allowed.includes(eat)) fail(E.EINVAL, `expected_attach_type ${eat} does not fit prog_type ${type}`);
  if (flags & BPF_F_SLEEPABLE && !SLEEPABLE_TYPES.has(type)) fail(E.EINVAL, 'this program type cannot be sleepable');
  const attachBtfId = attr.u32('attach_btf_id'),
    attachObjFd = attr.u32('attach_btf_obj_fd');
  let attachObj: KernelBtf | null = null;
  if (attachObjFd) {
    attachObj = m.fds.btf(attachObjFd);
    if (attachObj.kernelName === null) fail(E.EINVAL, 'attach_btf_obj_fd is not a kernel BTF');
  }
  if (attachBtfId && !NEEDS_ATTACH_BTF.has(type) && type !== P.EXT)
    fail(E.EINVAL, 'attach_btf_id on a program type that does not attach by BTF');
  if (type === P.EXT) fail(E.EINVAL, 'extension programs need a target program (not modelled)');
  return { type, flags, eat, cnt, loaded, license, gpl, name, attachBtfId, attachObj };
}

/** fd_array with fd_array_cnt: every slot read now, each an open map or BTF. */
function readFdArray(m: BpfModel, attr: ProgLoadAttr): FdArray {
  const cnt = attr.u32('fd_array_cnt');
  const ptr = attr.u64('fd_array');
  const maps: KernelMap[] = [];
  if (!cnt) return { ptr, cnt, maps };
  if (ptr === 0n) fail(E.EINVAL, 'fd_array_cnt without fd_array');
  const raw = m.um.read(ptr, 4 * cnt, 'fd_array');
  const rdv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const objs = Array.from({ length: cnt }, (_, i) => {
    const fd = rdv.getInt32(4 * i, m.le);
    const o = m.fds.get(fd);
    if (!o) fail(E.EBADF, `fd_array[${i}] = ${fd} is not open`);
    if (o.kind === 'prog') fail(E.EINVAL, `fd_array[${i}] is a program`);
    return o;
  });
  for (const o of objs) if (o.kind === 'map') maps.push(o);
  return { ptr, cnt, maps };
}

/**
 * bpf_prog_verify_signature (bpf_prog_load, before the verifier), over the instructions as given.
 * It runs when attr.signature is set (a size without a pointer is ignored): the size cap, the
 * keyring lookup (EINVAL when keyring_id names nothing), the copy, then the PKCS#7 check, which a
 * kernel without CONFIG_SYSTEM_DATA_VERIFICATION answers EOPNOTSUPP. True when it verified.
 */
function verifyProgSignature(m: BpfModel, attr: ProgLoadAttr, loaded: Uint8Array, fdArray: FdArray, fromKernel: boolean): boolean {
  const p = m.profile;
  if (p.signature === 'none') return false;
  const sigPtr = attr.u64('signature'),
    sigSize = attr.u32('signature_size'),
    keyring = attr.s32('keyring_id');
  if (sigPtr === 0n) return false;
  if (fromKernel) fail(E.EINVAL, 'signed loads from a program are not allowed');
  if (sigSize > KMALLOC_MAX_CACHE_SIZE) fail(E.EINVAL, `signature_size ${sigSize} too large`);
  if (resolveKeyringId(keyring, m.keyringSerials) === null)
    fail(E.EINVAL, `keyring_id ${keyring} names no keyring the loading process can search`);
  const sig = m.um.read(sigPtr, sigSize, 'signature');
  if (p.signature === 'no-verification')
    fail(E.EOPNOTSUPP, `signature verification is not configured in this kernel (no CONFIG_SYSTEM_DATA_VERIFICATION; profile ${p.name})`);
  let content = loaded;
  if (p.signature === 'insns-and-maps' && fdArray.cnt) {
    const parts = [loaded];
    for (const map of fdArray.maps) {
      if (!map.exclProgHash) fail(E.EPERM, `map ${map.name} in a signed fd_array is not exclusive`);
      if (map.type !== MAP_TYPE.ARRAY) fail(E.EINVAL, `map ${map.name} in a signed fd_array is not an array`);
      if (!map.frozen) fail(E.EPERM, `map ${map.name} in a signed fd_array is not frozen`);
      parts.push(map.values!.bytes.subarray(0, map.valueSize));
    }
    content = Buffer.concat(parts);
  }
  const r = m.verifySignature ? m.verifySignature(sig, content, keyring) : -E.ENOKEY;
  if (r < 0)
    throw new SysError(
      -r,
      `signature verification against keyring_id ${keyring} failed${m.verifySignature ? '' : ' (the model was given no keys)'}`,
    );
  return true;
}

/** The program's used maps (env->used_maps): each once, at most MAX_USED_MAPS, exclusive ones only for their program. */
class UsedMaps {
  readonly maps: KernelMap[] = [];
  use(map: KernelMap, digest: Uint8Array): void {
    if (map.exclProgHash && Buffer.compare(Buffer.from(map.exclProgHash), Buffer.from(digest)) !== 0) {
      fail(E.EACCES, `program's hash doesn't match map ${map.name}'s excl_prog_hash`);
    }
    if (!this.maps.includes(map)) {
      if (this.maps.length === MAX_USED_MAPS) fail(E.E2BIG, `more than ${MAX_USED_MAPS} maps`);
      this.maps.push(map);
    }
  }
}

/** fd_array[index] as the verifier reads it: checked against fd_array_cnt, each slot read once. */
function fdArraySlots(m: BpfModel, fdArray: FdArray): (index: number) => number {
  const fdRead = new Map<number, number>(); // PROG_LOAD writes no user memory: a slot read once reads the same after
  return (index) => {
    if (fdArray.ptr === 0n) fail(E.EINVAL, 'fd_array index used without fd_array');
    if (fdArray.cnt && index >= fdArray.cnt) fail(E.EINVAL, `fd_array index ${index} >= fd_array_cnt ${fdArray.cnt}`);
    let fd = fdRead.get(index);
    if (fd === undefined) {
      const raw = m.um.read(fdArray.ptr + BigInt(4 * index), 4, `fd_array[${index}]`);
      fd = new DataView(raw.buffer, raw.byteOffset, 4).getInt32(0, m.le);
      fdRead.set(index, fd);
    }
    return fd;
  };
}

/** check_btf_info_early: the program's BTF, when func_info or line_info come with it. */
function progBtfOf(m: BpfModel, attr: ProgLoadAttr): KernelBtf | null {
  if (!attr.u32('func_info_cnt') && !attr.u32('line_info_cnt')) return null;
  const fd = attr.u32('prog_btf_fd');
  if (!fd) fail(E.EINVAL, 'func_info or line_info without prog_btf_fd');
  const btf = m.fds.btf(fd);
  if (btf.kernelName !== null) fail(E.EACCES, 'prog_btf_fd is a kernel BTF');
  return btf;
}

/** add_subprog_and_kfunc: every kfunc call (an unresolved weak one, btf_id 0 and off 0, waits for dead-code removal). */
function findKfuncs(m: BpfModel, slots: readonly InsnSlot[], gpl: boolean, fdAt: (index: number) => number): KfuncRef[] {
  const kfuncs: KfuncRef[] = [];
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    if (s.opcode === OP_LD_IMM64) {
      i++;
      continue;
    }
    if (s.opcode !== OP_CALL || s.src !== BPF_PSEUDO_KFUNC_CALL) continue;
    const id = s.imm,
      slot = s.off;
    if (id === 0 && slot === 0) continue;
    if (!gpl) fail(E.EINVAL, `insn ${i}: cannot call kernel function from non-GPL compatible program`);
    let btf = m.profile.vmlinux,
      module = 'vmlinux';
    if (slot) {
      if (slot < 0) fail(E.EINVAL, `insn ${i}: negative kfunc fd_array offset`);
      const kb = m.fds.btf(fdAt(slot));
      if (kb.kernelName === null) fail(E.EINVAL, `insn ${i}: kfunc BTF is not a module's`);
      btf = kb.btf;
      module = kb.kernelName;
    }
    if (!btf || id <= 0 || id >= btf.totalCount || btf.kind(id) !== 'FUNC')
      fail(E.EINVAL, `insn ${i}: kernel btf_id ${id} is not a function`);
    kfuncs.push({ insn: i, btfId: id, name: btf.name(id), module });
  }
  return kfuncs;
}

/** func_info and line_info checked, then CO-RE relocations applied: the instructions the verifier goes on with. */
function checkBtfInfo(m: BpfModel, attr: ProgLoadAttr, h: ProgHeader, progBtf: KernelBtf | null): Uint8Array {
  const fiCnt = attr.u32('func_info_cnt'),
    liCnt = attr.u32('line_info_cnt'),
    crCnt = attr.u32('core_relo_cnt');
  if (fiCnt) checkFuncInfo(m, progBtf!.btf, attr.u64('func_info'), attr.u32('func_info_rec_size'), fiCnt, h.cnt);
  if (liCnt) {
    if (!fiCnt) fail(E.EINVAL, 'line_info without func_info');
    checkLineInfo(m, progBtf!.btf, attr.u64('line_info'), attr.u32('line_info_rec_size'), liCnt, h.cnt);
  }
  if (progBtf && crCnt) return applyProgCoreRelos(m, h.loaded, progBtf.btf, attr.u64('core_relos'), attr.u32('core_relo_rec_size'), crCnt);
  return h.loaded;
}

/** resolve_pseudo_ldimm64: every ld_imm64 (maps by fd or fd_array index, map values, typed ksyms) and the helpers called. */
function resolveLdImm64(
  m: BpfModel,
  slots: readonly InsnSlot[],
  digest: Uint8Array,
  used: UsedMaps,
  fdAt: (index: number) => number,
): { loads: ResolvedLoad[]; helpers: number[] } {
  const loads: ResolvedLoad[] = [];
  const helpers: number[] = [];
  const cnt = slots.length;
  for (let i = 0; i < cnt; i++) {
    const s = slots[i]!;
    if (s.opcode === OP_LD_IMM64) {
      if (i + 1 >= cnt) fail(E.EINVAL, `insn ${i}: invalid bpf_ld_imm64 insn`);
      const next = slots[i + 1]!;
      if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) fail(E.EINVAL, `insn ${i}: invalid bpf_ld_imm64 insn`);
      const load = resolveOneLdImm64(m, i, s, next, fdAt);
      if (load) {
        used.use(load.map, digest);
        loads.push(load);
      }
      i++;
      continue;
    }
    if (s.opcode === OP_CALL && s.src === 0) {
      const id = s.imm;
      if (id > 0 && id <= MAX_HELPER && !helpers.includes(id)) helpers.push(id);
    }
  }
  return { loads, helpers };
}

/** One ld_imm64 at insn i: the map it names (null for a ksym, a constant or a subprogram address). */
function resolveOneLdImm64(m: BpfModel, i: number, s: InsnSlot, next: InsnSlot, fdAt: (index: number) => number): ResolvedLoad | null {
  const ps = s.src;
  if (ps === BPF_PSEUDO_MAP_FD || ps === BPF_PSEUDO_MAP_VALUE || ps === BPF_PSEUDO_MAP_IDX || ps === BPF_PSEUDO_MAP_IDX_VALUE) {
    const byFd = ps === BPF_PSEUDO_MAP_FD || ps === BPF_PSEUDO_MAP_VALUE;
    const direct = ps === BPF_PSEUDO_MAP_VALUE || ps === BPF_PSEUDO_MAP_IDX_VALUE;
    const map = m.fds.map(byFd ? s.imm : fdAt(s.imm >>> 0));
    const valueOff = next.imm >>> 0;
    if (direct) {
      if (map.type !== MAP_TYPE.ARRAY) fail(E.EINVAL, `insn ${i}: map ${map.name} has no direct value access`);
      if (valueOff >= map.valueSize)
        fail(E.EINVAL, `insn ${i}: invalid access to map value pointer, value_size=${map.valueSize} off=${valueOff}`);
    } else if (valueOff !== 0) {
      fail(E.EINVAL, `insn ${i}: unrecognized bpf_ld_imm64 insn`);
    }
    return { insn: i, pseudo: ps, map, offset: direct ? valueOff : 0 };
  }
  if (ps === BPF_PSEUDO_BTF_ID) {
    checkKsym(m, i, s.imm, next.imm);
  } else if (ps !== 0 && ps !== BPF_PSEUDO_FUNC) {
    fail(E.EINVAL, `insn ${i}: unrecognized bpf_ld_imm64 src ${ps}`);
  }
  return null;
}

/** A typed ksym (BPF_PSEUDO_BTF_ID): a VAR or FUNC of vmlinux or the module BTF `objFd`, with an address in kallsyms. */
function checkKsym(m: BpfModel, i: number, btfId: number, objFd: number): void {
  const p = m.profile;
  const kb = objFd ? m.fds.btf(objFd) : null;
  const btf = kb ? kb.btf : p.vmlinux;
  if (!btf || btfId <= 0 || btfId >= btf.totalCount) fail(E.EINVAL, `insn ${i}: ldimm64 ksym btf_id ${btfId} not found`);
  const k = btf.kind(btfId);
  if (k !== 'VAR' && k !== 'FUNC') fail(E.EINVAL, `insn ${i}: pseudo btf_id ${btfId} is ${k}`);
  const sym = btf.name(btfId);
  if (p.kallsyms && (!kb || kb.kernelName === 'vmlinux') && ksymAddress(p, sym) === undefined) {
    fail(E.ENOENT, `insn ${i}: ldimm64 failed to find the address for kernel symbol '${sym}'`);
  }
}

/**
 * do_check: the paths the verifier walks. When the walk gives up, what holds for every helper
 * call, reachable or not. Returns the VM's compiled program (null when it cannot compile).
 */
function doCheck(m: BpfModel, h: ProgHeader, insns: Uint8Array, slots: readonly InsnSlot[], globalFuncs: number[]): Program | null {
  const p = m.profile;
  const mayCall = allowedHelpers(p, h.type, h.eat, h.flags);
  let compiled: Program | null = null;
  try {
    compiled = compileVm(insns, m.order);
  } catch (e) {
    if (!isKernelError(e)) throw e; // walkPaths meets the same error and gives up
  }
  const walk = walkPaths(insns, {
    byteOrder: m.order,
    gpl: h.gpl,
    gplOnlyHelpers: p.gplOnlyHelpers,
    maxHelper: MAX_HELPER,
    allowedHelpers: mayCall,
    globalFuncs: new Set(globalFuncs),
    compiled: compiled ?? undefined,
  });
  if (walk.refusal) fail(walk.refusal.errno, `insn ${walk.refusal.pc}: ${walk.refusal.message}`);
  if (!walk.complete) checkEveryHelperCall(p, slots, h.gpl, mayCall);
  return compiled;
}

/** The fallback of an incomplete walk: every helper call must be known, allowed and licence-compatible. */
function checkEveryHelperCall(p: BpfModel['profile'], slots: readonly InsnSlot[], gpl: boolean, mayCall: ReadonlySet<number> | null): void {
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    if (s.opcode === OP_LD_IMM64) {
      i++;
      continue;
    }
    if (s.opcode !== OP_CALL || s.src !== 0) continue;
    const id = s.imm;
    if (id <= 0 || id > MAX_HELPER) fail(E.EINVAL, `insn ${i}: invalid func unknown#${id}`);
    if (mayCall && !mayCall.has(id)) fail(E.EINVAL, `insn ${i}: program of this type cannot use helper #${id}`);
    if (p.gplOnlyHelpers.has(id) && !gpl) fail(E.EINVAL, `insn ${i}: cannot call GPL-restricted function from non-GPL compatible program`);
  }
}

/** A map as the xlated model sees it at this PROG_LOAD: frozen flag and, for frozen arrays, the values now. */
function xlatedMap(map: KernelMap): XlatedMap {
  let contents: Uint8Array | null = null;
  if (map.frozen && map.values && map.valueSize * map.maxEntries <= 1 << 20) {
    const stride = elemSize(map.valueSize),
      size = map.valueSize * map.maxEntries;
    if (stride === map.valueSize && map.values.bytes.length >= size)
      contents = map.values.bytes.slice(0, size); // no padding between elements
    else {
      contents = new Uint8Array(size);
      for (let i = 0; i < map.maxEntries; i++)
        contents.set(map.values.bytes.subarray(i * stride, i * stride + map.valueSize), i * map.valueSize);
    }
  }
  return {
    type: map.type,
    keySize: map.keySize,
    valueSize: map.valueSize,
    maxEntries: map.maxEntries,
    flags: map.flags,
    frozen: map.frozen,
    contents,
    inner: map.innerMeta ? { ...map.innerMeta } : null,
  };
}

/**
 * xlatedLength for the program as bpf_check sees it, with the maps' state taken now; the
 * prediction itself is made on the first call. A model failure is an inexact prediction,
 * never a refusal.
 */
function predictXlated(
  insns: Uint8Array,
  order: 'le' | 'be',
  type: number,
  eat: number,
  flags: number,
  loads: readonly ResolvedLoad[],
  globalFuncs: number[],
): () => XlatedPrediction {
  const maps = new Map<KernelMap, XlatedMap>();
  const get = (k: KernelMap): XlatedMap => {
    let x = maps.get(k);
    if (!x) {
      x = xlatedMap(k);
      maps.set(k, x);
    }
    return x;
  };
  const input: XlatedInput = {
    insns,
    order,
    progType: type,
    expectedAttachType: eat,
    progFlags: flags,
    globalFuncs,
    maps: loads.map((l) => ({ insn: l.insn, pseudo: l.pseudo, map: get(l.map), offset: l.offset })),
  };
  let done: XlatedPrediction | undefined;
  return () => {
    if (done) return done;
    try {
      const r = xlatedLength(input);
      done = { insnCnt: r.count, exact: r.exact, unmodelled: r.unmodelled };
    } catch (e) {
      done = { insnCnt: insns.length / 8, exact: false, unmodelled: [`the xlated model failed: ${(e as Error).message}`] };
    }
    return done;
  };
}

/** func_info records (insn_off, type_id), already checked by checkFuncInfo. */
function funcInfoRecords(m: BpfModel, ptr: bigint, recSize: number, n: number): { insn: number; typeId: number }[] {
  return records(m, BPF_FUNC_INFO, ptr, recSize, n, 'func_info').map((r) => ({ insn: r.u32('insn_off'), typeId: r.u32('type_id') }));
}

/** n records of recSize bytes (at least the layout's) from user memory, each read through `layout`. */
function records<F extends string>(
  m: BpfModel,
  layout: StructLayout<F>,
  ptr: bigint,
  recSize: number,
  n: number,
  what: string,
): StructReader<F>[] {
  const raw = m.um.read(ptr, recSize * n, what);
  return Array.from({ length: n }, (_, i) => structReader(layout, raw, m.order, i * recSize));
}

function checkFuncInfo(m: BpfModel, btf: Btf, ptr: bigint, recSize: number, n: number, insnCnt: number): void {
  if (recSize < BPF_FUNC_INFO.size || recSize > 252 || recSize % 4) fail(E.EINVAL, `func_info_rec_size ${recSize}`);
  const recs = records(m, BPF_FUNC_INFO, ptr, recSize, n, 'func_info');
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const off = recs[i]!.u32('insn_off'),
      id = recs[i]!.u32('type_id');
    if (i === 0 && off !== 0) fail(E.EINVAL, `nonzero insn_off ${off} for the first func info record`);
    if (i > 0 && off <= prev) fail(E.EINVAL, `same or smaller insn offset (${off}) than previous func info record (${prev})`);
    if (off >= insnCnt) fail(E.EINVAL, `func_info[${i}].insn_off ${off} past the program`);
    if (id === 0 || id >= btf.totalCount || btf.kind(id) !== 'FUNC') fail(E.EINVAL, `invalid type id ${id} in func info`);
    prev = off;
  }
}

function checkLineInfo(m: BpfModel, btf: Btf, ptr: bigint, recSize: number, n: number, insnCnt: number): void {
  if (recSize < BPF_LINE_INFO.size || recSize > 4096 || recSize % 4) fail(E.EINVAL, `line_info_rec_size ${recSize}`);
  const recs = records(m, BPF_LINE_INFO, ptr, recSize, n, 'line_info');
  const strEnd = btf.header.strLen;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const r = recs[i]!;
    const off = r.u32('insn_off'),
      file = r.u32('file_name_off'),
      line = r.u32('line_off');
    if (i === 0 && off !== 0) fail(E.EINVAL, 'missing bpf_line_info for func#0');
    if ((i && off <= prev) || off >= insnCnt)
      fail(E.EINVAL, `Invalid line_info[${i}].insn_off:${off} (prev_offset:${prev}) (prog.len:${insnCnt})`);
    if (file >= strEnd || line >= strEnd) fail(E.EINVAL, `Invalid line_info[${i}].name_off`);
    prev = off;
  }
}
