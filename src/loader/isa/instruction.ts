/**
 * The decoded instruction value.
 *
 * `Insn` keeps every raw field so that encoding is lossless even for
 * nonsense input; `classify` (classify.ts) interprets those fields for code
 * that wants to switch on what an instruction does.
 */

import * as op from './opcode.js';

/** Raw fields of one 8-byte slot. */
export interface InsnSlot {
  opcode: number; // 0..255
  dst: number; // 0..15
  src: number; // 0..15
  off: number; // signed 16-bit
  imm: number; // signed 32-bit
}

/**
 * One instruction. ld_imm64 (opcode 0x18) is one value of width 2: `imm` is the
 * low half, `next` the raw second slot (its `imm` is the high half) and `imm64`
 * the combined unsigned 64-bit value. When encoding, `imm64` wins over
 * `imm`/`next.imm` if present.
 */
export interface Insn extends InsnSlot {
  width: 1 | 2;
  imm64?: bigint;
  next?: InsnSlot;
}

const MASK64 = (1n << 64n) - 1n;

/** Combines two 32-bit halves into the unsigned 64-bit ld_imm64 value. */
export function joinImm64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Splits a 64-bit value (taken modulo 2^64) into signed 32-bit halves. */
export function splitImm64(value: bigint): { lo: number; hi: number } {
  const v = value & MASK64;
  return { lo: Number(v & 0xffffffffn) | 0, hi: Number(v >> 32n) | 0 };
}

/** A one-slot instruction with the given fields (normalised to their widths). */
export function insn(opcode: number, dst: number, src: number, off: number, imm: number): Insn {
  return { opcode: opcode & 0xff, dst: dst & 0xf, src: src & 0xf, off: (off << 16) >> 16, imm: imm | 0, width: 1 };
}

/** An ld_imm64 with a zero second slot. */
export function ldImm64Insn(dst: number, value: bigint, src = 0): Insn {
  const { lo, hi } = splitImm64(value);
  return {
    opcode: op.OP_LD_IMM64,
    dst: dst & 0xf,
    src: src & 0xf,
    off: 0,
    imm: lo,
    width: 2,
    imm64: value & MASK64,
    next: { opcode: 0, dst: 0, src: 0, off: 0, imm: hi },
  };
}

/** The high 32 bits of an ld_imm64 (from imm64 if set, else the second slot). */
export function imm64Of(i: Insn): bigint {
  if (i.imm64 !== undefined) return i.imm64 & MASK64;
  return joinImm64(i.imm, i.next?.imm ?? 0);
}
