/**
 * Typed errors of the kernel model. Like `LoaderError`, every error carries a
 * literal-union `code` and `details` saying where (pc, opcode, region, address)
 * and what (got vs want). `VmError` is the interpreter's fault: it always names
 * the pc (instruction slot) and the opcode of the instruction that faulted.
 */
export class KernelError extends Error {
    name = 'KernelError';
    code;
    details;
    constructor(code, message, details = {}, options) {
        super(message, options);
        this.code = code;
        this.details = details;
    }
}
export class VmError extends KernelError {
    name = 'VmError';
    constructor(code, message, details = {}, options) {
        super(code, message, details, options);
    }
    /** A copy that names the faulting instruction: "pc 12 (opcode 0x61): <message>". */
    at(pc, opcode) {
        if (this.details.pc !== undefined)
            return this;
        const hex = `0x${opcode.toString(16).padStart(2, '0')}`;
        return new VmError(this.code, `pc ${pc} (opcode ${hex}): ${this.message}`, { ...this.details, pc, opcode }, { cause: this.cause });
    }
}
export function isKernelError(e) {
    return e instanceof KernelError;
}
export function isVmError(e) {
    return e instanceof VmError;
}
//# sourceMappingURL=errors.js.map