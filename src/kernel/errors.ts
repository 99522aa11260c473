/**
 * Typed errors of the kernel model. Like `LoaderError`, every error carries a
 * literal-union `code` and `details` saying where (pc, opcode, region, address)
 * and what (got vs want). `VmError` is the interpreter's fault: it always names
 * the pc (instruction slot) and the opcode of the instruction that faulted.
 */

export type VmErrorCode =
  | 'VM_INVALID_PROGRAM' // the program fails validation (bad instruction, jump target, r10 written)
  | 'VM_MEMORY' // an access outside every region, or past the end of one
  | 'VM_READ_ONLY' // a store into a read-only region
  | 'VM_MISALIGNED' // an atomic access not aligned to its size
  | 'VM_UNKNOWN_HELPER' // call of a helper (or kfunc) id that is not registered
  | 'VM_CALL_DEPTH' // a bpf-to-bpf call past the maximum call depth
  | 'VM_BUDGET' // the instruction budget ran out
  | 'VM_PC' // execution fell off the end of the program
  | 'VM_UNSUPPORTED' // a valid instruction the VM was not configured for (pseudo ld_imm64, packet loads)
  | 'VM_HELPER'; // a helper failed (its own error is the cause)

export type KernelErrorCode =
  | VmErrorCode
  | 'KERNEL_INVALID' // a request to the kernel model is malformed
  | 'KERNEL_UNSUPPORTED'; // a request the kernel model does not implement

export interface KernelErrorDetails {
  pc?: number;
  opcode?: number;
  region?: string;
  address?: bigint;
  size?: number;
  helper?: number;
  got?: unknown;
  want?: unknown;
  [key: string]: unknown;
}

export class KernelError extends Error {
  override readonly name: string = 'KernelError';
  readonly code: KernelErrorCode;
  readonly details: KernelErrorDetails;

  constructor(code: KernelErrorCode, message: string, details: KernelErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export class VmError extends KernelError {
  override readonly name: string = 'VmError';
  declare readonly code: VmErrorCode;

  constructor(code: VmErrorCode, message: string, details: KernelErrorDetails = {}, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }

  /** A copy that names the faulting instruction: "pc 12 (opcode 0x61): <message>". */
  at(pc: number, opcode: number): VmError {
    if (this.details.pc !== undefined) return this;
    const hex = `0x${opcode.toString(16).padStart(2, '0')}`;
    return new VmError(this.code, `pc ${pc} (opcode ${hex}): ${this.message}`, { ...this.details, pc, opcode }, { cause: this.cause });
  }
}

export function isKernelError(e: unknown): e is KernelError {
  return e instanceof KernelError;
}

export function isVmError(e: unknown): e is VmError {
  return e instanceof VmError;
}
