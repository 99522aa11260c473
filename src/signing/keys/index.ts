export type { Signer } from './signer.js';
export { webCryptoSigner, algorithmOfCryptoKey } from './webcrypto.js';
export { signerFromPem } from './pem.js';
export type { PemSignerInput } from './pem.js';
export { pkcs11Signer } from './pkcs11.js';
export type { Pkcs11Signer, Pkcs11SignerInput } from './pkcs11.js';
export { createDevelopmentCa, issueCertificate, issueCrl, generateKeyPair, toPem } from './dev-ca.js';
export type { DevelopmentCa, DevelopmentCaInput, IssueInput, CrlInput, Random } from './dev-ca.js';
