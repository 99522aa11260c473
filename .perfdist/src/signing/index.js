/** The signing core: keys, CMS as the kernel verifies it, schemes, X.509 trust, RFC 8785, DSSE/in-toto. */
export { SigningError, VerificationError, isSigningError, isVerificationError } from './errors.js';
export { OID } from './algorithms.js';
export { signedContent, schemeAttrs, SIGNING_SCHEMES, MAX_SIGNATURE_SIZE, MAX_LOAD_TIME_CONTENT } from './schemes.js';
export { signDetached, verifyDetached, decodeSignedData, MAX_CMS_SIZE } from './cms/index.js';
export { webCryptoSigner, signerFromPem, pkcs11Signer, createDevelopmentCa, issueCertificate, issueCrl, generateKeyPair, toPem, } from './keys/index.js';
export { parseCertificate, parseCrl, buildPath, validateChain } from './x509/index.js';
export { canonicalize, canonicalBytes } from './canonical.js';
export { pae, signEnvelope, verifyEnvelope } from './dsse.js';
export { makeStatement, assertStatement, signStatement, verifyStatement, STATEMENT_TYPE, IN_TOTO_PAYLOAD_TYPE } from './statement.js';
//# sourceMappingURL=index.js.map