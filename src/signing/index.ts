/** The signing core: keys, CMS as the kernel verifies it, schemes, X.509 trust, RFC 8785, DSSE/in-toto. */
export { SigningError, VerificationError, isSigningError, isVerificationError } from './errors.js';
export type { SigningErrorCode, VerificationErrorCode, UntrustedReason, SigningErrorDetails, VerificationErrorDetails } from './errors.js';
export { OID } from './algorithms.js';
export type { SignerAlgorithm, DigestName } from './algorithms.js';
export { signedContent, schemeAttrs, SIGNING_SCHEMES, MAX_SIGNATURE_SIZE, MAX_LOAD_TIME_CONTENT } from './schemes.js';
export type { SigningScheme, Scheme, SchemeAttrs } from './schemes.js';
export { signDetached, verifyDetached, decodeSignedData, MAX_CMS_SIZE } from './cms/index.js';
export type {
  CmsVerification,
  CmsVerified,
  CmsRejected,
  SignerOutcome,
  SignerStatus,
  VerifiedAlgorithm,
  DecodedSignedData,
  DecodedSignerInfo,
  SignerId,
} from './cms/index.js';
export {
  webCryptoSigner,
  signerFromPem,
  pkcs11Signer,
  createDevelopmentCa,
  issueCertificate,
  issueCrl,
  generateKeyPair,
  toPem,
} from './keys/index.js';
export type {
  Signer,
  PemSignerInput,
  Pkcs11Signer,
  Pkcs11SignerInput,
  DevelopmentCa,
  DevelopmentCaInput,
  IssueInput,
  Random,
} from './keys/index.js';
export { parseCertificate, parseCrl, buildPath, validateChain } from './x509/index.js';
export type {
  Certificate,
  CertificateInput,
  Crl,
  CrlInput,
  TrustMaterial,
  ChainPolicy,
  ChainValidation,
  RevocationStatus,
} from './x509/index.js';
export { canonicalize, canonicalBytes } from './canonical.js';
export type { JsonValue } from './canonical.js';
export { pae, signEnvelope, verifyEnvelope } from './dsse.js';
export type { Envelope, EnvelopeSignature, EnvelopeVerification } from './dsse.js';
export { makeStatement, assertStatement, signStatement, verifyStatement, STATEMENT_TYPE, IN_TOTO_PAYLOAD_TYPE } from './statement.js';
export type { Statement, Subject, StatementVerification } from './statement.js';
