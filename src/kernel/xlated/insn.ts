/** Raw instruction slots, decoded for the xlated model (no validation: the program already loaded). */
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_CALL,
  BPF_EXIT,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_ST,
  BPF_STX,
  INSN_SIZE,
  OP_LD_IMM64,
  decodeSlot,
  opClass,
  opCode,
  sizeBytes,
} from '../../loader/isa/index.js';

export interface Slot {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export function decodeSlots(bytes: Uint8Array, order: 'le' | 'be' = 'le'): Slot[] {
  const out: Slot[] = [];
  for (let at = 0; at + INSN_SIZE <= bytes.length; at += INSN_SIZE) {
    const s = decodeSlot(bytes, at, order);
    out.push({ code: s.opcode, dst: s.dst, src: s.src, off: s.off, imm: s.imm });
  }
  return out;
}

export const cls = (code: number) => opClass(code);
export const isLdImm64 = (s: Slot) => s.code === OP_LD_IMM64;

export { BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_JMP32, BPF_ALU64 };

/** Size in bytes of a load/store. */
export const sizeOf = (code: number): 1 | 2 | 4 | 8 => sizeBytes(code);

export function isCondJump(code: number): boolean {
  const op = opCode(code);
  if (cls(code) === BPF_JMP32) return op !== BPF_JA;
  if (cls(code) !== BPF_JMP) return false;
  return op !== BPF_JA && op !== BPF_EXIT && op !== BPF_CALL;
}

/** Successor slot indexes of slot pc (not following calls into callees). */
export function successors(insns: Slot[], pc: number): number[] {
  const s = insns[pc]!;
  const c = cls(s.code);
  if (isLdImm64(s)) return [pc + 2];
  if (c === BPF_LD) return [pc + 1];
  if (c !== BPF_JMP && c !== BPF_JMP32) return [pc + 1];
  const op = opCode(s.code);
  if (op === BPF_EXIT) return [];
  if (op === BPF_CALL) return [pc + 1];
  if (op === BPF_JA) return [pc + 1 + (c === BPF_JMP32 ? s.imm : s.off)];
  return [pc + 1, pc + 1 + s.off];
}
