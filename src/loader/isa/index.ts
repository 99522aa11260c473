/** BPF instruction set: encoding, decoding, validation, printing, assembling. */

export {
  BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_JMP32, BPF_ALU64,
  BPF_W, BPF_H, BPF_B, BPF_DW,
  BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_MEMSX, BPF_ATOMIC,
  BPF_K, BPF_X,
  BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END,
  BPF_TO_LE, BPF_TO_BE,
  BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_CALL, BPF_EXIT, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
  BPF_FETCH, BPF_ATOMIC_ADD, BPF_ATOMIC_OR, BPF_ATOMIC_AND, BPF_ATOMIC_XOR, BPF_XCHG, BPF_CMPXCHG, BPF_LOAD_ACQ, BPF_STORE_REL,
  BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL,
  OP_LD_IMM64, OP_CALL, OP_CALLX, OP_EXIT, OP_JA, OP_JA32, INSN_SIZE,
  opClass, opCode, opSrc, opSize, opMode, sizeBytes,
  R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10,
  type Register,
} from './opcode.js';
export { insn, ldImm64Insn, joinImm64, splitImm64, imm64Of, type Insn, type InsnSlot } from './instruction.js';
export { classify, ALU_OPS, JMP_OPS, type InsnView, type AluOp, type JmpOp, type AtomicOp } from './classify.js';
export { validateInsn, isValidInsn } from './validate.js';
export { decodeInsns, decodeAt, decodeSlot, type ByteOrder } from './decode.js';
export { encodeInsns, encodeSlots, writeSlot, insnsByteLength } from './encode.js';
export { regsByte, regDst, regSrc } from './regs.js';
export { formatInsn, formatLlvm14, formatModern, branchDelta, UNKNOWN_TEXT, type FormatOptions } from './format.js';
export { llvm14Decode, type Llvm14Result } from './format-llvm14.js';
export {
  disassemble, sortSectionSymbols, targetLabel, STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE,
  type SectionSymbol, type DisassembleOptions, type DisasmLine,
} from './disassemble.js';
export { assemble } from './assemble.js';
export { helperName, helperId, HELPER_NAMES } from './helpers.js';
export {
  alu64, alu32, mov64, mov32, endian, ldx, ldxsx, st, stx, atomic, jmp, jmp32, ja, gotol, call, exit,
  ldImm64, ldMapFd, ldMapValue, ldAbs, ldInd, type AluForm, type JmpForm,
} from './dsl.js';
