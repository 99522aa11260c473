/**
 * A JSON-safe summary of an object spec: what `bpfsign inspect --json` prints and what the
 * API returns. Instructions become counts, byte arrays hex, bigints decimal strings.
 */
import { helperName } from '../isa/index.js';
import { toHex } from '../../shared/bytes.js';
import { CORE_RELO_KINDS } from './features.js';
import type { MapSpec, ObjectSpec } from './spec.js';

export interface MapSummary {
  name: string;
  index: number;
  origin: string;
  section: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: string;
  pinning: string;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mmapable: boolean;
  frozen: boolean;
  inner: MapSummary | null;
  slots: { index: number; target: string; targetKind: string }[];
  initialValue: string | null;
  structOps: { typeName: string; typeId: number; funcs: { member: string; memberIndex: number; prog: string }[] } | null;
}

export interface ObjectSummary {
  name: string;
  byteOrder: string;
  license: string;
  kernVersion: number | null;
  programs: {
    name: string;
    section: string;
    type: string | null;
    expectedAttachType: string | null;
    attachTarget: string | null;
    attachBtfName: string | null;
    sleepable: boolean;
    xdpFrags: boolean;
    autoload: boolean;
    insns: number;
    slots: number;
    subprograms: string[];
    helpers: { id: number; name: string }[];
    maps: string[];
    kfuncs: string[];
    ksyms: string[];
    funcInfo: number;
    lineInfo: number;
    coreRelos: number;
  }[];
  subprograms: { name: string; slots: number; global: boolean }[];
  maps: MapSummary[];
  globals: { name: string; section: string; offset: number; size: number; linkage: string }[];
  externs: { name: string; kind: string; weak: boolean; func: boolean; typed: boolean; kconfig: unknown }[];
  coreRelocations: { total: number; byKind: Record<string, number> };
  btf: ObjectSpec['btf'];
  features: string[];
}

const hex = (b: Uint8Array | null) => (b ? toHex(b) : null);

function mapSummary(m: MapSpec): MapSummary {
  return {
    name: m.name,
    index: m.index,
    origin: m.origin,
    section: m.section,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    numaNode: m.numaNode,
    mapExtra: m.mapExtra.toString(),
    pinning: m.pinning,
    btfKeyTypeId: m.btfKeyTypeId,
    btfValueTypeId: m.btfValueTypeId,
    mmapable: m.mmapable,
    frozen: m.frozen,
    inner: m.inner ? mapSummary(m.inner) : null,
    slots: m.slots,
    initialValue: hex(m.initialValue),
    structOps: m.structOps,
  };
}

export function summarizeObject(spec: ObjectSpec): ObjectSummary {
  const byKind: Record<string, number> = {};
  let total = 0;
  const externByName = new Map(spec.externs.map((e) => [e.name, e]));
  const programs = spec.programs.map((p) => {
    for (const r of p.coreRelos) {
      const k = CORE_RELO_KINDS[r.kind] ?? `kind_${r.kind}`;
      byKind[k] = (byKind[k] ?? 0) + 1;
      total++;
    }
    const externNames = (kind: 'extern_call' | 'extern_ld64') =>
      [...new Set(p.relocations.flatMap((r) => (r.kind === kind ? [r.extern] : [])))].sort();
    return {
      name: p.name,
      section: p.section,
      type: p.type,
      expectedAttachType: p.expectedAttachType,
      attachTarget: p.attachTarget,
      attachBtfName: p.attachBtfName,
      sleepable: p.sleepable,
      xdpFrags: p.xdpFrags,
      autoload: p.autoload,
      insns: p.insns.length,
      slots: p.insns.reduce((n, i) => n + i.width, 0),
      subprograms: p.linked.map((l) => l.name),
      helpers: p.helpers.map((id) => ({ id, name: helperName(id) ?? `helper_${id}` })),
      maps: p.maps,
      kfuncs: externNames('extern_call'),
      ksyms: externNames('extern_ld64').filter((n) => externByName.get(n)?.kind === 'ksym'),
      funcInfo: p.funcInfo.length,
      lineInfo: p.lineInfo.length,
      coreRelos: p.coreRelos.length,
    };
  });
  return {
    name: spec.name,
    byteOrder: spec.byteOrder,
    license: spec.license,
    kernVersion: spec.kernVersion,
    programs,
    subprograms: spec.subprograms.map((s) => ({ name: s.name, slots: s.slots, global: s.global })),
    maps: spec.maps.map(mapSummary),
    globals: spec.globals.map((g) => ({ name: g.name, section: g.section, offset: g.offset, size: g.size, linkage: g.linkage })),
    externs: spec.externs.map((e) => ({ name: e.name, kind: e.kind, weak: e.weak, func: e.func, typed: e.typed, kconfig: e.kconfig })),
    coreRelocations: { total, byKind },
    btf: spec.btf,
    features: spec.features,
  };
}
