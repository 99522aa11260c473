/**
 * parseObject: BPF ELF object bytes → ObjectSpec. Pure and deterministic.
 *
 * Order (as libbpf's open phase): ELF → license/version → BTF and BTF.ext → functions →
 * externs → maps → relocations → per-program linking, func/line info and CO-RE records.
 */
import { LoaderError } from '../errors.js';
import {
  parseBtf,
  parseBtfExt,
  type Btf,
  type BtfExt,
  type CoreReloRecord,
  type FuncInfoRecord,
  type LineInfoRecord,
} from '../btf/index.js';
import { parseElf, type ElfFile } from '../elf/index.js';
import { collectExterns } from './externs.js';
import { collectMaps } from './maps.js';
import { attachRelocations, collectFunctions, functionsByStart, linkProgram, type Func } from './programs.js';
import { matchSection } from './sections.js';
import { detectFeatures } from './features.js';
import type { BtfSummary, ObjectSpec, ProgramSpec } from './spec.js';

export interface ParseObjectOptions {
  /** Object name (libbpf's object_name); default 'obj'. Use objectNameFromPath for bpftool's choice. */
  name?: string;
}

const OBJ_NAME_MAX = 15;

/**
 * bpftool's name for a file: basename without its last extension, non-alnum → '_'. It names the
 * skeleton as is; libbpf keeps its first 15 characters as the object name (parseObject does that).
 */
export function objectNameFromPath(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  return stem.replace(/[^A-Za-z0-9_]/g, '_');
}

function stage<T>(prefix: string, details: Record<string, unknown>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LoaderError) throw e.withPrefix(prefix, details);
    throw e;
  }
}

function readLicense(elf: ElfFile): string {
  const s = elf.section('license');
  if (!s) return '';
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(s.data.subarray(0, end < 0 ? s.data.length : end));
}

function readVersion(elf: ElfFile): number | null {
  const s = elf.section('version');
  if (!s) return null;
  if (s.size !== 4)
    throw new LoaderError('OBJECT_MALFORMED', `section version: size ${s.size}, want 4`, { section: 'version', got: s.size, want: 4 });
  return new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, elf.byteOrder === 'le');
}

export function parseObject(bytes: Uint8Array, opts: ParseObjectOptions = {}): ObjectSpec {
  return parseObjectParts(bytes, opts).spec;
}

/**
 * parseObject, with the parsed ELF file and BTF it read the object from, for callers that go on
 * to plan the object and make its skeleton (service/loader.ts) instead of parsing the bytes again.
 * Both are read-only views of `bytes`.
 */
export function parseObjectParts(bytes: Uint8Array, opts: ParseObjectOptions = {}): { spec: ObjectSpec; elf: ElfFile; btf: Btf | null } {
  const name = (opts.name ?? 'obj').slice(0, OBJ_NAME_MAX);
  const elf = parseElf(bytes);
  const license = readLicense(elf);
  const kernVersion = readVersion(elf);

  const btfSec = elf.section('.BTF');
  const btf: Btf | null = btfSec ? stage('section .BTF', { section: '.BTF' }, () => parseBtf(btfSec.data)) : null;
  const extSec = elf.section('.BTF.ext');
  const ext: BtfExt | null = extSec && btf ? stage('section .BTF.ext', { section: '.BTF.ext' }, () => parseBtfExt(extSec.data, btf)) : null;

  const funcs = collectFunctions(elf);
  const extIndex = ext
    ? { funcs: new RecordIndex(ext.funcInfo), lines: new RecordIndex(ext.lineInfo), relos: new RecordIndex(ext.coreRelos) }
    : null;
  const externs = stage('collect externs', {}, () => collectExterns(elf.symbols, btf));
  const funcAt = (sectionIndex: number, offset: number) => funcs.find((f) => f.sectionIndex === sectionIndex && f.offset === offset)?.name;
  const { maps, globals } = stage('init maps', {}, () => collectMaps({ elf, btf, objName: name, externs, funcAt }));
  attachRelocations(funcs, { elf, maps, externs });

  const mains = funcs.filter((f) => f.section !== '.text');
  const byStart = functionsByStart(funcs);
  const programs = mains.map((f) =>
    stage(`program '${f.name}'`, { section: f.section, symbol: f.name }, () => buildProgram(f, byStart, extIndex)),
  );
  // libbpf: a struct_ops program's expected_attach_type is the index of the member it implements.
  for (const m of maps) {
    for (const fn of m.structOps?.funcs ?? []) {
      const p = programs.find((x) => x.name === fn.prog);
      if (p) {
        p.structOps = { map: m.name, member: fn.member, memberIndex: fn.memberIndex };
        p.expectedAttachTypeId = fn.memberIndex;
      }
    }
  }
  const subprograms = funcs.filter((f) => f.section === '.text').map(functionSpec);

  const spec: ObjectSpec = {
    name,
    byteOrder: elf.byteOrder,
    license,
    kernVersion,
    programs,
    subprograms,
    maps,
    globals,
    externs,
    btf: btf ? summarizeBtf(btf, ext) : null,
    features: [],
  };
  spec.features = detectFeatures(spec);
  return { spec, elf, btf };
}

/** BTF.ext records of each section sorted by byte offset, for range lookups per function. */
class RecordIndex<R extends { insnOff: number }> {
  readonly #bySection = new Map<string, R[]>();
  constructor(sections: { section: string; records: R[] }[]) {
    for (const s of sections) {
      const list = this.#bySection.get(s.section) ?? [];
      list.push(...s.records);
      this.#bySection.set(s.section, list);
    }
    for (const list of this.#bySection.values()) list.sort((a, b) => a.insnOff - b.insnOff);
  }
  /** Records with lo <= insnOff < hi, in offset order. */
  range(section: string, lo: number, hi: number): R[] {
    const list = this.#bySection.get(section);
    if (!list) return [];
    let a = 0,
      b = list.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (list[m].insnOff < lo) a = m + 1;
      else b = m;
    }
    let e = a;
    while (e < list.length && list[e].insnOff < hi) e++;
    return a === e ? [] : list.slice(a, e);
  }
}

interface ExtIndex {
  funcs: RecordIndex<FuncInfoRecord>;
  lines: RecordIndex<LineInfoRecord>;
  relos: RecordIndex<CoreReloRecord>;
}

function functionSpec(f: Func) {
  return { name: f.name, section: f.section, sectionIndex: f.sectionIndex, offset: f.offset, slots: f.slots, global: f.global };
}

function buildProgram(main: Func, funcs: ReadonlyMap<number, Func>, ext: ExtIndex | null): ProgramSpec {
  const sec = matchSection(main.section);
  const linked = linkProgram(main, funcs);
  const funcInfo: ProgramSpec['funcInfo'] = [];
  const lineInfo: ProgramSpec['lineInfo'] = [];
  const coreRelos: ProgramSpec['coreRelos'] = [];
  if (ext) {
    for (const { func, start } of linked.placed) {
      // Records are byte offsets within the ELF section; keep those inside this function, rebased.
      const lo = func.offset,
        hi = func.offset + func.slots * 8;
      const rebase = (off: number) => off / 8 - func.secInsnOff + start;
      for (const r of ext.funcs.range(func.section, lo, hi)) funcInfo.push({ insn: rebase(r.insnOff), typeId: r.typeId });
      for (const r of ext.lines.range(func.section, lo, hi))
        lineInfo.push({ insn: rebase(r.insnOff), fileNameOff: r.fileNameOff, lineOff: r.lineOff, line: r.line, column: r.column });
      for (const r of ext.relos.range(func.section, lo, hi))
        coreRelos.push({ insn: rebase(r.insnOff), typeId: r.typeId, accessStr: r.accessStr, kind: r.kind });
    }
  }
  const helpers = new Set<number>();
  for (const insn of linked.insns) if (insn.opcode === 0x85 && insn.src === 0) helpers.add(insn.imm);
  const mapNames = new Set<string>();
  for (const r of linked.relocations) if (r.kind === 'map' || r.kind === 'data') mapNames.add(r.map);
  return {
    ...functionSpec(main),
    type: sec?.progType ?? null,
    typeId: sec?.progTypeId ?? 0,
    expectedAttachType: sec?.expectedAttachType ?? null,
    expectedAttachTypeId: sec?.expectedAttachTypeId ?? 0,
    structOps: null,
    attachTarget: sec?.attachTarget ?? null,
    attachBtfName: sec?.attachBtfName ?? null,
    sleepable: sec?.sleepable ?? false,
    xdpFrags: sec?.xdpFrags ?? false,
    usdt: sec?.usdt ?? false,
    autoload: sec ? sec.autoload : !main.section.startsWith('?'),
    insns: linked.insns,
    linked: linked.linked,
    relocations: linked.relocations,
    funcInfo,
    lineInfo,
    coreRelos,
    helpers: [...helpers].sort((a, b) => a - b),
    maps: [...mapNames].sort(),
  };
}

function summarizeBtf(btf: Btf, ext: BtfExt | null): BtfSummary {
  const kinds: Record<string, number> = {};
  for (let id = btf.startId; id < btf.totalCount; id++) {
    const k = btf.kind(id);
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  const sorted: Record<string, number> = {};
  for (const k of Object.keys(kinds).sort()) sorted[k] = kinds[k];
  const count = (xs: { records: unknown[] }[]) => xs.reduce((n, s) => n + s.records.length, 0);
  return {
    byteOrder: btf.byteOrder === 'little' ? 'le' : 'be',
    types: btf.typeCount,
    stringsBytes: btf.header.strLen,
    kinds: sorted,
    ext: ext ? { funcInfo: count(ext.funcInfo), lineInfo: count(ext.lineInfo), coreRelos: count(ext.coreRelos) } : null,
  };
}
