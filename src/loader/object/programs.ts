/**
 * Programs and subprograms: which functions exist, what each relocation means, and
 * libbpf's subprogram linking.
 *
 * Every STT_FUNC symbol of an executable section is a function. Functions in `.text` are
 * subprograms; every other one is an entry program whose type comes from its section name.
 * Linking appends, depth-first in order of first reference, each subprogram a program
 * reaches (by call or by `ld_imm64` of a function address), then patches the pc-relative
 * immediates: imm = subprog_start − (caller_start + idx) − 1.
 */
import { LoaderError } from '../errors.js';
import { decodeInsns, type Insn } from '../isa/index.js';
import { SHF, SHT, STB, STT, type ElfFile, type ElfSection, type ElfSymbol } from '../elf/index.js';
import type { FunctionSpec, RelocSpec } from './spec.js';
import type { MapSpec, ExternSpec } from './spec.js';

const INSN_SIZE = 8;
const OP_CALL = 0x85; // BPF_JMP | BPF_CALL
const OP_LD_IMM64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
const PSEUDO_CALL = 1;
const PSEUDO_FUNC = 4;

/** A function with its decoded instructions and section-relative relocations. */
export interface Func extends FunctionSpec {
  /** Slot index of the function's first instruction within its section. */
  secInsnOff: number;
  insns: Insn[];
  /** Slot index (within the function) → index into `insns`; -1 for the second half of ld_imm64. */
  slotToInsn: Int32Array;
  relocs: FuncReloc[];
}

/** A relocation before linking: insn is a slot index within the function. */
type FuncReloc =
  | { kind: 'map'; insn: number; map: MapSpec }
  | { kind: 'data'; insn: number; map: MapSpec; offset: number }
  | { kind: 'call' | 'subprog_addr'; insn: number; sectionIndex: number; targetSecInsn: number }
  | { kind: 'extern_call' | 'extern_ld64'; insn: number; extern: string };

export function isExecSection(s: ElfSection): boolean {
  return s.type === SHT.PROGBITS && (s.flags & SHF.EXECINSTR) !== 0 && s.size > 0;
}

/** Collects every function of every executable section, sorted by (section index, offset). */
export function collectFunctions(elf: ElfFile): Func[] {
  const out: Func[] = [];
  const funcSyms = new Map<number, ElfSymbol[]>();
  for (const s of elf.symbols) {
    if (s.type !== STT.FUNC) continue;
    const list = funcSyms.get(s.shndx);
    if (list) list.push(s);
    else funcSyms.set(s.shndx, [s]);
  }
  for (const sec of elf.sections) {
    if (!isExecSection(sec)) continue;
    if (sec.size % INSN_SIZE !== 0) {
      throw new LoaderError('OBJECT_MALFORMED', `section ${sec.name}: size ${sec.size} is not a multiple of 8`, {
        section: sec.name,
        got: sec.size,
      });
    }
    const syms = funcSyms.get(sec.index) ?? [];
    for (const sym of syms) {
      const where = { section: sec.name, symbol: sym.name, offset: sym.value };
      if (sym.value % INSN_SIZE !== 0 || sym.size % INSN_SIZE !== 0) {
        throw new LoaderError(
          'OBJECT_MALFORMED',
          `section ${sec.name}: function '${sym.name}' at ${sym.value} size ${sym.size} is not instruction-aligned`,
          where,
        );
      }
      if (sym.value + sym.size > sec.size || sym.size === 0) {
        throw new LoaderError(
          'OBJECT_MALFORMED',
          `section ${sec.name}: function '${sym.name}' [${sym.value}, +${sym.size}) is empty or past end of section (${sec.size})`,
          where,
        );
      }
      if (sec.name !== '.text' && sym.bind === STB.LOCAL) {
        throw new LoaderError('OBJECT_UNSUPPORTED', `section ${sec.name}: program '${sym.name}' is static and not supported`, where);
      }
      const bytes = sec.data.subarray(sym.value, sym.value + sym.size);
      let insns: Insn[];
      try {
        insns = decodeInsns(bytes, elf.byteOrder);
      } catch (e) {
        if (e instanceof LoaderError) throw e.withPrefix(`section ${sec.name}: function '${sym.name}'`, where);
        throw e;
      }
      const slotToInsn = new Int32Array(sym.size / INSN_SIZE).fill(-1);
      let slot = 0;
      for (let i = 0; i < insns.length; i++) {
        slotToInsn[slot] = i;
        slot += insns[i].width;
      }
      out.push({
        name: sym.name,
        section: sec.name,
        sectionIndex: sec.index,
        offset: sym.value,
        slots: sym.size / INSN_SIZE,
        global: sym.bind !== STB.LOCAL,
        secInsnOff: sym.value / INSN_SIZE,
        insns,
        slotToInsn,
        relocs: [],
      });
    }
  }
  out.sort((a, b) => a.sectionIndex - b.sectionIndex || a.offset - b.offset);
  for (let i = 1; i < out.length; i++) {
    const p = out[i - 1],
      f = out[i];
    if (p.sectionIndex === f.sectionIndex && p.offset + p.slots * INSN_SIZE > f.offset) {
      throw new LoaderError('OBJECT_MALFORMED', `section ${f.section}: functions '${p.name}' and '${f.name}' overlap`, {
        section: f.section,
        symbol: f.name,
        offset: f.offset,
      });
    }
  }
  return out;
}

export interface RelocContext {
  elf: ElfFile;
  maps: MapSpec[];
  externs: ExternSpec[];
}

/** Classifies every relocation of the executable sections and attaches it to its function. */
export function attachRelocations(funcs: Func[], ctx: RelocContext): void {
  const { elf } = ctx;
  const bySection = new Map<number, Func[]>();
  for (const f of funcs) {
    const l = bySection.get(f.sectionIndex);
    if (l) l.push(f);
    else bySection.set(f.sectionIndex, [f]);
  }
  for (const rel of elf.relocations) {
    const sec = elf.sections[rel.target];
    if (!isExecSection(sec)) continue;
    for (const r of rel.entries) {
      const sym = elf.symbols[r.symbol];
      const where = { section: sec.name, symbol: sym.name, offset: r.offset };
      if (r.offset % INSN_SIZE !== 0)
        throw new LoaderError('OBJECT_MALFORMED', `section ${sec.name}: relocation offset ${r.offset} is not instruction-aligned`, where);
      const fn = funcContaining(bySection.get(sec.index) ?? [], r.offset);
      if (!fn) throw new LoaderError('OBJECT_MALFORMED', `section ${sec.name}: relocation at ${r.offset} is outside every function`, where);
      const slot = (r.offset - fn.offset) / INSN_SIZE;
      const idx = fn.slotToInsn[slot];
      if (idx < 0)
        throw new LoaderError(
          'OBJECT_MALFORMED',
          `section ${sec.name}: relocation at ${r.offset} points into the middle of ld_imm64`,
          where,
        );
      const insn = fn.insns[idx];
      fn.relocs.push(classify(ctx, sec, fn, slot, insn, r.symbol, where));
    }
  }
  for (const f of funcs) f.relocs.sort((a, b) => a.insn - b.insn);
}

/** The function (of one section, sorted by offset) whose byte range holds `offset`. */
function funcContaining(sorted: Func[], offset: number): Func | undefined {
  let a = 0,
    b = sorted.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (sorted[m].offset <= offset) a = m + 1;
    else b = m;
  }
  const f = sorted[a - 1];
  return f && offset < f.offset + f.slots * INSN_SIZE ? f : undefined;
}

function classify(
  ctx: RelocContext,
  sec: ElfSection,
  fn: Func,
  slot: number,
  insn: Insn,
  symIndex: number,
  where: Record<string, unknown>,
): FuncReloc {
  const { elf } = ctx;
  const sym = elf.symbols[symIndex];
  const isCall = insn.opcode === OP_CALL;
  const isLd64 = insn.opcode === OP_LD_IMM64;
  const bad = (msg: string) =>
    new LoaderError('OBJECT_MALFORMED', `section ${sec.name}: function '${fn.name}': insn ${slot}: ${msg}`, { ...where, pc: slot });
  if (sym.shndx === 0) {
    const ext = ctx.externs.find((e) => e.name === sym.name);
    if (!ext) throw bad(`relocation against undefined symbol '${sym.name}' that is not a .kconfig/.ksyms extern`);
    if (isCall) {
      if (!ext.func) throw bad(`call to extern '${sym.name}' which is not a function`);
      return { kind: 'extern_call', insn: slot, extern: sym.name };
    }
    if (isLd64) return { kind: 'extern_ld64', insn: slot, extern: sym.name };
    throw bad(`extern '${sym.name}' referenced by opcode 0x${insn.opcode.toString(16)}, want call or ld_imm64`);
  }
  if (sym.shndx >= elf.sections.length) throw bad(`symbol '${sym.name}' in section ${sym.shndx}, which does not exist`);
  const target = elf.sections[sym.shndx];
  if (isCall) {
    if (insn.src !== PSEUDO_CALL) throw bad(`call relocation on a call with src_reg ${insn.src}, want ${PSEUDO_CALL}`);
    if (!isExecSection(target)) throw bad(`call to '${sym.name}' in non-executable section ${target.name}`);
    // Global function symbols carry the offset; section symbols leave it in imm (imm + 1 slots further).
    return { kind: 'call', insn: slot, sectionIndex: target.index, targetSecInsn: sym.value / INSN_SIZE + insn.imm + 1 };
  }
  if (!isLd64) throw bad(`relocation against '${sym.name}' on opcode 0x${insn.opcode.toString(16)}, want call or ld_imm64`);
  if (isExecSection(target)) {
    if ((sym.value + insn.imm) % INSN_SIZE !== 0) throw bad(`function address ${sym.value}+${insn.imm} is not instruction-aligned`);
    return { kind: 'subprog_addr', insn: slot, sectionIndex: target.index, targetSecInsn: (sym.value + insn.imm) / INSN_SIZE };
  }
  const defMap = ctx.maps.find(
    (m) => (m.origin === 'btf' || m.origin === 'legacy') && m.section === target.name && m.sectionOffset === sym.value,
  );
  if (target.name === '.maps' || target.name === 'maps') {
    if (!defMap) throw bad(`no map defined at ${target.name}+${sym.value} for '${sym.name}'`);
    return { kind: 'map', insn: slot, map: defMap };
  }
  const dataMap = ctx.maps.find((m) => (m.origin === 'data' || m.origin === 'rodata' || m.origin === 'bss') && m.section === target.name);
  if (dataMap) {
    // libbpf adds both (insn[1].imm = insn[0].imm + st_value) and checks nothing; neither do we.
    const offset = insn.imm + sym.value;
    return { kind: 'data', insn: slot, map: dataMap, offset };
  }
  throw new LoaderError(
    'OBJECT_UNSUPPORTED',
    `section ${sec.name}: function '${fn.name}': insn ${slot}: relocation against '${sym.name}' in section ${target.name}, which is neither a map, global data nor code`,
    { ...where, pc: slot },
  );
}

export interface LinkedProgram {
  insns: Insn[];
  linked: { name: string; start: number; slots: number }[];
  relocations: RelocSpec[];
  /** Each function placed in the program and its start slot (the program itself first). */
  placed: { func: Func; start: number }[];
}

/** Functions keyed by sectionIndex * 2^32 + first slot, for linkProgram. */
export function functionsByStart(funcs: Func[]): Map<number, Func> {
  return new Map(funcs.map((f) => [f.sectionIndex * 0x100000000 + f.secInsnOff, f]));
}

/** Links a program with the subprograms it reaches, libbpf-style (depth-first, first reference order). */
export function linkProgram(main: Func, funcByStart: ReadonlyMap<number, Func>): LinkedProgram {
  const out: Insn[] = [];
  const relocations: RelocSpec[] = [];
  const placed: { func: Func; start: number }[] = [];
  const startOf = new Map<Func, number>();
  const insnBase = new Map<Func, number>();
  let nextSlot = 0;

  const append = (f: Func): number => {
    const start = nextSlot;
    startOf.set(f, start);
    insnBase.set(f, out.length);
    placed.push({ func: f, start });
    for (const insn of f.insns) out.push(insn); // shared, immutable; patched slots get new objects
    nextSlot += f.slots;
    return start;
  };
  // out[] holds whole instructions (ld_imm64 is one); map a function's slot to its index there.
  const outIndexOf = (f: Func, slot: number) => insnBase.get(f)! + f.slotToInsn[slot];
  const findSub = (sectionIndex: number, secInsn: number, from: Func, slot: number): Func => {
    const sub = funcByStart.get(sectionIndex * 0x100000000 + secInsn);
    if (!sub) {
      throw new LoaderError(
        'OBJECT_MALFORMED',
        `function '${from.name}': insn ${slot}: call target ${secInsn} is not the start of a function`,
        { section: from.section, symbol: from.name, pc: slot, got: secInsn },
      );
    }
    if (sub.section !== '.text') {
      throw new LoaderError(
        'OBJECT_UNSUPPORTED',
        `function '${from.name}': insn ${slot}: call into entry program '${sub.name}' (section ${sub.section}); only .text subprograms can be called`,
        { section: from.section, symbol: from.name, pc: slot },
      );
    }
    return sub;
  };

  const visit = (f: Func): void => {
    const start = startOf.get(f)!;
    const relocAt = new Map<number, FuncReloc>();
    for (const r of f.relocs) relocAt.set(r.insn, r);
    let slot = 0;
    for (const insn of f.insns) {
      const r = relocAt.get(slot);
      let targetSecInsn: number | null = null;
      let kind: 'call' | 'subprog_addr' | null = null;
      if (r && (r.kind === 'call' || r.kind === 'subprog_addr')) {
        targetSecInsn = r.targetSecInsn;
        kind = r.kind;
      } else if (!r && insn.opcode === OP_CALL && insn.src === PSEUDO_CALL) {
        targetSecInsn = f.secInsnOff + slot + insn.imm + 1;
        kind = 'call'; // static call inside the same section
      } else if (!r && insn.opcode === OP_LD_IMM64 && insn.src === PSEUDO_FUNC) {
        targetSecInsn = f.secInsnOff + slot + insn.imm + 1;
        kind = 'subprog_addr';
      }
      if (kind !== null && targetSecInsn !== null) {
        const sub = findSub(r && 'sectionIndex' in r ? r.sectionIndex : f.sectionIndex, targetSecInsn, f, slot);
        let subStart = startOf.get(sub);
        if (subStart === undefined) {
          subStart = append(sub);
          // The appended subprogram's own relocations follow, then recursion patches its calls.
          relocations.push(...relocsOf(sub, subStart, []));
          visit(sub);
        }
        const idx = outIndexOf(f, slot);
        const imm = subStart - (start + slot) - 1;
        out[idx] = withCallTarget(out[idx], imm, kind === 'subprog_addr');
        relocations.push({ kind, insn: start + slot, target: sub.name, targetInsn: subStart });
      }
      slot += insn.width;
    }
  };

  append(main);
  relocations.push(...relocsOf(main, 0, []));
  visit(main);
  // libbpf order: main's relocations sorted by insn, then each appended subprogram's in append order.
  // Functions are placed in append order at increasing starts, so slot order is owner order.
  relocations.sort((a, b) => a.insn - b.insn);
  return {
    insns: out,
    linked: placed.slice(1).map((p) => ({ name: p.func.name, start: p.start, slots: p.func.slots })),
    relocations,
    placed,
  };
}

function relocsOf(f: Func, start: number, acc: RelocSpec[]): RelocSpec[] {
  for (const r of f.relocs) {
    const insn = start + r.insn;
    switch (r.kind) {
      case 'map':
        acc.push({ kind: 'map', insn, map: r.map.name, mapIndex: r.map.index });
        break;
      case 'data':
        acc.push({ kind: 'data', insn, map: r.map.name, mapIndex: r.map.index, offset: r.offset });
        break;
      case 'extern_call':
      case 'extern_ld64':
        acc.push({ kind: r.kind, insn, extern: r.extern });
        break;
      default:
        break; // calls are recorded when linking patches them
    }
  }
  return acc;
}

/** Sets the pc-relative immediate of a call or of an ld_imm64 function address (src_reg = BPF_PSEUDO_FUNC). */
function withCallTarget(insn: Insn, imm: number, isFuncAddr: boolean): Insn {
  if (!isFuncAddr) return { ...insn, imm };
  const hi = insn.imm64 !== undefined ? BigInt.asUintN(32, insn.imm64 >> 32n) : 0n;
  return { ...insn, src: PSEUDO_FUNC, imm, imm64: (hi << 32n) | BigInt.asUintN(32, BigInt(imm)) };
}
