/**
 * A parsed certificate: the fields chain building, usage checks and signer matching need,
 * read once with @peculiar/x509. Parsing is synchronous and pure.
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded first
import { AuthorityKeyIdentifierExtension, BasicConstraintsExtension, ExtendedKeyUsageExtension, KeyUsagesExtension, SubjectKeyIdentifierExtension, X509Certificate, } from '@peculiar/x509';
import { publicKeyFromSpki } from '../algorithms.js';
import { VerificationError } from '../errors.js';
import { toHex } from '../../shared/bytes.js';
function isParsed(input) {
    return typeof input === 'object' && !(input instanceof Uint8Array) && 'x509' in input;
}
/** Parses a DER or PEM certificate. Throws VerificationError('MALFORMED'). */
export function parseCertificate(input) {
    if (isParsed(input))
        return input;
    let x509;
    try {
        x509 = new X509Certificate(typeof input === 'string' ? input : Uint8Array.from(input));
    }
    catch (e) {
        throw new VerificationError('MALFORMED', `x509: cannot parse certificate: ${e.message}`, {}, { cause: e });
    }
    const der = new Uint8Array(x509.rawData);
    const spki = new Uint8Array(x509.publicKey.rawData);
    let publicKey;
    try {
        publicKey = publicKeyFromSpki(spki);
    }
    catch (e) {
        throw new VerificationError('UNSUPPORTED', `x509: ${x509.subject}: public key not importable: ${e.message}`, {
            subject: x509.subject,
        });
    }
    const ski = x509.getExtension(SubjectKeyIdentifierExtension);
    const aki = x509.getExtension(AuthorityKeyIdentifierExtension);
    const ku = x509.getExtension(KeyUsagesExtension);
    const eku = x509.getExtension(ExtendedKeyUsageExtension);
    const bc = x509.getExtension(BasicConstraintsExtension);
    const rawSigAlg = x509.asn.signatureAlgorithm.algorithm;
    return {
        der,
        subject: x509.subject,
        issuer: x509.issuer,
        serialNumber: x509.serialNumber.toLowerCase(),
        notBefore: x509.notBefore,
        notAfter: x509.notAfter,
        subjectKeyIdentifier: ski ? ski.keyId.toLowerCase() : undefined,
        authorityKeyIdentifier: aki?.keyId ? aki.keyId.toLowerCase() : undefined,
        keyUsage: ku ? ku.usages : undefined,
        extendedKeyUsage: eku ? Array.from(eku.usages, String) : undefined,
        basicConstraints: bc ? { ca: bc.ca, pathLength: bc.pathLength } : undefined,
        spki,
        publicKey,
        signatureAlgorithm: rawSigAlg,
        x509,
    };
}
/** Same certificate (byte-equal DER)? */
export function sameCertificate(a, b) {
    return a.der.length === b.der.length && toHex(a.der) === toHex(b.der);
}
//# sourceMappingURL=certificate.js.map