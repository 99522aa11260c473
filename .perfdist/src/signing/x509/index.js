export { parseCertificate, sameCertificate } from './certificate.js';
export { parseCrl } from './crl.js';
export { buildPath, MAX_PATH_LENGTH } from './chain.js';
export { validateChain } from './validate.js';
//# sourceMappingURL=index.js.map