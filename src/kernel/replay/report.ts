/** ReplayReport: what a loader did in the model — syscalls, return value, resulting maps and programs. */
import { sha256Hex as sha256 } from '../../shared/bytes.js';
import { ATTACH_TYPE_NAME, MAP_TYPE_NAME, PROG_TYPE_NAME } from '../../loader/uapi/index.js';
import { ARRAY_LIKE, elemSize } from '../bpf/maps.js';
import type { BpfModel, TraceEntry } from '../bpf/model.js';
import type { KernelMap, KernelProg } from '../bpf/objects.js';

export type ReplayStage = 'ok' | 'map_create' | 'map_update' | 'map_freeze' | 'map_hash' | 'loader_load' | 'loader_run' | 'loader_retval';

export interface ReportMap {
  id: number;
  /** Index of the ctx map desc holding its fd, or null (inner template maps, closed maps). */
  ctxIndex: number | null;
  fd: number | null;
  name: string;
  type: number;
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: string;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  btfVmlinuxValueTypeId: number;
  innerMap: { type: number; keySize: number; valueSize: number; maxEntries: number; flags: number } | null;
  frozen: boolean;
  exclusive: boolean;
  /** Arrays: every element's value_size bytes, concatenated, hex (as BPF_MAP_LOOKUP_ELEM returns them). */
  contents: string | null;
  /** Arrays: SHA-256 of the kernel's storage (array_map_get_hash). */
  hash: string | null;
  /** Hash-like maps: key → value (hex). */
  entries: { key: string; value: string }[];
  /** Fd maps: slot key (hex) → the map or program id stored there. */
  slots: { key: string; kind: 'map' | 'prog'; id: number }[];
}

export interface ReportProg {
  id: number;
  ctxIndex: number | null;
  fd: number | null;
  name: string;
  type: number;
  typeName: string;
  expectedAttachType: number;
  expectedAttachTypeName: string;
  attachBtfId: number;
  attachTarget: string | null;
  attachModule: string | null;
  license: string;
  gpl: boolean;
  flags: number;
  insnCnt: number;
  /** Instructions as loaded (after the loader patched them), hex. */
  insns: string;
  sha256: string;
  /** bpf_prog_calc_tag: 8 bytes, hex. */
  tag: string;
  digest: string;
  maps: { insn: number; pseudo: number; mapId: number; mapName: string; offset: number }[];
  kfuncs: { insn: number; btfId: number; name: string; module: string }[];
  helpers: number[];
  funcInfoCnt: number;
  lineInfoCnt: number;
  coreReloCnt: number;
  signed: boolean;
  /**
   * The xlated length the model predicts (bpf_prog_info.xlated_prog_len / 8), from the program
   * and the maps' state at its PROG_LOAD; `exact` false: some rewrite is not modelled (`unmodelled`).
   * Worked out on first read (an enumerable getter: JSON.stringify includes it).
   */
  xlated: { insnCnt: number; exact: boolean; unmodelled: string[] };
}

/**
 * One read the loader made from its ctx (struct bpf_loader_ctx and the map and prog descs after
 * it): by a load instruction at `pc`, or by the helper called at `pc` (a SYSCALL program may
 * pass its ctx to helpers as memory). Offsets are from the start of the ctx.
 */
export interface CtxRead {
  pc: number;
  offset: number;
  size: number;
  via: 'insn' | 'helper';
}

export interface ReplayReport {
  scheme: string;
  profile: string;
  stage: ReplayStage;
  ok: boolean;
  /** errno of the failed step (positive), 0 when ok. */
  errno: number;
  /** The loader's return value (test.retval as s32), null if it did not run. */
  retval: number | null;
  fault: { code: string; message: string; pc?: number } | null;
  steps: number;
  trace: TraceEntry[];
  printk: string[];
  maps: ReportMap[];
  progs: ReportProg[];
  /** fds the loader left open that the ctx does not name. */
  leakedFds: number[];
  /** Every read of the ctx while the loader ran, in execution order (empty when it did not run). */
  ctxReads: CtxRead[];
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function reportMap(m: KernelMap, ctxIndex: number | null, fd: number | null): ReportMap {
  let contents: string | null = null;
  let hash: string | null = null;
  if (ARRAY_LIKE.has(m.type) && m.values) {
    const stride = elemSize(m.valueSize);
    const size = m.valueSize * m.maxEntries;
    if (size <= 1 << 20) {
      if (stride === m.valueSize && m.values.bytes.length >= size)
        contents = hex(m.values.bytes.subarray(0, size)); // no padding between elements
      else {
        const out = new Uint8Array(size);
        for (let i = 0; i < m.maxEntries; i++) out.set(m.values.bytes.subarray(i * stride, i * stride + m.valueSize), i * m.valueSize);
        contents = hex(out);
      }
    }
    hash = sha256(m.values.bytes);
  }
  return {
    id: m.id,
    ctxIndex,
    fd,
    name: m.name,
    type: m.type,
    typeName: MAP_TYPE_NAME[m.type] ?? String(m.type),
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    numaNode: m.numaNode,
    mapExtra: m.mapExtra.toString(),
    btfId: m.btf?.id ?? 0,
    btfKeyTypeId: m.btfKeyTypeId,
    btfValueTypeId: m.btfValueTypeId,
    btfVmlinuxValueTypeId: m.btfVmlinuxValueTypeId,
    innerMap: m.innerMeta ? { ...m.innerMeta } : null,
    frozen: m.frozen,
    exclusive: m.exclProgHash !== null,
    contents,
    hash,
    entries: m.refs.size ? [] : [...m.entries].map(([key, v]) => ({ key, value: hex(v) })),
    slots: [...m.refs].map(([key, o]) => ({ key, kind: o.kind, id: o.id })),
  };
}

export function reportProg(p: KernelProg, ctxIndex: number | null, fd: number | null): ReportProg {
  // The xlated prediction is worked out when first read (a getter, so JSON.stringify and deep
  // comparisons still see it): a replay whose caller never asks for it does not pay for it.
  let xlated: ReportProg['xlated'] | undefined;
  let from: KernelProg | null = p; // let go of the program once the prediction is made
  return {
    id: p.id,
    ctxIndex,
    fd,
    name: p.name,
    type: p.type,
    typeName: PROG_TYPE_NAME[p.type] ?? String(p.type),
    expectedAttachType: p.expectedAttachType,
    expectedAttachTypeName: ATTACH_TYPE_NAME[p.expectedAttachType] ?? String(p.expectedAttachType),
    attachBtfId: p.attachBtfId,
    attachTarget: p.attachTarget,
    attachModule: p.attachBtfObj?.kernelName ?? null,
    license: p.license,
    gpl: p.gpl,
    flags: p.flags,
    insnCnt: p.insns.length / 8,
    insns: hex(p.insns),
    sha256: sha256(p.insns),
    tag: hex(p.tag),
    digest: hex(p.digest),
    maps: p.loads.map((l) => ({ insn: l.insn, pseudo: l.pseudo, mapId: l.map.id, mapName: l.map.name, offset: l.offset })),
    kfuncs: p.kfuncs.map((k) => ({ ...k })),
    helpers: [...p.helpers],
    funcInfoCnt: p.funcInfoCnt,
    lineInfoCnt: p.lineInfoCnt,
    coreReloCnt: p.coreReloCnt,
    signed: p.signed,
    get xlated() {
      if (!xlated) {
        const x = from!.xlated;
        xlated = { insnCnt: x.insnCnt, exact: x.exact, unmodelled: [...x.unmodelled] };
        from = null;
      }
      return xlated;
    },
  };
}

/** Maps and programs the loader created (the loader's own map and program excluded), with their ctx slots. */
export function collectEffects(
  model: BpfModel,
  exclude: Set<number>,
  mapFds: number[],
  progFds: number[],
): { maps: ReportMap[]; progs: ReportProg[]; leaked: number[] } {
  const named = new Set<number>();
  const slotOf = (fds: number[], id: number): { index: number | null; fd: number | null } => {
    for (let i = 0; i < fds.length; i++) {
      const o = fds[i]! > 0 ? model.fds.get(fds[i]!) : undefined;
      if (o && o.id === id) {
        named.add(fds[i]!);
        return { index: i, fd: fds[i]! };
      }
    }
    return { index: null, fd: null };
  };
  const maps: ReportMap[] = [];
  const progs: ReportProg[] = [];
  for (const o of model.objects) {
    if (exclude.has(o.id)) continue;
    if (o.kind === 'map') {
      const s = slotOf(mapFds, o.id);
      maps.push(reportMap(o, s.index, s.fd));
    }
    if (o.kind === 'prog') {
      const s = slotOf(progFds, o.id);
      progs.push(reportProg(o, s.index, s.fd));
    }
  }
  const leaked = model.fds
    .entries()
    .filter(([fd, o]) => !named.has(fd) && !exclude.has(o.id))
    .map(([fd]) => fd);
  return { maps, progs, leaked };
}
