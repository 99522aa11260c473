/**
 * The decoded instruction value and a tagged-union view of it.
 *
 * `Insn` keeps every raw field so that encoding is lossless even for
 * nonsense input; `classify` interprets those fields for code that wants to
 * switch on what an instruction does (object loader, interpreter, printer).
 */

import * as op from './opcode.js';
import { validateInsn } from './validate.js';

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

export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'or' | 'and' | 'lsh' | 'rsh' | 'neg' | 'mod' | 'xor' | 'mov' | 'arsh' | 'end';
export type JmpOp = 'ja' | 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';
export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg' | 'load_acquire' | 'store_release';

export const ALU_OPS: readonly (AluOp | undefined)[] = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'neg', 'mod', 'xor', 'mov', 'arsh', 'end'];
export const JMP_OPS: readonly (JmpOp | undefined)[] = ['ja', 'jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', undefined, undefined, 'jlt', 'jle', 'jslt', 'jsle'];

/** Tagged-union view of an instruction. `kind: 'invalid'` carries the reason. */
export type InsnView =
  | { kind: 'alu'; is64: boolean; op: Exclude<AluOp, 'end' | 'neg'>; dst: number; srcReg?: number; imm?: number; signed: boolean; movsx?: 8 | 16 | 32 }
  | { kind: 'neg'; is64: boolean; dst: number }
  | { kind: 'endian'; dst: number; bits: 16 | 32 | 64; to: 'le' | 'be' | 'swap' }
  | { kind: 'jmp'; is32: boolean; op: Exclude<JmpOp, 'ja'>; dst: number; srcReg?: number; imm?: number; off: number }
  | { kind: 'ja'; long: boolean; offset: number }
  | { kind: 'call'; target: 'helper' | 'bpf' | 'kfunc'; imm: number; src: number }
  | { kind: 'callx'; reg: number }
  | { kind: 'exit' }
  | { kind: 'ldimm64'; dst: number; pseudo: number; value: bigint }
  | { kind: 'ldabs'; size: 1 | 2 | 4; imm: number }
  | { kind: 'ldind'; size: 1 | 2 | 4; srcReg: number; imm: number }
  | { kind: 'load'; size: 1 | 2 | 4 | 8; signed: boolean; dst: number; srcReg: number; off: number }
  | { kind: 'store'; size: 1 | 2 | 4 | 8; dst: number; srcReg?: number; imm?: number; off: number }
  | { kind: 'atomic'; size: 1 | 2 | 4 | 8; op: AtomicOp; fetch: boolean; dst: number; srcReg: number; off: number }
  | { kind: 'invalid'; reason: string };


/** Interprets an instruction; anything `validateInsn` rejects is `{kind:'invalid'}`. */
export function classify(i: Insn): InsnView {
  const reason = validateInsn(i);
  if (reason !== null) return { kind: 'invalid', reason };
  const cls = op.opClass(i.opcode);
  const code = op.opCode(i.opcode);
  const isX = op.opSrc(i.opcode) === op.BPF_X;
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const is64 = cls === op.BPF_ALU64;
      const name = ALU_OPS[code >> 4]!;
      if (name === 'neg') return { kind: 'neg', is64, dst: i.dst };
      if (name === 'end') {
        const to = is64 ? 'swap' : isX ? 'be' : 'le';
        return { kind: 'endian', dst: i.dst, bits: i.imm as 16 | 32 | 64, to };
      }
      const signed = (name === 'div' || name === 'mod') && i.off === 1;
      const movsx = name === 'mov' && i.off !== 0 ? (i.off as 8 | 16 | 32) : undefined;
      // Literals rather than spreads (this runs once per instruction a program load decodes).
      if (isX) return movsx ? { kind: 'alu', is64, op: name, dst: i.dst, signed, srcReg: i.src, movsx } : { kind: 'alu', is64, op: name, dst: i.dst, signed, srcReg: i.src };
      return movsx ? { kind: 'alu', is64, op: name, dst: i.dst, signed, imm: i.imm, movsx } : { kind: 'alu', is64, op: name, dst: i.dst, signed, imm: i.imm };
    }
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      if (code === op.BPF_JA) return cls === op.BPF_JMP ? { kind: 'ja', long: false, offset: i.off } : { kind: 'ja', long: true, offset: i.imm };
      if (code === op.BPF_CALL) {
        if (isX) return { kind: 'callx', reg: i.dst };
        const target = i.src === op.BPF_PSEUDO_CALL ? 'bpf' : i.src === op.BPF_PSEUDO_KFUNC_CALL ? 'kfunc' : 'helper';
        return { kind: 'call', target, imm: i.imm, src: i.src };
      }
      if (code === op.BPF_EXIT) return { kind: 'exit' };
      const name = JMP_OPS[code >> 4] as Exclude<JmpOp, 'ja'>;
      const is32 = cls === op.BPF_JMP32;
      return isX ? { kind: 'jmp', is32, op: name, dst: i.dst, off: i.off, srcReg: i.src } : { kind: 'jmp', is32, op: name, dst: i.dst, off: i.off, imm: i.imm };
    }
    case op.BPF_LD: {
      const mode = op.opMode(i.opcode);
      if (mode === op.BPF_IMM) return { kind: 'ldimm64', dst: i.dst, pseudo: i.src, value: imm64Of(i) };
      const size = op.sizeBytes(op.opSize(i.opcode)) as 1 | 2 | 4;
      return mode === op.BPF_ABS ? { kind: 'ldabs', size, imm: i.imm } : { kind: 'ldind', size, srcReg: i.src, imm: i.imm };
    }
    case op.BPF_LDX: {
      const size = op.sizeBytes(op.opSize(i.opcode));
      return { kind: 'load', size, signed: op.opMode(i.opcode) === op.BPF_MEMSX, dst: i.dst, srcReg: i.src, off: i.off };
    }
    case op.BPF_ST:
      return { kind: 'store', size: op.sizeBytes(op.opSize(i.opcode)), dst: i.dst, imm: i.imm, off: i.off };
    default: {
      const size = op.sizeBytes(op.opSize(i.opcode));
      if (op.opMode(i.opcode) === op.BPF_MEM) return { kind: 'store', size, dst: i.dst, srcReg: i.src, off: i.off };
      return { kind: 'atomic', size, op: atomicOpName(i.imm), fetch: (i.imm & op.BPF_FETCH) !== 0, dst: i.dst, srcReg: i.src, off: i.off };
    }
  }
}

function atomicOpName(imm: number): AtomicOp {
  switch (imm & ~op.BPF_FETCH) {
    case op.BPF_ATOMIC_ADD:
      return 'add';
    case op.BPF_ATOMIC_OR:
      return 'or';
    case op.BPF_ATOMIC_AND:
      return 'and';
    case op.BPF_ATOMIC_XOR:
      return 'xor';
    case op.BPF_XCHG & ~op.BPF_FETCH:
      return 'xchg';
    case op.BPF_CMPXCHG & ~op.BPF_FETCH:
      return 'cmpxchg';
    case op.BPF_LOAD_ACQ:
      return 'load_acquire';
    default:
      return 'store_release';
  }
}
