/**
 * A light skeleton's input made again without the object: from the plan a loader was generated
 * from, the loader's bytes, its signature and the BTF it loads. What lskel-object.ts takes from
 * the object is here taken from what was signed:
 *
 *   maps          the plan's maps in ctx order, named by bpftool's rule (an internal map it
 *                 cannot name is left out); memory-mapped as the flavour says; the initial image
 *                 is the plan's map_update value (zeros for a map it does not fill), the mmap size
 *                 is rounded to the plan's page size, read-only when BPF_F_RDONLY_PROG is set
 *   variables     each mapped map's DATASEC members in the loaded BTF (lskel-btf.ts)
 *   programs      the plan's skeleton programs; how each attaches is the caller's (`attach`): the
 *                 plan knows a loaded program's type and expected attach type but not its
 *                 section, which names a raw tracepoint's target
 *
 * Any skeleton emitter (lang.ts) prints from the result what it prints from the object's input.
 */
import type { Btf } from '../btf/index.js';
import { skeletonIdent, type Plan, type ProgLoadAttr } from '../plan/index.js';
import { ATTACH_TYPE_NAME, PROG_TYPE_NAME } from '../uapi/index.js';
import { lskelVarsFromBtf } from './lskel-btf.js';
import {
  attachFor,
  mmapSize,
  type LightSkeletonInput,
  type LskelAttach,
  type LskelFlavour,
  type LskelMap,
  type LskelSignature,
} from './lskel.js';

const BPF_F_RDONLY_PROG = 0x80;

export interface PlanSkeletonOptions {
  /** Skeleton name (the manifest's object name). */
  name: string;
  loader: { insns: Uint8Array; data: Uint8Array };
  signature?: LskelSignature;
  /** The BTF the loader loads, parsed; null when it loads none. */
  btf: Btf | null;
  /** 'bpftool-7.1' maps every internal map into memory, 'v1.7' only the plan's mmapable ones. */
  flavour: LskelFlavour;
  /** How program `name` (index in the plan's skeleton programs) attaches; `load` is its PROG_LOAD, null when not loaded. */
  attach: (prog: { name: string; index: number; load: ProgLoadAttr | null }) => LskelAttach;
}

/** The BTF bytes the plan loads (its btf_load op), or null. */
export function planBtf(plan: Plan): Uint8Array | null {
  for (const op of plan.ops) if (op.op === 'btf_load') return op.btf;
  return null;
}

/**
 * How a loaded program attaches, as bpftool picks it (attachFor) from its PROG_LOAD's program and
 * expected attach types; `section` only decides a raw tracepoint's target (`raw_tp/TARGET`).
 */
export function attachOfLoad(load: ProgLoadAttr, section: string): LskelAttach {
  return attachFor(PROG_TYPE_NAME[load.type] ?? null, ATTACH_TYPE_NAME[load.expectedAttachType] ?? null, section);
}

/** The skeleton maps of a plan (see the file comment). */
export function lskelMapsFromPlan(plan: Plan, btf: Btf | null, flavour: LskelFlavour): LskelMap[] {
  const images = new Map<number, Uint8Array>();
  for (const op of plan.ops) if (op.op === 'map_update') images.set(op.mapIndex, op.value);
  const out: LskelMap[] = [];
  for (const m of plan.maps) {
    const ident = skeletonIdent(m.name, m.internal);
    if (ident === null) continue;
    const mapped = flavour === 'bpftool-7.1' ? m.internal : m.internal && m.mmapable;
    if (!mapped) {
      out.push({ name: m.name, ident, mmap: null });
      continue;
    }
    out.push({
      name: m.name,
      ident,
      mmap: {
        initialValue: images.get(m.index) ?? new Uint8Array(m.valueSize),
        mmapSize: mmapSize(m.valueSize, m.maxEntries, plan.host.pageSize),
        readOnly: (m.flags & BPF_F_RDONLY_PROG) !== 0,
        vars: btf ? lskelVarsFromBtf(btf, ident) : [],
      },
    });
  }
  return out;
}

/** The light-skeleton input of a plan's loader (see the file comment). */
export function lskelInputFromPlan(plan: Plan, opts: PlanSkeletonOptions): LightSkeletonInput {
  // PROG_LOADs are in the order of the loaded programs (their names may be cut to 15 characters).
  const loads = new Map<number, ProgLoadAttr>();
  for (const op of plan.ops) if (op.op === 'prog_load') loads.set(op.loadIndex, op.prog);
  let loaded = 0;
  const input: LightSkeletonInput = {
    name: opts.name,
    insns: opts.loader.insns,
    data: opts.loader.data,
    maps: lskelMapsFromPlan(plan, opts.btf, opts.flavour),
    progs: plan.programs.map((p, index) => ({
      name: p.name,
      attach: opts.attach({ name: p.name, index, load: p.loaded ? (loads.get(loaded++) ?? null) : null }),
    })),
    hasBtf: opts.btf !== null,
  };
  if (opts.signature) input.signature = opts.signature;
  return input;
}
