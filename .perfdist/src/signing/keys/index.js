export { webCryptoSigner, algorithmOfCryptoKey } from './webcrypto.js';
export { signerFromPem } from './pem.js';
export { pkcs11Signer } from './pkcs11.js';
export { createDevelopmentCa, issueCertificate, issueCrl, generateKeyPair, toPem } from './dev-ca.js';
//# sourceMappingURL=index.js.map