/**
 * Typed errors of the signing core. Codes are literal unions so that a verdict layer can
 * switch on them exhaustively. `SigningError` is thrown when *we* cannot produce something
 * (bad key, token failure); `VerificationError` describes why something presented to us does
 * not verify, and is usually *returned* inside a result rather than thrown.
 */

export type SigningErrorCode =
  | 'KEY_INVALID' // key material cannot be parsed or does not match what it claims to be
  | 'KEY_UNSUPPORTED' // a key type or size the kernel cannot verify (e.g. RSA-1024, P-521, Ed25519)
  | 'KEY_PASSPHRASE' // encrypted key and the passphrase is missing or wrong
  | 'CERT_INVALID' // certificate cannot be parsed or lacks a field signing needs (SKI)
  | 'TOKEN_ERROR' // PKCS#11 module, slot, login or object lookup failed
  | 'SIGN_FAILED' // the signer returned an error or a signature of the wrong shape
  | 'CANONICAL_INVALID' // value cannot be canonicalized (RFC 8785): NaN, Infinity, undefined, lone surrogate...
  | 'SCHEME_UNSUPPORTED'; // unknown signing scheme

/** Why something does not verify. Mirrors the verdict words of ARCHITECTURE.md where they overlap. */
export type VerificationErrorCode =
  | 'MALFORMED' // not DER, not CMS SignedData, embedded content, not id-data, bad envelope (kernel: -EBADMSG)
  | 'UNSUPPORTED' // digest or signature algorithm the kernel would refuse (kernel: -ENOPKG)
  | 'UNKNOWNKEY' // no candidate key/certificate matches the signer identifier (kernel: -ENOKEY)
  | 'BADSIG' // a matching key was found but the signature does not verify (kernel: -EKEYREJECTED)
  | 'UNTRUSTED'; // signature is valid but the certificate does not chain, is expired, revoked, or has the wrong usage

/** Finer reason for UNTRUSTED, so a verdict can say exactly which X.509 check failed. */
export type UntrustedReason =
  | 'NO_CHAIN' // no path from the signer certificate to a configured root
  | 'NOT_YET_VALID'
  | 'EXPIRED'
  | 'NOT_CA' // an issuer in the path lacks basicConstraints cA=true or keyCertSign
  | 'PATH_LENGTH' // pathLenConstraint exceeded
  | 'KEY_USAGE' // leaf lacks digitalSignature
  | 'EXTENDED_KEY_USAGE' // leaf lacks the required extendedKeyUsage (codeSigning)
  | 'REVOKED' // a CRL from the issuer lists the certificate
  | 'CRL_INVALID' // a CRL for the issuer is badly signed or not current
  | 'REVOCATION_UNKNOWN' // the policy requires a CRL check and no CRL from the issuer was given
  | 'BAD_CERT_SIGNATURE'; // a certificate in the path is not signed by its issuer

export interface SigningErrorDetails {
  field?: string;
  got?: unknown;
  want?: unknown;
  [key: string]: unknown;
}

export interface VerificationErrorDetails extends SigningErrorDetails {
  reason?: UntrustedReason;
  subjectKeyIdentifier?: string;
  subject?: string;
  at?: string;
}

export class SigningError extends Error {
  override readonly name = 'SigningError';
  readonly code: SigningErrorCode;
  readonly details: SigningErrorDetails;

  constructor(code: SigningErrorCode, message: string, details: SigningErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export class VerificationError extends Error {
  override readonly name = 'VerificationError';
  readonly code: VerificationErrorCode;
  readonly details: VerificationErrorDetails;

  constructor(code: VerificationErrorCode, message: string, details: VerificationErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isSigningError(e: unknown): e is SigningError {
  return e instanceof SigningError;
}

export function isVerificationError(e: unknown): e is VerificationError {
  return e instanceof VerificationError;
}
