/**
 * Typed errors of the signing core. Codes are literal unions so that a verdict layer can
 * switch on them exhaustively. `SigningError` is thrown when *we* cannot produce something
 * (bad key, token failure); `VerificationError` describes why something presented to us does
 * not verify, and is usually *returned* inside a result rather than thrown.
 */
export class SigningError extends Error {
    name = 'SigningError';
    code;
    details;
    constructor(code, message, details = {}, options) {
        super(message, options);
        this.code = code;
        this.details = details;
    }
}
export class VerificationError extends Error {
    name = 'VerificationError';
    code;
    details;
    constructor(code, message, details = {}, options) {
        super(message, options);
        this.code = code;
        this.details = details;
    }
}
export function isSigningError(e) {
    return e instanceof SigningError;
}
export function isVerificationError(e) {
    return e instanceof VerificationError;
}
//# sourceMappingURL=errors.js.map