/** A Signer over a WebCrypto private key (node:crypto's webcrypto). */
import { webcrypto } from 'node:crypto';
import { ecdsaRawToDer } from '../der.js';
import { SigningError } from '../errors.js';
/** The signer algorithm of a WebCrypto private key, or KEY_UNSUPPORTED. */
export function algorithmOfCryptoKey(key) {
    const a = key.algorithm;
    if (a.name === 'ECDSA' && a.namedCurve === 'P-256')
        return 'ecdsa-p256-sha256';
    if (a.name === 'ECDSA' && a.namedCurve === 'P-384')
        return 'ecdsa-p384-sha256';
    if (a.name === 'RSASSA-PKCS1-v1_5' && a.hash?.name === 'SHA-256' && a.modulusLength && a.modulusLength >= 2048 && a.modulusLength <= 4096) {
        return 'rsa-pkcs1v15-sha256';
    }
    throw new SigningError('KEY_UNSUPPORTED', `keys: ${a.name} ${a.namedCurve ?? a.modulusLength ?? ''} ${a.hash?.name ?? ''} cannot make kernel signatures`, {
        got: a.name,
        want: 'ECDSA P-256/P-384 or RSASSA-PKCS1-v1_5 SHA-256 2048..4096',
    });
}
/** The WebCrypto import parameters for a signer algorithm. */
export function importParams(alg) {
    switch (alg) {
        case 'rsa-pkcs1v15-sha256':
            return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
        case 'ecdsa-p256-sha256':
            return { name: 'ECDSA', namedCurve: 'P-256' };
        case 'ecdsa-p384-sha256':
            return { name: 'ECDSA', namedCurve: 'P-384' };
    }
}
export function webCryptoSigner(privateKey, subjectKeyIdentifier) {
    if (privateKey.type !== 'private' || !privateKey.usages.includes('sign')) {
        throw new SigningError('KEY_INVALID', 'keys: WebCrypto key is not a private signing key', { got: privateKey.type });
    }
    const algorithm = algorithmOfCryptoKey(privateKey);
    const ski = Uint8Array.from(subjectKeyIdentifier);
    return {
        algorithm,
        subjectKeyIdentifier: ski,
        async sign(data) {
            const params = algorithm === 'rsa-pkcs1v15-sha256' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' };
            const sig = new Uint8Array(await webcrypto.subtle.sign(params, privateKey, data));
            return algorithm === 'rsa-pkcs1v15-sha256' ? sig : ecdsaRawToDer(sig);
        },
    };
}
//# sourceMappingURL=webcrypto.js.map