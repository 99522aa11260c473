/**
 * Patching one instruction with a relocation result (libbpf's
 * bpf_core_patch_insn): ALU immediates, LDX/ST/STX offsets (with memory-size
 * adjustment), ld_imm64 values, and the poisoned `call 0xbad2310`.
 */
import {
  type Insn,
  OP_LD_IMM64,
  opClass,
  opSize,
  opMode,
  opSrc,
  BPF_ALU,
  BPF_ALU64,
  BPF_LDX,
  BPF_ST,
  BPF_STX,
  BPF_LD,
  BPF_K,
  BPF_B,
  BPF_H,
  BPF_W,
  BPF_DW,
  OP_CALL,
} from '../../loader/isa/index.js';
import type { CoreResult } from './calc.js';
import { coreError } from './spec.js';

/** Immediate of a poisoned instruction: the verifier reports "invalid func unknown#195896080". */
export const CORE_POISON_IMM = 0xbad2310;

const SIZE_BYTES: Record<number, number> = { [BPF_B]: 1, [BPF_H]: 2, [BPF_W]: 4, [BPF_DW]: 8 };
const BYTES_SIZE: Record<number, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

function poisoned(): Insn {
  return { opcode: OP_CALL, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM, width: 1 };
}

/**
 * The patched instruction(s) for `insn`. Returns one instruction, or two for a
 * poisoned ld_imm64 (both slots become calls). Throws a KernelError where libbpf
 * refuses the relocation (unexpected current value, unsupported instruction).
 */
export function patchInsn(insn: Insn, res: CoreResult, where: { pc: number; relo: number }): Insn[] {
  const fail = (msg: string, got: unknown, want: unknown) =>
    coreError(`relo #${where.relo}: insn #${where.pc} ${msg}`, { pc: where.pc, opcode: insn.opcode, got, want });
  if (res.poison) return insn.opcode === OP_LD_IMM64 ? [poisoned(), poisoned()] : [poisoned()];
  const cls = opClass(insn.opcode);
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      if (opSrc(insn.opcode) !== BPF_K) throw fail('(ALU/ALU64) has a register source', opSrc(insn.opcode), BPF_K);
      if (res.validate && BigInt.asUintN(64, BigInt(insn.imm)) !== res.origValue)
        throw fail('(ALU/ALU64) has an unexpected value', insn.imm, res.origValue);
      return [{ ...insn, imm: Number(BigInt.asIntN(32, res.newValue)) }];
    }
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      if (res.validate && BigInt.asUintN(64, BigInt(insn.off)) !== res.origValue)
        throw fail('(LDX/ST/STX) has an unexpected offset', insn.off, res.origValue);
      if (res.newValue > 0x7fffn) throw fail('(LDX/ST/STX) offset too big', res.newValue, '<= 32767');
      if (res.failMemSizeAdjust) return [poisoned()];
      let opcode = insn.opcode;
      if (res.newSize !== res.origSize) {
        const have = SIZE_BYTES[opSize(insn.opcode)];
        if (have !== res.origSize) throw fail('(LDX/ST/STX) has an unexpected memory size', have, res.origSize);
        const sz = BYTES_SIZE[res.newSize];
        if (sz === undefined) throw fail('(LDX/ST/STX) invalid new memory size', res.newSize, '1, 2, 4 or 8');
        opcode = opMode(insn.opcode) | sz | cls;
      }
      return [{ ...insn, opcode, off: Number(res.newValue) }];
    }
    case BPF_LD: {
      const n = insn.next;
      if (
        insn.opcode !== OP_LD_IMM64 ||
        !n ||
        insn.src !== 0 ||
        insn.off !== 0 ||
        n.opcode !== 0 ||
        n.dst !== 0 ||
        n.src !== 0 ||
        n.off !== 0
      ) {
        throw fail('(LDIMM64) has an unexpected form', insn.opcode, OP_LD_IMM64);
      }
      const cur = BigInt.asUintN(64, (BigInt(n.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0));
      if (res.validate && cur !== res.origValue) throw fail('(LDIMM64) has an unexpected value', cur, res.origValue);
      const v = BigInt.asUintN(64, res.newValue);
      const lo = Number(BigInt.asIntN(32, v)),
        hi = Number(BigInt.asIntN(32, v >> 32n));
      return [{ ...insn, imm: lo, imm64: v, next: { ...n, imm: hi } }];
    }
    default:
      throw fail(`cannot relocate this instruction (code 0x${insn.opcode.toString(16)})`, insn.opcode, 'ALU, LDX/ST/STX or ld_imm64');
  }
}
