/** The BPF interpreter: validate once, then run against typed memory regions. */

// The decoder alone, not the isa barrel (assembler, disassembler, helper names): `bpfsign vm` starts faster.
import { decodeInsns } from '../../loader/isa/decode.js';
import type { ByteOrder, Insn } from '../../loader/isa/index.js';
import { isLoaderError } from '../../loader/errors.js';
import { VmError } from '../errors.js';
import { compile, type CompileOptions, type Program } from './validate.js';
import { run, type RunOptions, type RunResult } from './exec.js';

export { compile, frameWriteOf, type CompileOptions, type Program } from './validate.js';
export { run, DEFAULT_BUDGET, DEFAULT_MAX_CALL_DEPTH, DEFAULT_STACK_SIZE, type RunOptions, type RunResult } from './exec.js';
export { Memory, regionBase, type Region, type RegionKind, type MapOptions } from './memory.js';
export { callHelper, type Helper, type HelperEnv, type HelperTable } from './helpers.js';
export { alu32, alu64, bswap, condition, endian } from './alu.js';

/**
 * Decodes (when given bytes) and validates a program. Bytes that do not decode
 * (length not a multiple of 8, truncated ld_imm64) are VM_INVALID_PROGRAM too.
 */
export function loadProgram(input: Uint8Array | readonly Insn[], byteOrder: ByteOrder = 'le', opts: CompileOptions = {}): Program {
  if (!(input instanceof Uint8Array)) return compile(input, opts);
  let insns: Insn[];
  try {
    insns = decodeInsns(input, byteOrder);
  } catch (e) {
    if (isLoaderError(e)) throw new VmError('VM_INVALID_PROGRAM', e.message, { pc: e.details.pc, got: e.details.got }, { cause: e });
    throw e;
  }
  return compile(insns, opts);
}

/** `run(loadProgram(input), opts)`. */
export function execute(input: Uint8Array | readonly Insn[], opts: RunOptions = {}): RunResult {
  return run(loadProgram(input, opts.memory && !opts.memory.littleEndian ? 'be' : 'le'), opts);
}
