/**
 * replay: runs a loader (insns + data) in the bpf() model as skel_internal.h's
 * bpf_load_and_run would — create the metadata map, fill it, freeze it, hash it
 * (linux-6.18), load the loader as a sleepable BPF_PROG_TYPE_SYSCALL program with
 * fd_array = { map }, run it with a ctx of map and program descs — and reports the
 * syscalls it made and the maps and programs it left behind. Nothing here reads a plan.
 */
import { createHash } from 'node:crypto';
import {
  BPF_F_SLEEPABLE,
  BPF_INSN_SIZE,
  BPF_LOADER_CTX,
  BPF_MAP_DESC,
  BPF_MAP_INFO,
  PSEUDO,
  MAP_CREATE_ATTR,
  MAP_CREATE_EXCL_ATTR,
  MAP_FREEZE_ATTR,
  MAP_TYPE,
  MAP_UPDATE_ELEM_ATTR,
  OBJ_GET_INFO_BY_FD_ATTR,
  PROG_LOAD_SIGNED_ATTR,
  PROG_TYPE,
  ctxOffsets,
  endOf,
  writeStruct,
  type StructLayout,
  type StructValues,
} from '../../loader/uapi/index.js';
import { VmError, isKernelError } from '../errors.js';
import { Memory, loadProgram as compileVm, run, type Region } from '../vm/index.js';
import { BpfModel } from '../bpf/model.js';
import { loaderHelpers } from '../bpf/helpers.js';
import { CMD } from '../bpf/attr.js';
import type { KernelProfile } from '../profile/index.js';
import type { SignatureVerifier } from '../bpf/context.js';
import type { KernelProg } from '../bpf/objects.js';
import { collectEffects, type CtxRead, type ReplayReport, type ReplayStage } from './report.js';

export type ReplayScheme = 'unsigned' | 'linux-6.18' | 'linux-load-time';

export interface ReplayCtxLayout {
  /** ctx.sz. */
  size: number;
  /** Map descs, in ctx order. */
  maps: readonly { offset: number }[];
  /** Prog descs, in ctx order. */
  progs: readonly { offset: number }[];
}

export interface ReplayOptions {
  scheme?: ReplayScheme;
  byteOrder?: 'le' | 'be';
  /** The ctx layout (loader.json "ctx"); or give nrMaps / nrProgs for the standard layout. */
  ctx?: ReplayCtxLayout;
  nrMaps?: number;
  nrProgs?: number;
  /** ctx map_desc max_entries overrides, by map index. */
  maxEntries?: Readonly<Record<number, number>>;
  /** ctx map_desc initial_value images, by map index (mapped as user memory). */
  initialValues?: Readonly<Record<number, Uint8Array>>;
  /** PKCS#7 signature passed at PROG_LOAD, and the keyring id. */
  signature?: Uint8Array;
  keyringId?: number;
  verifySignature?: SignatureVerifier;
  /** Serials (> 2) of keys and keyrings the loading process can find (BpfModelOptions.keyringSerials). */
  keyringSerials?: readonly number[];
  /** VM instruction budget (default 1,000,000). */
  budget?: number;
}

export interface LoaderBytes {
  insns: Uint8Array;
  data: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function standardCtx(nrMaps: number, nrProgs: number): ReplayCtxLayout {
  return {
    size: ctxOffsets.size(nrMaps, nrProgs),
    maps: Array.from({ length: nrMaps }, (_, i) => ({ offset: ctxOffsets.mapDesc(i) })),
    progs: Array.from({ length: nrProgs }, (_, j) => ({ offset: ctxOffsets.progFd(nrMaps, j) })),
  };
}

/** What a replay saw, as its report: the outcome, and the maps and programs the ctx's fds name (the loader's own excluded). */
function reportOf(
  r: {
    scheme: ReplayReport['scheme'];
    profile: string;
    model: BpfModel;
    exclude: Set<number>;
    ctx: ReplayCtxLayout;
    order: 'le' | 'be';
    printk: string[];
    ctxReads: CtxRead[];
  },
  outcome: Pick<ReplayReport, 'stage' | 'errno' | 'retval' | 'fault' | 'steps'>,
  ctxBytes: Uint8Array | null,
): ReplayReport {
  const dv = ctxBytes ? new DataView(ctxBytes.buffer, ctxBytes.byteOffset, ctxBytes.byteLength) : null;
  const fdAt = (off: number) => (dv && off + 4 <= dv.byteLength ? dv.getInt32(off, r.order === 'le') : 0);
  const eff = collectEffects(
    r.model,
    r.exclude,
    r.ctx.maps.map((m) => fdAt(m.offset)),
    r.ctx.progs.map((p) => fdAt(p.offset)),
  );
  return {
    scheme: r.scheme,
    profile: r.profile,
    ...outcome,
    ok: outcome.stage === 'ok',
    trace: r.model.trace,
    printk: r.printk,
    maps: eff.maps,
    progs: eff.progs,
    leakedFds: eff.leaked,
    ctxReads: r.ctxReads,
  };
}

export function replay(loader: LoaderBytes, profile: KernelProfile, options: ReplayOptions = {}): ReplayReport {
  const scheme = options.scheme ?? 'unsigned';
  const order = options.byteOrder ?? 'le';
  const mem = new Memory(order);
  const model = new BpfModel({ memory: mem, profile, verifySignature: options.verifySignature, keyringSerials: options.keyringSerials });
  const ctxReads: CtxRead[] = [];
  const printk: string[] = [];
  const ctx = options.ctx ?? standardCtx(options.nrMaps ?? 0, options.nrProgs ?? 0);
  let userN = 0;
  const user = (bytes: Uint8Array, what: string): Region => mem.map('memory', bytes, { name: `user ${what}#${userN++}` });
  const cstr = (s: string) => {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return b;
  };
  const sys = <F extends string>(cmd: number, layout: StructLayout<F>, size: number, values: StructValues<F>): number => {
    const buf = writeStruct(layout, values, order, new Uint8Array(Math.max(size, layout.size)));
    return model.sys(cmd, user(buf.subarray(0, size), 'attr').base, size, 'user');
  };
  const exclude = new Set<number>();
  const finish = (
    stage: ReplayStage,
    errno: number,
    retval: number | null,
    fault: ReplayReport['fault'],
    steps: number,
    ctxBytes: Uint8Array | null,
  ): ReplayReport =>
    reportOf(
      { scheme, profile: profile.name, model, exclude, ctx, order, printk, ctxReads },
      { stage, errno, retval, fault, steps },
      ctxBytes,
    );

  // 1. The metadata map.
  const signedScheme = scheme !== 'unsigned';
  const excl = signedScheme ? user(new Uint8Array(createHash('sha256').update(loader.insns).digest()), 'excl_prog_hash') : null;
  const mapFd = sys(CMD.MAP_CREATE, MAP_CREATE_EXCL_ATTR, profile.exclusiveMaps ? MAP_CREATE_EXCL_ATTR.size : MAP_CREATE_ATTR.size, {
    map_type: MAP_TYPE.ARRAY,
    key_size: 4,
    value_size: loader.data.length,
    max_entries: 1,
    map_name: '__loader.map',
    ...(excl ? { excl_prog_hash: excl.base, excl_prog_hash_size: 32 } : {}),
  });
  if (mapFd < 0) return finish('map_create', -mapFd, null, null, 0, null);
  const loaderMap = model.fds.get(mapFd)!;
  exclude.add(loaderMap.id);
  const key = user(new Uint8Array(4), 'key');
  const blob = user(new Uint8Array(loader.data), 'opts_data');
  let r = sys(CMD.MAP_UPDATE_ELEM, MAP_UPDATE_ELEM_ATTR, MAP_UPDATE_ELEM_ATTR.size, {
    map_fd: mapFd,
    key: key.base,
    value: blob.base,
    flags: 0,
  });
  if (r < 0) return finish('map_update', -r, null, null, 0, null);
  r = sys(CMD.MAP_FREEZE, MAP_FREEZE_ATTR, MAP_FREEZE_ATTR.size, { map_fd: mapFd });
  if (r < 0) return finish('map_freeze', -r, null, null, 0, null);
  if (scheme === 'linux-6.18') {
    const hash = user(new Uint8Array(32), 'info.hash');
    const info = user(writeStruct(BPF_MAP_INFO, { hash: hash.base, hash_size: 32 }, order), 'map_info');
    r = sys(CMD.OBJ_GET_INFO_BY_FD, OBJ_GET_INFO_BY_FD_ATTR, OBJ_GET_INFO_BY_FD_ATTR.size, {
      bpf_fd: mapFd,
      info_len: BPF_MAP_INFO.size,
      info: info.base,
    });
    if (r < 0) return finish('map_hash', -r, null, null, 0, null);
  }

  // 2. The loader program.
  const insns = user(new Uint8Array(loader.insns), 'opts_insn');
  const license = user(cstr('Dual BSD/GPL'), 'license');
  const fdArray = user(writeStruct({ name: 'fd', size: 4, fields: { fd: { offset: 0, type: 's32' } } }, { fd: mapFd }, order), 'fd_array');
  const sig = options.signature ? user(new Uint8Array(options.signature), 'signature') : null;
  const progAttrSize = endOf(PROG_LOAD_SIGNED_ATTR, profile.signature === 'none' ? 'fd_array_cnt' : 'keyring_id');
  const progFd = sys(CMD.PROG_LOAD, PROG_LOAD_SIGNED_ATTR, Math.min(progAttrSize, profile.attrSize), {
    prog_type: PROG_TYPE.SYSCALL,
    insn_cnt: loader.insns.length / BPF_INSN_SIZE,
    insns: insns.base,
    license: license.base,
    prog_name: '__loader.prog',
    prog_flags: BPF_F_SLEEPABLE,
    fd_array: fdArray.base,
    fd_array_cnt: scheme === 'linux-load-time' ? 1 : 0,
    ...(sig ? { signature: sig.base, signature_size: sig.bytes.length, keyring_id: options.keyringId ?? 0 } : {}),
  });
  if (progFd < 0) return finish('loader_load', -progFd, null, null, 0, null);
  const prog = model.fds.get(progFd) as KernelProg;
  exclude.add(prog.id);

  // 3. BPF_PROG_RUN with the skeleton ctx.
  const ctxBytes = new Uint8Array(ctx.size);
  const cdv = new DataView(ctxBytes.buffer);
  const le = order === 'le';
  cdv.setUint32(BPF_LOADER_CTX.fields.sz.offset, ctx.size, le);
  ctx.maps.forEach((m, i) => {
    const max = options.maxEntries?.[i];
    if (max !== undefined) cdv.setUint32(m.offset + BPF_MAP_DESC.fields.max_entries.offset, max, le);
    const init = options.initialValues?.[i];
    if (init)
      cdv.setBigUint64(m.offset + BPF_MAP_DESC.fields.initial_value.offset, user(new Uint8Array(init), `initial_value[${i}]`).base, le);
  });
  const ctxRegion = mem.map('ctx', ctxBytes, { name: 'loader ctx' });
  const resolved = new Map<number, bigint>();
  for (const l of prog.loads)
    resolved.set(
      l.insn,
      l.pseudo === PSEUDO.MAP_IDX || l.pseudo === PSEUDO.MAP_FD ? l.map.struct.base : l.map.values!.base + BigInt(l.offset),
    );
  let steps = 0;
  let retval: number;
  try {
    // The loader as PROG_LOAD decoded it (the same bytes: the loader has no CO-RE relocations), else decoded here.
    const compiled =
      prog.compiled && !prog.relocatedInsns && sameBytes(prog.insns, loader.insns) ? prog.compiled : compileVm(loader.insns, order);
    const res = run(compiled, {
      memory: mem,
      args: [ctxRegion.base],
      helpers: loaderHelpers(model, { printk }),
      budget: options.budget,
      watchReads: {
        region: ctxRegion,
        onRead: (offset, size, pc, via) => {
          ctxReads.push({ pc, offset, size, via });
        },
      },
      ldImm64: (_pseudo, _insn, pc) => {
        const a = resolved.get(pc);
        if (a === undefined) throw new VmError('VM_UNSUPPORTED', `ld_imm64 at ${pc} was not resolved at load`);
        return a;
      },
    });
    steps = res.steps;
    retval = Number(BigInt.asIntN(32, res.r0));
  } catch (e) {
    if (!isKernelError(e)) throw e;
    model.close(progFd, 'user');
    model.close(mapFd, 'user');
    return finish('loader_run', 14, null, { code: e.code, message: e.message, pc: e.details.pc }, steps, ctxBytes);
  }
  model.close(progFd, 'user');
  model.close(mapFd, 'user');
  if (retval < 0) return finish('loader_retval', -retval, retval, null, steps, ctxBytes);
  return finish('ok', 0, retval, null, steps, ctxBytes);
}
