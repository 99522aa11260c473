/** Raw instruction slots, decoded for the xlated model (no validation: the program already loaded). */

export interface Slot {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export function decodeSlots(bytes: Uint8Array, order: 'le' | 'be' = 'le'): Slot[] {
  const le = order === 'le';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Slot[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const regs = bytes[i + 1]!;
    out.push({
      code: bytes[i]!,
      dst: le ? regs & 0xf : regs >> 4,
      src: le ? regs >> 4 : regs & 0xf,
      off: dv.getInt16(i + 2, le),
      imm: dv.getInt32(i + 4, le),
    });
  }
  return out;
}

export const cls = (code: number) => code & 7;
export const isLdImm64 = (s: Slot) => s.code === 0x18;

export const BPF_LD = 0, BPF_LDX = 1, BPF_ST = 2, BPF_STX = 3, BPF_ALU = 4, BPF_JMP = 5, BPF_JMP32 = 6, BPF_ALU64 = 7;

/** Size in bytes of a load/store. */
export function sizeOf(code: number): 1 | 2 | 4 | 8 {
  switch (code & 0x18) {
    case 0x00: return 4;
    case 0x08: return 2;
    case 0x10: return 1;
    default: return 8;
  }
}

export function isCondJump(code: number): boolean {
  const op = code & 0xf0;
  if (cls(code) === BPF_JMP32) return op !== 0x00;
  if (cls(code) !== BPF_JMP) return false;
  return op !== 0x00 && op !== 0x90 && op !== 0x80;
}

/** Successor slot indexes of slot pc (not following calls into callees). */
export function successors(insns: Slot[], pc: number): number[] {
  const s = insns[pc]!;
  const c = cls(s.code);
  if (isLdImm64(s)) return [pc + 2];
  if (c === BPF_LD) return [pc + 1];
  if (c !== BPF_JMP && c !== BPF_JMP32) return [pc + 1];
  const op = s.code & 0xf0;
  if (op === 0x90) return [];
  if (op === 0x80) return [pc + 1];
  if (op === 0x00) return [pc + 1 + (c === BPF_JMP32 ? s.imm : s.off)];
  return [pc + 1, pc + 1 + s.off];
}
