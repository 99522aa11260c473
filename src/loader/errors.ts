/**
 * Typed errors of the loader core. Every error carries a literal-union `code`
 * and `details` that say where (section, symbol, offset, pc, field) and what
 * (got vs want). Messages read as a path to the failure:
 * "elf: section .maps: symbol foo: offset 24 past end of section (size 16)".
 */

export type LoaderErrorCode =
  | 'ELF_MALFORMED' // bytes do not form a valid ELF64 relocatable file
  | 'ELF_UNSUPPORTED' // valid ELF but not something we read (wrong machine, class, type)
  | 'BTF_MALFORMED' // .BTF section or raw BTF file is invalid
  | 'BTF_EXT_MALFORMED' // .BTF.ext is invalid
  | 'BTF_NOT_FOUND' // a type query found nothing
  | 'INSN_INVALID' // an instruction cannot be decoded or encoded
  | 'ASM_SYNTAX' // assembler input cannot be parsed
  | 'OBJECT_MALFORMED' // object structure is inconsistent (bad relocation target, bad map definition, ...)
  | 'OBJECT_UNSUPPORTED'; // valid object using something we do not support

export interface ErrorDetails {
  section?: string;
  symbol?: string;
  offset?: number;
  pc?: number;
  field?: string;
  typeId?: number;
  got?: unknown;
  want?: unknown;
  [key: string]: unknown;
}

export class LoaderError extends Error {
  override readonly name = 'LoaderError';
  readonly code: LoaderErrorCode;
  readonly details: ErrorDetails;

  constructor(code: LoaderErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** Returns a copy whose message is prefixed by a stage ("relocate .text: ..."), keeping code and details. */
  withPrefix(prefix: string, extra: ErrorDetails = {}): LoaderError {
    return new LoaderError(this.code, `${prefix}: ${this.message}`, { ...extra, ...this.details }, { cause: this });
  }
}

export function isLoaderError(e: unknown): e is LoaderError {
  return e instanceof LoaderError;
}
