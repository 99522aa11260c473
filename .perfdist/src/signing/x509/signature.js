import { X509_SIGNATURE, verifyRaw } from '../algorithms.js';
import { signedStructure } from '../der.js';
/** 'ok' | 'bad' | 'unsupported' (an algorithm we do not check, e.g. RSA-PSS) */
export function checkSignedBy(der, signatureAlgorithm, issuerKey) {
    const alg = X509_SIGNATURE[signatureAlgorithm];
    if (!alg)
        return 'unsupported';
    const family = issuerKey.asymmetricKeyType === 'rsa' ? 'rsa' : issuerKey.asymmetricKeyType === 'ec' ? 'ec' : undefined;
    if (family !== alg.family)
        return 'bad';
    const { tbs, signature } = signedStructure(der);
    return verifyRaw(issuerKey, alg.digest, tbs, signature) ? 'ok' : 'bad';
}
//# sourceMappingURL=signature.js.map