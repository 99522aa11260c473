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
import { ATTACH_TYPE as A, ATTACH_TYPE_NAME, PROG_TYPE as P, PROG_TYPE_NAME } from '../../loader/uapi/index.js';
import type { Btf } from '../../loader/btf/index.js';
import { walkPaths } from '../check/paths.js';
import { ksymAddress, refusedAttach } from '../profile/index.js';
import { globalFuncStarts, xlatedLength, type XlatedInput, type XlatedMap } from '../xlated/index.js';
import { applyProgCoreRelos } from './core-relo.js';
import { E, SysError, fail } from './errno.js';
import { ARRAY_LIKE, elemSize } from './maps.js';
import { objName, type ModelContext as BpfModel } from './context.js';
import type { KernelBtf, KernelMap, KernelProg, KfuncRef, ResolvedLoad, XlatedPrediction } from './objects.js';
import { calcTag } from './tag.js';
import { resolveKeyringId } from './keyring.js';
import { isKernelError } from '../errors.js';
import { loadProgram as compileVm, type Program } from '../vm/index.js';

export type { SignatureVerifier } from './context.js';

const PROG_FLAGS = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x10000;
const BPF_F_SLEEPABLE = 0x10;
const MAX_INSNS = 1_000_000;
const MAX_USED_MAPS = 64;
const KMALLOC_MAX_CACHE_SIZE = 8192;
const GPL = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);
/** The last helper id of Linux 6.18 (bpf_cgrp_storage_delete = 211). */
const MAX_HELPER = 211;

const ALLOWED_ATTACH: Partial<Record<number, readonly number[]>> = {
  [P.CGROUP_SOCK]: [A.CGROUP_INET_SOCK_CREATE, A.CGROUP_INET_SOCK_RELEASE, A.CGROUP_INET4_POST_BIND, A.CGROUP_INET6_POST_BIND],
  [P.CGROUP_SOCK_ADDR]: [A.CGROUP_INET4_BIND, A.CGROUP_INET6_BIND, A.CGROUP_INET4_CONNECT, A.CGROUP_INET6_CONNECT, A.CGROUP_UNIX_CONNECT,
    A.CGROUP_INET4_GETPEERNAME, A.CGROUP_INET6_GETPEERNAME, A.CGROUP_UNIX_GETPEERNAME, A.CGROUP_INET4_GETSOCKNAME,
    A.CGROUP_INET6_GETSOCKNAME, A.CGROUP_UNIX_GETSOCKNAME, A.CGROUP_UDP4_SENDMSG, A.CGROUP_UDP6_SENDMSG, A.CGROUP_UNIX_SENDMSG,
    A.CGROUP_UDP4_RECVMSG, A.CGROUP_UDP6_RECVMSG, A.CGROUP_UNIX_RECVMSG],
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
  [P.CGROUP_SOCK]: A.CGROUP_INET_SOCK_CREATE, [P.CGROUP_SOCK_ADDR]: A.CGROUP_INET4_CONNECT, [P.CGROUP_SOCKOPT]: A.CGROUP_GETSOCKOPT,
  [P.CGROUP_SKB]: A.CGROUP_INET_INGRESS, [P.CGROUP_DEVICE]: 0, [P.CGROUP_SYSCTL]: 0, [P.SOCK_OPS]: 0,
};

/** The helpers the profile says this program may call, or null when it does not know. */
function allowedHelpers(p: BpfModel['profile'], type: number, eat: number, flags: number): ReadonlySet<number> | null {
  const list = p.helpers[PROG_TYPE_NAME[type] ?? ''];
  if (!list) return null;
  const probed = PROBE_ATTACH[type];
  if (probed !== undefined && probed !== eat) return null;
  // The probe loads non-sleepable programs (SYSCALL: sleepable); sleepable ones may call more.
  if ((flags & BPF_F_SLEEPABLE) && type !== P.SYSCALL) return null;
  return new Set(list);
}

const SLEEPABLE_TYPES = new Set<number>([P.TRACING, P.LSM, P.KPROBE, P.STRUCT_OPS, P.SYSCALL]);
const NEEDS_ATTACH_BTF = new Set<number>([P.TRACING, P.LSM, P.STRUCT_OPS]);

/** The attach target (bpf_check_attach_target): the BTF type's kind and name, and for trampolines its address in kallsyms. */
function attachTarget(m: BpfModel, type: number, eat: number, btfId: number, obj: KernelBtf | null): string {
  const btf: Btf | null = obj ? obj.btf : m.profile.vmlinux;
  if (!btf) fail(E.EINVAL, 'no kernel BTF to find the attach target in');
  if (btfId >= btf.totalCount || btfId === 0) fail(E.EINVAL, `attach_btf_id ${btfId} is invalid`);
  const kind = btf.kind(btfId), name = btf.name(btfId);
  const want = (k: string, prefix = '') => {
    if (kind !== k || !name.startsWith(prefix)) fail(E.EINVAL, `attach_btf_id ${btfId} is ${kind} '${name}', want ${k} ${prefix}*`);
  };
  if (type === P.STRUCT_OPS) want('STRUCT');
  else if (eat === A.TRACE_RAW_TP) want('TYPEDEF', 'btf_trace_');
  else if (eat === A.TRACE_ITER) want('FUNC', 'bpf_iter_');
  else if (type === P.LSM) want('FUNC', 'bpf_lsm_');
  else want('FUNC');
  const trampoline = type !== P.STRUCT_OPS && eat !== A.TRACE_RAW_TP && eat !== A.TRACE_ITER;
  if (trampoline && m.profile.kallsyms && (obj === null || obj.kernelName === 'vmlinux') && ksymAddress(m.profile, name) === undefined) fail(E.ENOENT, `The address of function ${name} cannot be found`);
  return name;
}

/** BPF_PROG_LOAD. `fromKernel`: the call came from a syscall program (bpf_sys_bpf). */
export function loadProgram(m: BpfModel, a: Uint8Array, fromKernel: boolean): KernelProg {
  const le = m.le;
  const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const u32 = (o: number) => dv.getUint32(o, le);
  const u64 = (o: number) => dv.getBigUint64(o, le);
  const s32 = (o: number) => dv.getInt32(o, le);
  const p = m.profile;

  // bpf_prog_load.
  let type = u32(0);
  const flags = u32(44);
  if (flags & ~PROG_FLAGS) fail(E.EINVAL, `prog_flags 0x${flags.toString(16)}`);
  if (type === 0 || type >= p.maxProgType) fail(E.EINVAL, `prog_type ${type}`);
  let eat = u32(68);
  const refused = refusedAttach(p, type, eat);
  if (refused !== null) fail(refused, `this kernel refuses program type ${PROG_TYPE_NAME[type] ?? type} with expected_attach_type ${ATTACH_TYPE_NAME[eat] ?? eat} before verification (profile ${p.name})`);
  const cnt = u32(4);
  if (cnt === 0) fail(E.EINVAL, 'insn_cnt is 0');
  if (cnt > MAX_INSNS) fail(E.E2BIG, `insn_cnt ${cnt} > ${MAX_INSNS}`);
  const loaded = m.um.read(u64(8), cnt * 8, 'insns');
  const license = m.um.string(u64(16), 128, 'license');
  const gpl = GPL.has(license);
  const name = objName(a.subarray(48, 64));
  if (type === P.CGROUP_SOCK && eat === 0) eat = A.CGROUP_INET_SOCK_CREATE;
  const allowed = ALLOWED_ATTACH[type];
  if (allowed && !allowed.includes(eat)) fail(E.EINVAL, `expected_attach_type ${eat} does not fit prog_type ${type}`);
  if ((flags & BPF_F_SLEEPABLE) && !SLEEPABLE_TYPES.has(type)) fail(E.EINVAL, 'this program type cannot be sleepable');
  const attachBtfId = u32(108), attachObjFd = u32(112);
  let attachObj: KernelBtf | null = null;
  if (attachObjFd) {
    attachObj = m.fds.btf(attachObjFd);
    if (attachObj.kernelName === null) fail(E.EINVAL, 'attach_btf_obj_fd is not a kernel BTF');
  }
  if (attachBtfId && !NEEDS_ATTACH_BTF.has(type) && type !== P.EXT) fail(E.EINVAL, 'attach_btf_id on a program type that does not attach by BTF');
  if (type === P.EXT) fail(E.EINVAL, 'extension programs need a target program (not modelled)');

  // Signature (bpf_prog_load, before the verifier): over the instructions as given.
  const sigPtr = p.signature === 'none' ? 0n : u64(152), sigSize = p.signature === 'none' ? 0 : u32(160), keyring = p.signature === 'none' ? 0 : s32(164);
  const fdArrayCnt = u32(148);
  const fdArrayPtr = u64(120);
  const fdArrayMaps: KernelMap[] = [];
  let fdArrayObjs: (KernelMap | KernelBtf)[] = [];
  if (fdArrayCnt) {
    if (fdArrayPtr === 0n) fail(E.EINVAL, 'fd_array_cnt without fd_array');
    const raw = m.um.read(fdArrayPtr, 4 * fdArrayCnt, 'fd_array');
    const rdv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    fdArrayObjs = Array.from({ length: fdArrayCnt }, (_, i) => {
      const fd = rdv.getInt32(4 * i, le);
      const o = m.fds.get(fd);
      if (!o) fail(E.EBADF, `fd_array[${i}] = ${fd} is not open`);
      if (o.kind === 'prog') fail(E.EINVAL, `fd_array[${i}] is a program`);
      return o;
    });
    for (const o of fdArrayObjs) if (o.kind === 'map') fdArrayMaps.push(o);
  }
  const given = calcTag(loaded, m.order, p.tagHash);
  let signed = false;
  // bpf_prog_verify_signature runs when attr.signature is set (a size without a pointer is ignored):
  // the size cap, the keyring lookup (EINVAL when keyring_id names nothing), the copy, then the
  // PKCS#7 check, which a kernel without CONFIG_SYSTEM_DATA_VERIFICATION answers EOPNOTSUPP.
  if (sigPtr !== 0n) {
    if (fromKernel) fail(E.EINVAL, 'signed loads from a program are not allowed');
    if (sigSize > KMALLOC_MAX_CACHE_SIZE) fail(E.EINVAL, `signature_size ${sigSize} too large`);
    if (resolveKeyringId(keyring, m.keyringSerials) === null) fail(E.EINVAL, `keyring_id ${keyring} names no keyring the loading process can search`);
    const sig = m.um.read(sigPtr, sigSize, 'signature');
    if (p.signature === 'no-verification') fail(E.EOPNOTSUPP, `signature verification is not configured in this kernel (no CONFIG_SYSTEM_DATA_VERIFICATION; profile ${p.name})`);
    let content = loaded;
    if (p.signature === 'insns-and-maps' && fdArrayCnt) {
      const parts = [loaded];
      for (const map of fdArrayMaps) {
        if (!map.exclProgHash) fail(E.EPERM, `map ${map.name} in a signed fd_array is not exclusive`);
        if (map.type !== 2) fail(E.EINVAL, `map ${map.name} in a signed fd_array is not an array`);
        if (!map.frozen) fail(E.EPERM, `map ${map.name} in a signed fd_array is not frozen`);
        parts.push(map.values!.bytes.subarray(0, map.valueSize));
      }
      content = Buffer.concat(parts);
    }
    const r = m.verifySignature ? m.verifySignature(sig, content, keyring) : -E.ENOKEY;
    if (r < 0) throw new SysError(-r, `signature verification against keyring_id ${keyring} failed${m.verifySignature ? '' : ' (the model was given no keys)'}`);
    signed = true;
  }

  // bpf_check: process_fd_array.
  const used: KernelMap[] = [];
  const use = (map: KernelMap, digest: Uint8Array) => {
    if (map.exclProgHash && Buffer.compare(Buffer.from(map.exclProgHash), Buffer.from(digest)) !== 0) {
      fail(E.EACCES, `program's hash doesn't match map ${map.name}'s excl_prog_hash`);
    }
    if (!used.includes(map)) {
      if (used.length === MAX_USED_MAPS) fail(E.E2BIG, `more than ${MAX_USED_MAPS} maps`);
      used.push(map);
    }
  };
  for (const map of fdArrayMaps) use(map, given.digest);
  const fdRead = new Map<number, number>(); // PROG_LOAD writes no user memory: a slot read once reads the same after
  const fdAt = (index: number): number => {
    if (fdArrayPtr === 0n) fail(E.EINVAL, 'fd_array index used without fd_array');
    if (fdArrayCnt && index >= fdArrayCnt) fail(E.EINVAL, `fd_array index ${index} >= fd_array_cnt ${fdArrayCnt}`);
    let fd = fdRead.get(index);
    if (fd === undefined) {
      const raw = m.um.read(fdArrayPtr + BigInt(4 * index), 4, `fd_array[${index}]`);
      fd = new DataView(raw.buffer, raw.byteOffset, 4).getInt32(0, le);
      fdRead.set(index, fd);
    }
    return fd;
  };

  // check_btf_info_early: the program's BTF, when func_info or line_info come with it.
  const progBtfFd = u32(72);
  const fiCnt = u32(88), liCnt = u32(104), crCnt = u32(116);
  let progBtf: KernelBtf | null = null;
  if (fiCnt || liCnt) {
    if (!progBtfFd) fail(E.EINVAL, 'func_info or line_info without prog_btf_fd');
    progBtf = m.fds.btf(progBtfFd);
    if (progBtf.kernelName !== null) fail(E.EACCES, 'prog_btf_fd is a kernel BTF');
  }

  // add_subprog_and_kfunc: every kfunc call (an unresolved weak one, btf_id 0 and off 0, waits for dead-code removal).
  const src = (b: Uint8Array, i: number) => (le ? b[8 * i + 1]! >> 4 : b[8 * i + 1]! & 0xf);
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const kfuncs: KfuncRef[] = [];
  {
    const idv = view(loaded);
    for (let i = 0; i < cnt; i++) {
      const code = loaded[8 * i]!;
      if (code === 0x18) { i++; continue; }
      if (code !== 0x85 || src(loaded, i) !== 2) continue;
      const id = idv.getInt32(8 * i + 4, le), slot = idv.getInt16(8 * i + 2, le);
      if (id === 0 && slot === 0) continue;
      if (!gpl) fail(E.EINVAL, `insn ${i}: cannot call kernel function from non-GPL compatible program`);
      let btf = p.vmlinux, module = 'vmlinux';
      if (slot) {
        if (slot < 0) fail(E.EINVAL, `insn ${i}: negative kfunc fd_array offset`);
        const kb = m.fds.btf(fdAt(slot));
        if (kb.kernelName === null) fail(E.EINVAL, `insn ${i}: kfunc BTF is not a module's`);
        btf = kb.btf;
        module = kb.kernelName;
      }
      if (!btf || id <= 0 || id >= btf.totalCount || btf.kind(id) !== 'FUNC') fail(E.EINVAL, `insn ${i}: kernel btf_id ${id} is not a function`);
      kfuncs.push({ insn: i, btfId: id, name: btf.name(id), module });
    }
  }

  // check_btf_info: func_info, line_info, then CO-RE relocations (only with func_info or line_info).
  if (fiCnt) checkFuncInfo(m, progBtf!.btf, u64(80), u32(76), fiCnt, cnt);
  if (liCnt) {
    if (!fiCnt) fail(E.EINVAL, 'line_info without func_info');
    checkLineInfo(m, progBtf!.btf, u64(96), u32(92), liCnt, cnt);
  }
  let insns = loaded;
  if (progBtf && crCnt) insns = applyProgCoreRelos(m, loaded, progBtf.btf, u64(128), u32(136), crCnt);

  // resolve_pseudo_ldimm64: the tag of the instructions as relocated, maps, typed ksyms.
  const { digest, tag } = insns === loaded ? given : calcTag(insns, m.order, p.tagHash);
  const loads: ResolvedLoad[] = [];
  const helpers: number[] = [];
  const idv = view(insns);
  const off = (i: number) => idv.getInt16(8 * i + 2, le);
  const imm = (i: number) => idv.getInt32(8 * i + 4, le);
  for (let i = 0; i < cnt; i++) {
    const code = insns[8 * i]!;
    if (code === 0x18) {
      if (i + 1 >= cnt) fail(E.EINVAL, `insn ${i}: invalid bpf_ld_imm64 insn`);
      if (insns[8 * (i + 1)] !== 0 || insns[8 * (i + 1) + 1] !== 0 || off(i + 1) !== 0) fail(E.EINVAL, `insn ${i}: invalid bpf_ld_imm64 insn`);
      const ps = src(insns, i);
      if (ps === 1 || ps === 2 || ps === 5 || ps === 6) {
        const fd = ps <= 2 ? imm(i) : fdAt(imm(i) >>> 0);
        const map = m.fds.map(fd);
        const valueOff = imm(i + 1) >>> 0;
        if (ps === 2 || ps === 6) {
          if (!ARRAY_LIKE.has(map.type) || map.type !== 2) fail(E.EINVAL, `insn ${i}: map ${map.name} has no direct value access`);
          if (valueOff >= map.valueSize) fail(E.EINVAL, `insn ${i}: invalid access to map value pointer, value_size=${map.valueSize} off=${valueOff}`);
        } else if (valueOff !== 0) {
          fail(E.EINVAL, `insn ${i}: unrecognized bpf_ld_imm64 insn`);
        }
        use(map, digest);
        loads.push({ insn: i, pseudo: ps, map, offset: ps === 2 || ps === 6 ? valueOff : 0 });
      } else if (ps === 3) {
        const objFd = imm(i + 1);
        const kb = objFd ? m.fds.btf(objFd) : null;
        const btf = kb ? kb.btf : p.vmlinux;
        if (!btf || imm(i) <= 0 || imm(i) >= btf.totalCount) fail(E.EINVAL, `insn ${i}: ldimm64 ksym btf_id ${imm(i)} not found`);
        const k = btf.kind(imm(i));
        if (k !== 'VAR' && k !== 'FUNC') fail(E.EINVAL, `insn ${i}: pseudo btf_id ${imm(i)} is ${k}`);
        const sym = btf.name(imm(i));
        if (p.kallsyms && (!kb || kb.kernelName === 'vmlinux') && ksymAddress(p, sym) === undefined) {
          fail(E.ENOENT, `insn ${i}: ldimm64 failed to find the address for kernel symbol '${sym}'`);
        }
      } else if (ps !== 0 && ps !== 4) {
        fail(E.EINVAL, `insn ${i}: unrecognized bpf_ld_imm64 src ${ps}`);
      }
      i++;
      continue;
    }
    if (code === 0x85 && src(insns, i) === 0) {
      const id = imm(i);
      if (id > 0 && id <= MAX_HELPER && !helpers.includes(id)) helpers.push(id);
    }
  }

  // check_attach_btf_id.
  let target: string | null = null;
  if (NEEDS_ATTACH_BTF.has(type)) {
    if (!attachBtfId) fail(E.EINVAL, 'Tracing programs must provide btf_id');
    target = attachTarget(m, type, eat, attachBtfId, attachObj);
  }

  // do_check: the paths the verifier walks.
  const globalFuncs = progBtf && fiCnt ? globalFuncStarts(progBtf.btf, funcInfoRecords(m, u64(80), u32(76), fiCnt)) : [];
  const mayCall = allowedHelpers(p, type, eat, flags);
  let compiled: Program | null = null;
  try {
    compiled = compileVm(insns, m.order);
  } catch (e) {
    if (!isKernelError(e)) throw e; // walkPaths meets the same error and gives up
  }
  const walk = walkPaths(insns, {
    byteOrder: m.order, gpl, gplOnlyHelpers: p.gplOnlyHelpers, maxHelper: MAX_HELPER, allowedHelpers: mayCall, globalFuncs: new Set(globalFuncs),
    compiled: compiled ?? undefined,
  });
  if (walk.refusal) fail(walk.refusal.errno, `insn ${walk.refusal.pc}: ${walk.refusal.message}`);
  if (!walk.complete) {
    // The walk gave up: fall back to what holds for every call, reachable or not.
    for (let i = 0; i < cnt; i++) {
      const code = insns[8 * i]!;
      if (code === 0x18) { i++; continue; }
      if (code !== 0x85 || src(insns, i) !== 0) continue;
      const id = imm(i);
      if (id <= 0 || id > MAX_HELPER) fail(E.EINVAL, `insn ${i}: invalid func unknown#${id}`);
      if (mayCall && !mayCall.has(id)) fail(E.EINVAL, `insn ${i}: program of this type cannot use helper #${id}`);
      if (p.gplOnlyHelpers.has(id) && !gpl) fail(E.EINVAL, `insn ${i}: cannot call GPL-restricted function from non-GPL compatible program`);
    }
  }
  if (type === P.CGROUP_SOCK) type = P.CGROUP_SOCK;

  // The verifier's rewrites: the xlated length, from the maps as they are now (frozen, read-only
  // contents); worked out when first asked for.
  const xlated = predictXlated(insns, m.order, type, eat, flags, loads, globalFuncs);

  return {
    kind: 'prog', id: m.newId(), type, expectedAttachType: eat, name, license, gpl, flags, insns: loaded,
    relocatedInsns: insns === loaded ? null : insns, tag, digest,
    attachBtfId, attachBtfObj: attachObj, attachTarget: target, btf: progBtf, funcInfoCnt: fiCnt, lineInfoCnt: liCnt,
    coreReloCnt: crCnt, usedMaps: used, loads, kfuncs, helpers, signed, compiled,
    get xlated() { return xlated(); },
  };
}

/** A map as the xlated model sees it at this PROG_LOAD: frozen flag and, for frozen arrays, the values now. */
function xlatedMap(map: KernelMap): XlatedMap {
  let contents: Uint8Array | null = null;
  if (map.frozen && map.values && map.valueSize * map.maxEntries <= 1 << 20) {
    const stride = elemSize(map.valueSize), size = map.valueSize * map.maxEntries;
    if (stride === map.valueSize && map.values.bytes.length >= size) contents = map.values.bytes.slice(0, size); // no padding between elements
    else {
      contents = new Uint8Array(size);
      for (let i = 0; i < map.maxEntries; i++) contents.set(map.values.bytes.subarray(i * stride, i * stride + map.valueSize), i * map.valueSize);
    }
  }
  return {
    type: map.type, keySize: map.keySize, valueSize: map.valueSize, maxEntries: map.maxEntries, flags: map.flags, frozen: map.frozen,
    contents, inner: map.innerMeta ? { ...map.innerMeta } : null,
  };
}

/**
 * xlatedLength for the program as bpf_check sees it, with the maps' state taken now; the
 * prediction itself is made on the first call. A model failure is an inexact prediction,
 * never a refusal.
 */
function predictXlated(insns: Uint8Array, order: 'le' | 'be', type: number, eat: number, flags: number, loads: readonly ResolvedLoad[], globalFuncs: number[]): () => XlatedPrediction {
  const maps = new Map<KernelMap, XlatedMap>();
  const get = (k: KernelMap): XlatedMap => {
    let x = maps.get(k);
    if (!x) { x = xlatedMap(k); maps.set(k, x); }
    return x;
  };
  const input: XlatedInput = {
    insns, order, progType: type, expectedAttachType: eat, progFlags: flags, globalFuncs,
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
  const dv = records(m, ptr, recSize, n, 'func_info');
  return Array.from({ length: n }, (_, i) => ({ insn: dv.getUint32(i * recSize, m.le), typeId: dv.getUint32(i * recSize + 4, m.le) }));
}

function records(m: BpfModel, ptr: bigint, recSize: number, n: number, what: string): DataView {
  const raw = m.um.read(ptr, recSize * n, what);
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

function checkFuncInfo(m: BpfModel, btf: Btf, ptr: bigint, recSize: number, n: number, insnCnt: number): void {
  if (recSize < 8 || recSize > 252 || recSize % 4) fail(E.EINVAL, `func_info_rec_size ${recSize}`);
  const dv = records(m, ptr, recSize, n, 'func_info');
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const off = dv.getUint32(i * recSize, m.le), id = dv.getUint32(i * recSize + 4, m.le);
    if (i === 0 && off !== 0) fail(E.EINVAL, `nonzero insn_off ${off} for the first func info record`);
    if (i > 0 && off <= prev) fail(E.EINVAL, `same or smaller insn offset (${off}) than previous func info record (${prev})`);
    if (off >= insnCnt) fail(E.EINVAL, `func_info[${i}].insn_off ${off} past the program`);
    if (id === 0 || id >= btf.totalCount || btf.kind(id) !== 'FUNC') fail(E.EINVAL, `invalid type id ${id} in func info`);
    prev = off;
  }
}

function checkLineInfo(m: BpfModel, btf: Btf, ptr: bigint, recSize: number, n: number, insnCnt: number): void {
  if (recSize < 16 || recSize > 4096 || recSize % 4) fail(E.EINVAL, `line_info_rec_size ${recSize}`);
  const dv = records(m, ptr, recSize, n, 'line_info');
  const strEnd = btf.header.strLen;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const at = i * recSize;
    const off = dv.getUint32(at, m.le), file = dv.getUint32(at + 4, m.le), line = dv.getUint32(at + 8, m.le);
    if (i === 0 && off !== 0) fail(E.EINVAL, 'missing bpf_line_info for func#0');
    if ((i && off <= prev) || off >= insnCnt) fail(E.EINVAL, `Invalid line_info[${i}].insn_off:${off} (prev_offset:${prev}) (prog.len:${insnCnt})`);
    if (file >= strEnd || line >= strEnd) fail(E.EINVAL, `Invalid line_info[${i}].name_off`);
    prev = off;
  }
}
