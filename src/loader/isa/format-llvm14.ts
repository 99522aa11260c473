/**
 * A model of what Debian's LLVM 14.0.6 `llvm-objdump -d` prints for one
 * instruction (default features, i.e. without +alu32), derived by feeding
 * llvm-objdump every opcode with many field patterns:
 *
 * - registers 12..15 in a field LLVM decodes make the slot `<unknown>`;
 * - fields an instruction's encoding does not mention are ignored (e.g. src
 *   and off of `w1 += 5`, everything but off of `goto`);
 * - LLVM 14 knows no ST (store immediate), MOD, JSET, MEMSX, movsx, sdiv,
 *   ALU64 bswap, gotol, or load-acquire/store-release, and without +alu32 only
 *   the plain `lock +=` form of 32-bit atomics;
 * - callx takes its register from imm; exit requires imm == 0;
 * - ld_imm64 requires off == 0; src != 0 prints `ld_pseudo` with the low
 *   half of the immediate only.
 */

import * as op from './opcode.js';
import type { InsnSlot } from './instruction.js';
import { ALU_SYMBOL, ATOMIC_SYMBOL, JMP_SYMBOL, branchOperand, memOperand, sizeName } from './syntax.js';

/** What llvm-objdump makes of the bytes at one position. */
export type Llvm14Result = { ok: true; text: string; width: 1 | 2; branch?: number } | { ok: false; step: 1 | 8 };

const UNKNOWN: Llvm14Result = { ok: false, step: 8 };
const MAX_REG = 11;

function text(t: string, branch?: number): Llvm14Result {
  return branch === undefined ? { ok: true, text: t, width: 1 } : { ok: true, text: t, width: 1, branch };
}

function alu(s: InsnSlot): Llvm14Result {
  const is64 = op.opClass(s.opcode) === op.BPF_ALU64;
  const p = is64 ? 'r' : 'w';
  const code = op.opCode(s.opcode);
  const isX = op.opSrc(s.opcode) === op.BPF_X;
  if (s.dst > MAX_REG) return UNKNOWN;
  if (code === op.BPF_NEG) return isX ? UNKNOWN : text(`${p}${s.dst} = -${p}${s.dst}`);
  if (code === op.BPF_END) {
    if (is64 || (s.imm !== 16 && s.imm !== 32 && s.imm !== 64)) return UNKNOWN;
    return text(`r${s.dst} = ${isX ? 'be' : 'le'}${s.imm} r${s.dst}`);
  }
  const sym = ALU_SYMBOL[code];
  if (sym === undefined || code === op.BPF_MOD) return UNKNOWN;
  if (!isX) return text(`${p}${s.dst} ${sym} ${s.imm}`);
  if (s.src > MAX_REG) return UNKNOWN;
  return text(`${p}${s.dst} ${sym} ${p}${s.src}`);
}

function jmp(s: InsnSlot): Llvm14Result {
  const is32 = op.opClass(s.opcode) === op.BPF_JMP32;
  const code = op.opCode(s.opcode);
  const isX = op.opSrc(s.opcode) === op.BPF_X;
  if (!is32) {
    if (s.opcode === op.OP_JA) return text(`goto ${branchOperand(s.off)}`, s.off);
    if (s.opcode === op.OP_CALL) return text(`call ${s.imm}`);
    if (s.opcode === op.OP_CALLX) return s.imm >= 0 && s.imm <= MAX_REG ? text(`callx r${s.imm}`) : UNKNOWN;
    if (s.opcode === op.OP_EXIT) return s.imm === 0 ? text('exit') : UNKNOWN;
  }
  const sym = JMP_SYMBOL[code];
  if (sym === undefined || code === op.BPF_JSET || s.dst > MAX_REG) return UNKNOWN;
  const p = is32 ? 'w' : 'r';
  if (isX && s.src > MAX_REG) return UNKNOWN;
  const rhs = isX ? `${p}${s.src}` : `${s.imm}`;
  return text(`if ${p}${s.dst} ${sym} ${rhs} goto ${branchOperand(s.off)}`, s.off);
}

function ld(s: InsnSlot, second: InsnSlot | null): Llvm14Result {
  const mode = op.opMode(s.opcode);
  const size = op.opSize(s.opcode);
  if (s.opcode === op.OP_LD_IMM64) {
    if (s.off !== 0 || s.dst > MAX_REG) return UNKNOWN;
    if (second === null) return { ok: false, step: 1 };
    if (s.src !== 0) return { ok: true, text: `ld_pseudo\tr${s.dst}, ${s.src}, ${s.imm >>> 0}`, width: 2 };
    const value = BigInt.asIntN(64, (BigInt(second.imm >>> 0) << 32n) | BigInt(s.imm >>> 0));
    return { ok: true, text: `r${s.dst} = ${value} ll`, width: 2 };
  }
  if (size === op.BPF_DW) return UNKNOWN;
  if (mode === op.BPF_ABS) return text(`r0 = *(${sizeName(size)} *)skb[${s.imm}]`);
  if (mode === op.BPF_IND) return s.src > MAX_REG ? UNKNOWN : text(`r0 = *(${sizeName(size)} *)skb[r${s.src}]`);
  return UNKNOWN;
}

function mem(s: InsnSlot): Llvm14Result {
  const cls = op.opClass(s.opcode);
  const mode = op.opMode(s.opcode);
  const size = op.opSize(s.opcode);
  if (cls === op.BPF_ST || s.dst > MAX_REG || s.src > MAX_REG) return UNKNOWN;
  const u = sizeName(size);
  if (mode === op.BPF_MEM) {
    if (cls === op.BPF_LDX) return text(`r${s.dst} = *(${u} *)(${memOperand(s.src, s.off)})`);
    return text(`*(${u} *)(${memOperand(s.dst, s.off)}) = r${s.src}`);
  }
  if (cls !== op.BPF_STX || mode !== op.BPF_ATOMIC) return UNKNOWN;
  const addr = memOperand(s.dst, s.off);
  const aop = s.imm & 0xf0;
  if (size === op.BPF_W) return aop === op.BPF_ATOMIC_ADD ? text(`lock *(u32 *)(${addr}) += r${s.src}`) : UNKNOWN;
  if (size !== op.BPF_DW) return UNKNOWN;
  const fetch = (s.imm & 0xf) === op.BPF_FETCH;
  const a = ATOMIC_SYMBOL[aop];
  if (a !== undefined) {
    if (fetch) return text(`r${s.src} = atomic_fetch_${a.name}((u64 *)(${addr}), r${s.src})`);
    return text(`lock *(u64 *)(${addr}) ${a.sym} r${s.src}`);
  }
  if (!fetch) return UNKNOWN;
  if (aop === 0xe0) return text(`r${s.src} = xchg_64(${addr}, r${s.src})`);
  if (aop === 0xf0) return text(`r0 = cmpxchg_64(${addr}, r0, r${s.src})`);
  return UNKNOWN;
}

/**
 * Decodes like LLVM 14. `second` is the following slot, or null when fewer
 * than 16 bytes remain in the section.
 */
export function llvm14Decode(s: InsnSlot, second: InsnSlot | null): Llvm14Result {
  switch (op.opClass(s.opcode)) {
    case op.BPF_ALU:
    case op.BPF_ALU64:
      return alu(s);
    case op.BPF_JMP:
    case op.BPF_JMP32:
      return jmp(s);
    case op.BPF_LD:
      return ld(s, second);
    default:
      return mem(s);
  }
}
