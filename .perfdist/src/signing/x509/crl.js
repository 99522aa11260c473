/** Parsed certificate revocation lists (X.509 v2 CRL), read with @peculiar/x509. */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded first
import { AuthorityKeyIdentifierExtension, X509Crl } from '@peculiar/x509';
import { VerificationError } from '../errors.js';
export function normalizeSerial(hex) {
    return hex.toLowerCase().replace(/^(00)+(?=..)/, '');
}
export function parseCrl(input) {
    if (typeof input === 'object' && !(input instanceof Uint8Array))
        return input;
    let crl;
    try {
        crl = new X509Crl(typeof input === 'string' ? input : Uint8Array.from(input));
    }
    catch (e) {
        throw new VerificationError('MALFORMED', `x509: cannot parse CRL: ${e.message}`, {}, { cause: e });
    }
    const aki = crl.getExtension(AuthorityKeyIdentifierExtension);
    return {
        der: new Uint8Array(crl.rawData),
        issuer: crl.issuer,
        authorityKeyIdentifier: aki?.keyId?.toLowerCase(),
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
        revoked: new Map(crl.entries.map((e) => [normalizeSerial(e.serialNumber), e.revocationDate])),
        signatureAlgorithm: crl.asn.signatureAlgorithm.algorithm,
    };
}
//# sourceMappingURL=crl.js.map