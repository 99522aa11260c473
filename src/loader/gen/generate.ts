/**
 * generateLoader: lays out a plan as libbpf v1.7.0 gen_loader would — loader instructions plus
 * the data blob — for one of three schemes:
 *  - 'unsigned': bpftool gen skeleton -L;
 *  - 'linux-6.18': signed loader that checks the frozen metadata map's SHA-256 itself
 *    (libbpf gen_hash, with the post-v1.7.0 fixes: branches land on the cleanup label, no ctx
 *    max_entries / initial_value reads; optional map->excl check);
 *  - 'linux-load-time': signed loader for kernels that verify the metadata at PROG_LOAD
 *    (no in-loader check, no ctx overrides).
 *
 * `compat: 'libbpf-1.7.0'` reproduces what libbpf v1.7.0 itself emits (bpftool 7.7 `gen skeleton
 * -L [-S]`), byte for byte, weaknesses included: the stack area is always libbpf's 136-byte
 * struct loader_stack, the ctx max_entries / initial_value overrides stay in signed loaders, and
 * the metadata check branches one instruction past the cleanup label. v1.7.0 has neither the
 * load-time scheme nor the map->excl check, and refuses what its gen_loader cannot record
 * (pinned maps, PROG_ARRAY initial slots); those are typed errors here.
 */
import { createHash } from 'node:crypto';
import { LoaderError } from '../errors.js';
import type { Plan } from '../plan/index.js';
import { ctxOffsets } from '../uapi/index.js';
import { Emitter } from './emitter.js';
import { Recorder } from './recorders.js';

export type LoaderScheme = 'unsigned' | 'linux-6.18' | 'linux-load-time';

export interface KernelProfile {
  /** `struct bpf_map` has the `excl` field after `sha` (bpf-next, June 2026): emit the exclusivity check. */
  mapExcl: boolean;
}

/** Whose loader to emit: bpfsign's own (default) or libbpf v1.7.0's, byte for byte. */
export type LoaderCompat = 'bpfsign' | 'libbpf-1.7.0';

export interface GenerateOptions {
  scheme: LoaderScheme;
  /** Only for 'linux-6.18'. Default: Linux 6.18 as released (no `excl` field). */
  kernel?: Partial<KernelProfile>;
  /** Default 'bpfsign'. */
  compat?: LoaderCompat;
}

/** sizeof(struct loader_stack) in libbpf's gen_loader.c: btf_fd, inner_map_fd, prog_fd[32]. */
const LIBBPF_STACK_SIZE = 8 + 4 * 32;

/** What libbpf v1.7.0 cannot generate: a typed error naming the first such feature. */
function checkLibbpf170(plan: Plan, opts: GenerateOptions): void {
  const no = (field: string, msg: string, got?: unknown): never => {
    throw new LoaderError('OBJECT_UNSUPPORTED', `gen (libbpf v1.7.0 compat): ${msg}`, { field, got });
  };
  if (opts.scheme === 'linux-load-time')
    no(
      'scheme',
      "libbpf v1.7.0 has no load-time scheme (signed loaders carry the in-loader metadata check: scheme 'linux-6.18')",
      opts.scheme,
    );
  if (opts.kernel?.mapExcl) no('kernel.mapExcl', 'libbpf v1.7.0 emits no map->excl check (added after v1.7.0)', true);
  const pinned = plan.maps.find((m) => m.pin);
  if (pinned) no('maps', `map '${pinned.name}' is pinned: libbpf fails to create pinned maps when generating a loader`, pinned.name);
  if (plan.ops.some((o) => o.op === 'prog_array_update'))
    no('maps', 'PROG_ARRAY initial slots: libbpf does not record them in a loader', 'prog_array_update');
}

export interface CtxLayout {
  /** ctx.sz: bytes of bpf_loader_ctx + map descs + prog descs. */
  size: number;
  maps: { name: string; ident: string; offset: number }[];
  progs: { name: string; offset: number }[];
}

export interface GeneratedLoader {
  scheme: LoaderScheme;
  compat: LoaderCompat;
  /** Loader instructions, target byte order. */
  insns: Uint8Array;
  /** The metadata blob (opts_data). */
  data: Uint8Array;
  ctxLayout: CtxLayout;
  /** SHA-256 of `data` (what the 6.18 loader compares with map->sha). */
  dataHash: Uint8Array;
  /** SHA-256 of `insns` (excl_prog_hash of the metadata map for signed schemes). */
  insnsHash: Uint8Array;
  /** Instruction indexes of the hash constants (linux-6.18 only). */
  hashInsns: number[];
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

export function generateLoader(plan: Plan, opts: GenerateOptions): GeneratedLoader {
  const scheme = opts.scheme;
  if (scheme !== 'unsigned' && scheme !== 'linux-6.18' && scheme !== 'linux-load-time') {
    throw new LoaderError('OBJECT_UNSUPPORTED', `gen: unknown scheme '${String(scheme)}'`, { field: 'scheme', got: scheme });
  }
  const compat = opts.compat ?? 'bpfsign';
  if (compat !== 'bpfsign' && compat !== 'libbpf-1.7.0') {
    throw new LoaderError('OBJECT_UNSUPPORTED', `gen: unknown compat '${String(compat)}'`, {
      field: 'compat',
      got: compat,
      want: "'bpfsign' or 'libbpf-1.7.0'",
    });
  }
  const libbpf = compat === 'libbpf-1.7.0';
  if (libbpf) checkLibbpf170(plan, opts);
  const e = new Emitter(plan.byteOrder);
  const r = new Recorder(e, {
    overrides: libbpf || scheme === 'unsigned',
    stackSize: libbpf ? LIBBPF_STACK_SIZE : plan.stackSize,
    hashBranchPastCleanup: libbpf,
  });
  r.init(plan.nrPrograms, plan.nrMaps);
  const hashInsns = scheme === 'linux-6.18' ? r.signatureMatch(opts.kernel?.mapExcl ?? false) : [];
  for (const op of plan.ops) {
    switch (op.op) {
      case 'btf_load':
        r.loadBtf(op.btf);
        break;
      case 'map_create':
        r.mapCreate(op.attr, op.mapIndex);
        break;
      case 'map_update':
        r.mapUpdateElem(op.mapIndex, op.value);
        break;
      case 'map_freeze':
        r.mapFreeze(op.mapIndex);
        break;
      case 'populate_outer_map':
        r.populateOuterMap(op.outerIndex, op.slot, op.innerIndex);
        break;
      case 'prog_load':
        r.progLoad(op.prog);
        break;
      case 'prog_array_update':
        r.progArrayUpdate(op.mapIndex, op.slot, op.loadIndex);
        break;
    }
  }
  r.finish(plan.nrMaps);
  const data = e.data();
  const dataHash = sha256(data);
  if (hashInsns.length) {
    const dv = new DataView(dataHash.buffer, dataHash.byteOffset, dataHash.byteLength);
    const le = plan.byteOrder === 'le';
    hashInsns.forEach((at, i) => {
      const w = dv.getBigUint64(8 * i, le);
      e.insns[at].imm = Number(BigInt.asIntN(32, w & 0xffffffffn));
      e.insns[at + 1].imm = Number(BigInt.asIntN(32, w >> 32n));
    });
  }
  const insns = e.encode();
  const progs = plan.programs.map((p, j) => ({ name: p.name, offset: ctxOffsets.progFd(plan.nrMaps, j) }));
  return {
    scheme,
    compat,
    insns,
    data,
    ctxLayout: {
      size: ctxOffsets.size(plan.nrMaps, plan.programs.length),
      maps: plan.maps.map((m) => ({ name: m.name, ident: m.ident, offset: ctxOffsets.mapDesc(m.index) })),
      progs,
    },
    dataHash,
    insnsHash: sha256(insns),
    hashInsns,
  };
}
