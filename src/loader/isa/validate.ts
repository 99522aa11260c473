/**
 * Which encodings are defined instructions (RFC 9669 plus Linux extensions:
 * CPU v1-v4 and the v6.x load-acquire/store-release atomics).
 *
 * Decoding is total; this is the separate pass that says whether the decoded
 * fields form an instruction the kernel defines, and if not, why. Fields the
 * RFC marks as reserved must be zero.
 */

import * as op from './opcode.js';
import type { Insn } from './instruction.js';

const MAX_REG = 10;

const ATOMIC_IMMS: ReadonlySet<number> = new Set<number>([
  op.BPF_ATOMIC_ADD,
  op.BPF_ATOMIC_ADD | op.BPF_FETCH,
  op.BPF_ATOMIC_OR,
  op.BPF_ATOMIC_OR | op.BPF_FETCH,
  op.BPF_ATOMIC_AND,
  op.BPF_ATOMIC_AND | op.BPF_FETCH,
  op.BPF_ATOMIC_XOR,
  op.BPF_ATOMIC_XOR | op.BPF_FETCH,
  op.BPF_XCHG,
  op.BPF_CMPXCHG,
]);

function zero(i: Insn, fields: readonly ('dst' | 'src' | 'off' | 'imm')[]): string | null {
  for (const f of fields) if (i[f] !== 0) return `${f} must be 0 (got ${i[f]})`;
  return null;
}

function regs(i: Insn): string | null {
  if (i.dst > MAX_REG) return `dst register r${i.dst} does not exist`;
  if (i.src > MAX_REG) return `src register r${i.src} does not exist`;
  return null;
}

function validateAlu(i: Insn): string | null {
  const is64 = op.opClass(i.opcode) === op.BPF_ALU64;
  const isX = op.opSrc(i.opcode) === op.BPF_X;
  const code = op.opCode(i.opcode);
  switch (code) {
    case op.BPF_NEG:
      return isX ? 'neg has no register form' : zero(i, ['src', 'off', 'imm']);
    case op.BPF_END:
      if (is64 && isX) return 'ALU64 | END | X is not defined';
      if (i.imm !== 16 && i.imm !== 32 && i.imm !== 64) return `byte swap width must be 16, 32 or 64 (got ${i.imm})`;
      return zero(i, ['src', 'off']);
    case op.BPF_DIV:
    case op.BPF_MOD:
      if (i.off !== 0 && i.off !== 1) return `off of div/mod must be 0 or 1 (got ${i.off})`;
      return zero(i, [isX ? 'imm' : 'src']);
    case op.BPF_MOV:
      if (isX) {
        const ok = i.off === 0 || i.off === 8 || i.off === 16 || (is64 && i.off === 32);
        if (!ok) return `off of mov must be 0, 8, 16${is64 ? ' or 32' : ''} (got ${i.off})`;
        return zero(i, ['imm']);
      }
      return zero(i, ['src', 'off']);
    case 0xe0:
    case 0xf0:
      return `ALU operation 0x${code.toString(16)} is not defined`;
    default:
      return zero(i, isX ? ['imm', 'off'] : ['src', 'off']);
  }
}

function validateJmp(i: Insn): string | null {
  const is32 = op.opClass(i.opcode) === op.BPF_JMP32;
  const isX = op.opSrc(i.opcode) === op.BPF_X;
  const code = op.opCode(i.opcode);
  switch (code) {
    case op.BPF_JA:
      if (isX) return 'JA has no register form';
      return zero(i, is32 ? ['dst', 'src', 'off'] : ['dst', 'src', 'imm']);
    case op.BPF_CALL:
      if (is32) return 'JMP32 | CALL is not defined';
      if (isX) return zero(i, ['src', 'off', 'imm']);
      if (i.src > op.BPF_PSEUDO_KFUNC_CALL) return `call src must be 0, 1 or 2 (got ${i.src})`;
      return zero(i, ['dst', 'off']);
    case op.BPF_EXIT:
      if (is32 || isX) return 'only JMP | EXIT | K is defined';
      return zero(i, ['dst', 'src', 'off', 'imm']);
    case 0xe0:
    case 0xf0:
      return `jump operation 0x${code.toString(16)} is not defined`;
    default:
      return zero(i, [isX ? 'imm' : 'src']);
  }
}

function validateLd(i: Insn): string | null {
  const mode = op.opMode(i.opcode);
  const size = op.opSize(i.opcode);
  if (mode === op.BPF_IMM) {
    if (size !== op.BPF_DW) return 'LD | IMM is defined only for DW';
    if (i.width !== 2 || !i.next) return 'ld_imm64 needs two slots';
    if (i.src > op.BPF_PSEUDO_MAP_IDX_VALUE) return `ld_imm64 src must be 0..6 (got ${i.src})`;
    const n = i.next;
    if (n.opcode !== 0 || n.dst !== 0 || n.src !== 0 || n.off !== 0)
      return 'second slot of ld_imm64 must have zero opcode, registers and offset';
    return zero(i, ['off']);
  }
  if (mode !== op.BPF_ABS && mode !== op.BPF_IND) return `LD mode 0x${mode.toString(16)} is not defined`;
  if (size === op.BPF_DW) return 'legacy packet loads have no DW size';
  return zero(i, mode === op.BPF_ABS ? ['dst', 'src', 'off'] : ['dst', 'off']);
}

function validateMem(i: Insn): string | null {
  const cls = op.opClass(i.opcode);
  const mode = op.opMode(i.opcode);
  const size = op.opSize(i.opcode);
  if (cls === op.BPF_LDX) {
    if (mode === op.BPF_MEMSX && size === op.BPF_DW) return 'sign-extending load has no DW size';
    if (mode !== op.BPF_MEM && mode !== op.BPF_MEMSX) return `LDX mode 0x${mode.toString(16)} is not defined`;
    return zero(i, ['imm']);
  }
  if (cls === op.BPF_ST) {
    if (mode !== op.BPF_MEM) return `ST mode 0x${mode.toString(16)} is not defined`;
    return zero(i, ['src']);
  }
  if (mode === op.BPF_MEM) return zero(i, ['imm']);
  if (mode !== op.BPF_ATOMIC) return `STX mode 0x${mode.toString(16)} is not defined`;
  if (i.imm === op.BPF_LOAD_ACQ || i.imm === op.BPF_STORE_REL) return null;
  if (size !== op.BPF_W && size !== op.BPF_DW) return 'read-modify-write atomics exist only for W and DW';
  if (!ATOMIC_IMMS.has(i.imm)) return `atomic operation 0x${(i.imm >>> 0).toString(16)} is not defined`;
  return null;
}

/** Returns null when the instruction is defined, otherwise why it is not. */
export function validateInsn(i: Insn): string | null {
  const cls = op.opClass(i.opcode);
  const isLdImm64 = i.opcode === op.OP_LD_IMM64;
  if (isLdImm64 !== (i.width === 2)) return isLdImm64 ? 'ld_imm64 needs two slots' : 'only ld_imm64 takes two slots';
  const r = regs(i);
  if (r !== null) return r;
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64:
      return validateAlu(i);
    case op.BPF_JMP:
    case op.BPF_JMP32:
      return validateJmp(i);
    case op.BPF_LD:
      return validateLd(i);
    default:
      return validateMem(i);
  }
}

/** True when `validateInsn` accepts the instruction. */
export function isValidInsn(i: Insn): boolean {
  return validateInsn(i) === null;
}
