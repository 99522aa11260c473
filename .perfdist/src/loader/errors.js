/**
 * Typed errors of the loader core. Every error carries a literal-union `code`
 * and `details` that say where (section, symbol, offset, pc, field) and what
 * (got vs want). Messages read as a path to the failure:
 * "elf: section .maps: symbol foo: offset 24 past end of section (size 16)".
 */
export class LoaderError extends Error {
    name = 'LoaderError';
    code;
    details;
    constructor(code, message, details = {}, options) {
        super(message, options);
        this.code = code;
        this.details = details;
    }
    /** Returns a copy whose message is prefixed by a stage ("relocate .text: ..."), keeping code and details. */
    withPrefix(prefix, extra = {}) {
        return new LoaderError(this.code, `${prefix}: ${this.message}`, { ...extra, ...this.details }, { cause: this });
    }
}
export function isLoaderError(e) {
    return e instanceof LoaderError;
}
//# sourceMappingURL=errors.js.map