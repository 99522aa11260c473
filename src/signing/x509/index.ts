export { parseCertificate, sameCertificate } from './certificate.js';
export type { Certificate, CertificateInput } from './certificate.js';
export { parseCrl } from './crl.js';
export type { Crl, CrlInput } from './crl.js';
export { buildPath, MAX_PATH_LENGTH } from './chain.js';
export type { ChainSearch } from './chain.js';
export { validateChain } from './validate.js';
export type { TrustMaterial, ChainPolicy, ChainValidation, ChainValidated, ChainRejected, RevocationStatus } from './validate.js';
