/**
 * A program as gen-mode libbpf hands it to bpf_gen__prog_load: data relocations applied with
 * MAP_IDX / MAP_IDX_VALUE (§5.5), externs rewritten, func/line info and CO-RE records encoded.
 */
import { LoaderError } from '../errors.js';
import { encodeSlots, type Insn, type InsnSlot } from '../isa/index.js';
import type { ExternSpec, MapSpec, ProgramSpec } from '../object/index.js';
import {
  ATTACH_TYPE,
  BPF_F_SLEEPABLE,
  BPF_F_XDP_HAS_FRAGS,
  BTF_KIND_FUNC,
  BTF_KIND_TYPEDEF,
  BTF_KIND_VAR,
  PROG_TYPE,
  PSEUDO,
  PSEUDO_KFUNC_CALL,
  type Endian,
} from '../uapi/index.js';
import type { ExternRecord, ProgLoadAttr } from './plan.js';

export interface ProgramContext {
  order: Endian;
  license: string;
  maps: readonly MapSpec[];
  externs: readonly ExternSpec[];
  ksymAddresses: Readonly<Record<string, bigint>>;
  usdtUprobeMulti: boolean;
  /** rec_size of .BTF.ext func_info / line_info (0 when absent). */
  funcInfoRecSize: number;
  lineInfoRecSize: number;
  /** Offset of an access string in the object's BTF string section. */
  stringOffset: (s: string) => number;
}

function unsupported(p: ProgramSpec, feature: string, why: string): LoaderError {
  return new LoaderError('OBJECT_UNSUPPORTED', `program '${p.name}': ${feature}: ${why}`, {
    symbol: p.name,
    section: p.section,
    field: feature,
  });
}

/** Mutable copies of the linked instructions, one entry per slot index (second ld_imm64 slots undefined). */
function cloneSlots(insns: readonly Insn[]): (Insn | undefined)[] {
  const out: (Insn | undefined)[] = [];
  for (const i of insns) {
    const c: Insn = { opcode: i.opcode, dst: i.dst, src: i.src, off: i.off, imm: i.imm, width: i.width };
    if (i.width === 2) {
      const hi = i.imm64 !== undefined ? Number(BigInt.asIntN(32, i.imm64 >> 32n)) : (i.next?.imm ?? 0);
      const lo = i.imm64 !== undefined ? Number(BigInt.asIntN(32, i.imm64 & 0xffffffffn)) : i.imm;
      c.imm = lo;
      c.next = { opcode: i.next?.opcode ?? 0, dst: i.next?.dst ?? 0, src: i.next?.src ?? 0, off: i.next?.off ?? 0, imm: hi };
    }
    out.push(c);
    if (i.width === 2) out.push(undefined);
  }
  return out;
}

/** The slots as bytes: each instruction start, and the second slot of each ld_imm64. */
function flatSlots(slots: readonly (Insn | undefined)[]): InsnSlot[] {
  return slots.map((s, i) => s ?? slots[i - 1]!.next!);
}

export function planProgram(p: ProgramSpec, ctx: ProgramContext): ProgLoadAttr {
  if (p.type === null || p.typeId === 0) throw unsupported(p, 'program type', `section '${p.section}' names no known program type`);
  if (p.type === 'EXT') throw unsupported(p, 'freplace', 'needs attach_prog_fd, which a loader program cannot supply');
  if (p.type === 'STRUCT_OPS') throw unsupported(p, 'struct_ops', 'struct_ops programs need struct_ops maps');
  const slots = cloneSlots(p.insns);
  const at = (idx: number): Insn => {
    const s = slots[idx];
    if (!s)
      throw new LoaderError('OBJECT_MALFORMED', `program '${p.name}': relocation at slot ${idx} is not an instruction start`, {
        symbol: p.name,
        pc: idx,
      });
    return s;
  };
  const externs: ExternRecord[] = [];
  const kconfigMap = ctx.maps.find((m) => m.origin === 'kconfig');
  for (const r of p.relocations) {
    switch (r.kind) {
      case 'map': {
        const i = at(r.insn);
        i.src = PSEUDO.MAP_IDX;
        i.imm = r.mapIndex;
        break;
      }
      case 'data': {
        const i = at(r.insn);
        if (i.next) i.next.imm = r.offset | 0;
        i.src = PSEUDO.MAP_IDX_VALUE;
        i.imm = r.mapIndex;
        break;
      }
      case 'extern_ld64': {
        const i = at(r.insn);
        const e = ctx.externs.find((x) => x.name === r.extern);
        if (!e) throw new LoaderError('OBJECT_MALFORMED', `program '${p.name}': unknown extern '${r.extern}'`, { symbol: r.extern });
        if (e.kind === 'kconfig') {
          if (!kconfigMap || !e.kconfig)
            throw new LoaderError('OBJECT_MALFORMED', `program '${p.name}': kconfig extern '${e.name}' without a .kconfig map`, {
              symbol: e.name,
            });
          i.src = PSEUDO.MAP_IDX_VALUE;
          i.imm = kconfigMap.index;
          if (i.next) i.next.imm = e.kconfig.offset;
          break;
        }
        if (e.typed) {
          i.src = PSEUDO.BTF_ID;
          i.imm = 0;
          if (i.next) i.next.imm = 0;
        } else {
          const addr = ctx.ksymAddresses[e.name];
          if (addr === undefined && !e.weak) {
            throw new LoaderError(
              'OBJECT_UNSUPPORTED',
              `extern '${e.name}' (strong typeless ksym): no address given (options.ksymAddresses)`,
              { symbol: e.name, field: 'ksymAddresses' },
            );
          }
          const v = BigInt.asUintN(64, addr ?? 0n);
          i.imm = Number(BigInt.asIntN(32, v & 0xffffffffn));
          if (i.next) i.next.imm = Number(BigInt.asIntN(32, v >> 32n));
        }
        externs.push({
          name: e.name,
          kind: e.func ? BTF_KIND_FUNC : BTF_KIND_VAR,
          insn: r.insn,
          weak: e.weak,
          typeless: !e.typed,
          ld64: true,
        });
        break;
      }
      case 'extern_call': {
        const i = at(r.insn);
        const e = ctx.externs.find((x) => x.name === r.extern);
        if (!e) throw new LoaderError('OBJECT_MALFORMED', `program '${p.name}': unknown extern '${r.extern}'`, { symbol: r.extern });
        i.src = PSEUDO_KFUNC_CALL;
        i.imm = 0;
        i.off = 0;
        externs.push({ name: e.name, kind: BTF_KIND_FUNC, insn: r.insn, weak: e.weak, typeless: false, ld64: false });
        break;
      }
      default:
        break;
    }
  }

  const le = ctx.order === 'le';
  const funcInfoRecSize = p.funcInfo.length ? ctx.funcInfoRecSize : 0;
  const funcInfo = new Uint8Array(p.funcInfo.length * funcInfoRecSize);
  const fdv = new DataView(funcInfo.buffer);
  p.funcInfo.forEach((f, k) => {
    fdv.setUint32(k * funcInfoRecSize, f.insn, le);
    fdv.setUint32(k * funcInfoRecSize + 4, f.typeId, le);
  });
  const lineInfoRecSize = p.lineInfo.length ? ctx.lineInfoRecSize : 0;
  const lineInfo = new Uint8Array(p.lineInfo.length * lineInfoRecSize);
  const ldv = new DataView(lineInfo.buffer);
  p.lineInfo.forEach((l, k) => {
    const o = k * lineInfoRecSize;
    ldv.setUint32(o, l.insn, le);
    ldv.setUint32(o + 4, l.fileNameOff, le);
    ldv.setUint32(o + 8, l.lineOff, le);
    ldv.setUint32(o + 12, ((l.line << 10) | (l.column & 0x3ff)) >>> 0, le);
  });
  const coreRelos = new Uint8Array(p.coreRelos.length * 16);
  const cdv = new DataView(coreRelos.buffer);
  p.coreRelos.forEach((c, k) => {
    cdv.setUint32(k * 16, c.insn * 8, le);
    cdv.setUint32(k * 16 + 4, c.typeId, le);
    cdv.setUint32(k * 16 + 8, ctx.stringOffset(c.accessStr), le);
    cdv.setUint32(k * 16 + 12, c.kind, le);
  });

  let expected = p.expectedAttachType ? ((ATTACH_TYPE as Record<string, number>)[p.expectedAttachType] ?? 0) : 0;
  if (p.usdt && ctx.usdtUprobeMulti) expected = ATTACH_TYPE.TRACE_UPROBE_MULTI;
  let attach: ProgLoadAttr['attach'] = null;
  if (p.attachBtfName) {
    if (new TextEncoder().encode(p.attachBtfName).length + 1 > 128)
      throw unsupported(p, 'attach target', `name '${p.attachBtfName}' is 128 bytes or longer`);
    attach = { name: p.attachBtfName, kind: p.expectedAttachType === 'TRACE_RAW_TP' ? BTF_KIND_TYPEDEF : BTF_KIND_FUNC };
  }
  return {
    name: p.name,
    type: (PROG_TYPE as Record<string, number>)[p.type] ?? p.typeId,
    expectedAttachType: expected,
    flags: (p.sleepable ? BPF_F_SLEEPABLE : 0) | (p.xdpFrags ? BPF_F_XDP_HAS_FRAGS : 0),
    license: ctx.license,
    insns: encodeSlots(flatSlots(slots), ctx.order),
    insnCnt: slots.length,
    funcInfo,
    funcInfoCnt: p.funcInfo.length,
    funcInfoRecSize,
    lineInfo,
    lineInfoCnt: p.lineInfo.length,
    lineInfoRecSize,
    coreRelos,
    coreReloCnt: p.coreRelos.length,
    attachBtfId: attach ? 1 : 0,
    attach,
    externs,
  };
}
