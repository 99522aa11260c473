/**
 * A small builder DSL for programs:
 *   alu64.add.imm(R1, 22), mov64.reg(R0, R1), ldx.w(R0, R1, 4),
 *   jmp.jeq.imm(R1, 0, +3), call.helper(1), exit(), ldImm64(R1, 123n, src)
 */

import * as op from './opcode.js';
import { insn, ldImm64Insn, type Insn } from './instruction.js';

export interface AluForm {
  imm(dst: number, imm: number): Insn;
  reg(dst: number, src: number): Insn;
}

function aluForm(cls: number, code: number, off = 0): AluForm {
  return {
    imm: (dst, imm) => insn(cls | code | op.BPF_K, dst, 0, off, imm),
    reg: (dst, src) => insn(cls | code | op.BPF_X, dst, src, off, 0),
  };
}

function aluClass(cls: number) {
  return {
    add: aluForm(cls, op.BPF_ADD),
    sub: aluForm(cls, op.BPF_SUB),
    mul: aluForm(cls, op.BPF_MUL),
    div: aluForm(cls, op.BPF_DIV),
    sdiv: aluForm(cls, op.BPF_DIV, 1),
    or: aluForm(cls, op.BPF_OR),
    and: aluForm(cls, op.BPF_AND),
    lsh: aluForm(cls, op.BPF_LSH),
    rsh: aluForm(cls, op.BPF_RSH),
    mod: aluForm(cls, op.BPF_MOD),
    smod: aluForm(cls, op.BPF_MOD, 1),
    xor: aluForm(cls, op.BPF_XOR),
    mov: aluForm(cls, op.BPF_MOV),
    arsh: aluForm(cls, op.BPF_ARSH),
    neg: (dst: number): Insn => insn(cls | op.BPF_NEG, dst, 0, 0, 0),
    /** Sign-extending move (v4): dst = (s<bits>)src. */
    movsx: (dst: number, src: number, bits: 8 | 16 | 32): Insn => insn(cls | op.BPF_MOV | op.BPF_X, dst, src, bits, 0),
  };
}

export const alu64 = aluClass(op.BPF_ALU64);
export const alu32 = aluClass(op.BPF_ALU);
export const mov64 = alu64.mov;
export const mov32 = alu32.mov;

/** Byte swaps: to little/big endian (ALU class) and unconditional (ALU64, v4). */
export const endian = {
  le: (dst: number, bits: 16 | 32 | 64): Insn => insn(op.BPF_ALU | op.BPF_END | op.BPF_TO_LE, dst, 0, 0, bits),
  be: (dst: number, bits: 16 | 32 | 64): Insn => insn(op.BPF_ALU | op.BPF_END | op.BPF_TO_BE, dst, 0, 0, bits),
  bswap: (dst: number, bits: 16 | 32 | 64): Insn => insn(op.BPF_ALU64 | op.BPF_END, dst, 0, 0, bits),
};

type Sizes<F> = { b: F; h: F; w: F; dw: F };
function sized<F>(make: (size: number) => F): Sizes<F> {
  return { b: make(op.BPF_B), h: make(op.BPF_H), w: make(op.BPF_W), dw: make(op.BPF_DW) };
}

/** dst = *(size *)(src + off) */
export const ldx = sized(
  (size) =>
    (dst: number, src: number, off: number): Insn =>
      insn(op.BPF_LDX | op.BPF_MEM | size, dst, src, off, 0),
);
/** dst = *(s<size> *)(src + off), v4 (no dw form is defined). */
export const ldxsx = sized(
  (size) =>
    (dst: number, src: number, off: number): Insn =>
      insn(op.BPF_LDX | op.BPF_MEMSX | size, dst, src, off, 0),
);
/** *(size *)(dst + off) = imm */
export const st = sized(
  (size) =>
    (dst: number, off: number, imm: number): Insn =>
      insn(op.BPF_ST | op.BPF_MEM | size, dst, 0, off, imm),
);
/** *(size *)(dst + off) = src */
export const stx = sized(
  (size) =>
    (dst: number, off: number, src: number): Insn =>
      insn(op.BPF_STX | op.BPF_MEM | size, dst, src, off, 0),
);

function atomicOp(imm: number) {
  return sized(
    (size) =>
      (dst: number, off: number, src: number): Insn =>
        insn(op.BPF_STX | op.BPF_ATOMIC | size, dst, src, off, imm),
  );
}
/** Atomics on *(size *)(dst + off) with src; `fetch*` return the old value in src (cmpxchg: in r0). */
export const atomic = {
  add: atomicOp(op.BPF_ATOMIC_ADD),
  or: atomicOp(op.BPF_ATOMIC_OR),
  and: atomicOp(op.BPF_ATOMIC_AND),
  xor: atomicOp(op.BPF_ATOMIC_XOR),
  fetchAdd: atomicOp(op.BPF_ATOMIC_ADD | op.BPF_FETCH),
  fetchOr: atomicOp(op.BPF_ATOMIC_OR | op.BPF_FETCH),
  fetchAnd: atomicOp(op.BPF_ATOMIC_AND | op.BPF_FETCH),
  fetchXor: atomicOp(op.BPF_ATOMIC_XOR | op.BPF_FETCH),
  xchg: atomicOp(op.BPF_XCHG),
  cmpxchg: atomicOp(op.BPF_CMPXCHG),
  /** dst = load_acquire((size *)(src + off)) */
  loadAcquire: sized(
    (size) =>
      (dst: number, src: number, off: number): Insn =>
        insn(op.BPF_STX | op.BPF_ATOMIC | size, dst, src, off, op.BPF_LOAD_ACQ),
  ),
  /** store_release((size *)(dst + off), src) */
  storeRelease: atomicOp(op.BPF_STORE_REL),
};

export interface JmpForm {
  imm(dst: number, imm: number, off: number): Insn;
  reg(dst: number, src: number, off: number): Insn;
}
function jmpForm(cls: number, code: number): JmpForm {
  return {
    imm: (dst, imm, off) => insn(cls | code | op.BPF_K, dst, 0, off, imm),
    reg: (dst, src, off) => insn(cls | code | op.BPF_X, dst, src, off, 0),
  };
}
function jmpClass(cls: number) {
  return {
    jeq: jmpForm(cls, op.BPF_JEQ),
    jgt: jmpForm(cls, op.BPF_JGT),
    jge: jmpForm(cls, op.BPF_JGE),
    jset: jmpForm(cls, op.BPF_JSET),
    jne: jmpForm(cls, op.BPF_JNE),
    jsgt: jmpForm(cls, op.BPF_JSGT),
    jsge: jmpForm(cls, op.BPF_JSGE),
    jlt: jmpForm(cls, op.BPF_JLT),
    jle: jmpForm(cls, op.BPF_JLE),
    jslt: jmpForm(cls, op.BPF_JSLT),
    jsle: jmpForm(cls, op.BPF_JSLE),
  };
}
export const jmp = { ...jmpClass(op.BPF_JMP), ja: (off: number): Insn => insn(op.OP_JA, 0, 0, off, 0) };
export const jmp32 = { ...jmpClass(op.BPF_JMP32), ja: (imm: number): Insn => insn(op.OP_JA32, 0, 0, 0, imm) };
/** goto +off */
export const ja = jmp.ja;
/** gotol +imm (v4, 32-bit displacement) */
export const gotol = jmp32.ja;

export const call = {
  helper: (id: number): Insn => insn(op.OP_CALL, 0, 0, 0, id),
  /** bpf-to-bpf call, imm = slot displacement to the callee minus one. */
  bpf: (imm: number): Insn => insn(op.OP_CALL, 0, op.BPF_PSEUDO_CALL, 0, imm),
  kfunc: (btfId: number, moduleFdIndex = 0): Insn => insn(op.OP_CALL, 0, op.BPF_PSEUDO_KFUNC_CALL, moduleFdIndex, btfId),
  reg: (reg: number): Insn => insn(op.OP_CALLX, reg, 0, 0, 0),
};

export const exit = (): Insn => insn(op.OP_EXIT, 0, 0, 0, 0);

/** dst = value (64-bit), with an optional BPF_PSEUDO_* src. */
export function ldImm64(dst: number, value: bigint, src = 0): Insn {
  return ldImm64Insn(dst, value, src);
}
export const ldMapFd = (dst: number, fd: number): Insn => ldImm64Insn(dst, BigInt(fd >>> 0), op.BPF_PSEUDO_MAP_FD);
export const ldMapValue = (dst: number, fd: number, offset: number): Insn =>
  ldImm64Insn(dst, (BigInt(offset >>> 0) << 32n) | BigInt(fd >>> 0), op.BPF_PSEUDO_MAP_VALUE);

/** Legacy packet loads: r0 = *(size *)skb[imm] / skb[src + imm]. */
export const ldAbs = {
  b: (imm: number): Insn => insn(op.BPF_LD | op.BPF_ABS | op.BPF_B, 0, 0, 0, imm),
  h: (imm: number): Insn => insn(op.BPF_LD | op.BPF_ABS | op.BPF_H, 0, 0, 0, imm),
  w: (imm: number): Insn => insn(op.BPF_LD | op.BPF_ABS | op.BPF_W, 0, 0, 0, imm),
};
export const ldInd = {
  b: (src: number, imm: number): Insn => insn(op.BPF_LD | op.BPF_IND | op.BPF_B, 0, src, 0, imm),
  h: (src: number, imm: number): Insn => insn(op.BPF_LD | op.BPF_IND | op.BPF_H, 0, src, 0, imm),
  w: (src: number, imm: number): Insn => insn(op.BPF_LD | op.BPF_IND | op.BPF_W, 0, src, 0, imm),
};
