/** The BPF interpreter: validate once, then run against typed memory regions. */
import { decodeInsns } from '../../loader/isa/index.js';
import { isLoaderError } from '../../loader/errors.js';
import { VmError } from '../errors.js';
import { compile } from './validate.js';
import { run } from './exec.js';
export { compile } from './validate.js';
export { run, DEFAULT_BUDGET, DEFAULT_MAX_CALL_DEPTH, DEFAULT_STACK_SIZE } from './exec.js';
export { Memory, regionBase } from './memory.js';
export { callHelper } from './helpers.js';
export { alu32, alu64, bswap, condition, endian } from './alu.js';
/**
 * Decodes (when given bytes) and validates a program. Bytes that do not decode
 * (length not a multiple of 8, truncated ld_imm64) are VM_INVALID_PROGRAM too.
 */
export function loadProgram(input, byteOrder = 'le') {
    if (!(input instanceof Uint8Array))
        return compile(input);
    let insns;
    try {
        insns = decodeInsns(input, byteOrder);
    }
    catch (e) {
        if (isLoaderError(e))
            throw new VmError('VM_INVALID_PROGRAM', e.message, { pc: e.details.pc, got: e.details.got }, { cause: e });
        throw e;
    }
    return compile(insns);
}
/** `run(loadProgram(input), opts)`. */
export function execute(input, opts = {}) {
    return run(loadProgram(input, opts.memory && !opts.memory.littleEndian ? 'be' : 'le'), opts);
}
//# sourceMappingURL=index.js.map