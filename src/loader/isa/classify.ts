/**
 * A tagged-union view of a decoded instruction, for code that wants to switch on
 * what an instruction does (object loader, interpreter, printer). Kept apart from
 * instruction.ts so that validate.ts, which this uses, can import the `Insn` type
 * without a cycle.
 */

import * as op from './opcode.js';
import { imm64Of, type Insn } from './instruction.js';
import { validateInsn } from './validate.js';

export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'or' | 'and' | 'lsh' | 'rsh' | 'neg' | 'mod' | 'xor' | 'mov' | 'arsh' | 'end';
export type JmpOp = 'ja' | 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';
export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg' | 'load_acquire' | 'store_release';

export const ALU_OPS: readonly (AluOp | undefined)[] = [
  'add',
  'sub',
  'mul',
  'div',
  'or',
  'and',
  'lsh',
  'rsh',
  'neg',
  'mod',
  'xor',
  'mov',
  'arsh',
  'end',
];
export const JMP_OPS: readonly (JmpOp | undefined)[] = [
  'ja',
  'jeq',
  'jgt',
  'jge',
  'jset',
  'jne',
  'jsgt',
  'jsge',
  undefined,
  undefined,
  'jlt',
  'jle',
  'jslt',
  'jsle',
];

/** Tagged-union view of an instruction. `kind: 'invalid'` carries the reason. */
export type InsnView =
  | {
      kind: 'alu';
      is64: boolean;
      op: Exclude<AluOp, 'end' | 'neg'>;
      dst: number;
      srcReg?: number;
      imm?: number;
      signed: boolean;
      movsx?: 8 | 16 | 32;
    }
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
      if (isX)
        return movsx
          ? { kind: 'alu', is64, op: name, dst: i.dst, signed, srcReg: i.src, movsx }
          : { kind: 'alu', is64, op: name, dst: i.dst, signed, srcReg: i.src };
      return movsx
        ? { kind: 'alu', is64, op: name, dst: i.dst, signed, imm: i.imm, movsx }
        : { kind: 'alu', is64, op: name, dst: i.dst, signed, imm: i.imm };
    }
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      if (code === op.BPF_JA)
        return cls === op.BPF_JMP ? { kind: 'ja', long: false, offset: i.off } : { kind: 'ja', long: true, offset: i.imm };
      if (code === op.BPF_CALL) {
        if (isX) return { kind: 'callx', reg: i.dst };
        const target = i.src === op.BPF_PSEUDO_CALL ? 'bpf' : i.src === op.BPF_PSEUDO_KFUNC_CALL ? 'kfunc' : 'helper';
        return { kind: 'call', target, imm: i.imm, src: i.src };
      }
      if (code === op.BPF_EXIT) return { kind: 'exit' };
      const name = JMP_OPS[code >> 4] as Exclude<JmpOp, 'ja'>;
      const is32 = cls === op.BPF_JMP32;
      return isX
        ? { kind: 'jmp', is32, op: name, dst: i.dst, off: i.off, srcReg: i.src }
        : { kind: 'jmp', is32, op: name, dst: i.dst, off: i.off, imm: i.imm };
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
