/**
 * A development CA: a self-signed root and a code-signing certificate under it, both made with
 * @peculiar/x509 over WebCrypto. Clock and randomness are inputs. Also issues further
 * certificates and CRLs, which tests and the `dev` setup use.
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded first
import { webcrypto } from 'node:crypto';
import { AuthorityKeyIdentifierExtension, BasicConstraintsExtension, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension, SubjectKeyIdentifierExtension, X509CertificateGenerator, X509CrlGenerator, X509CrlReason, X509Certificate, } from '@peculiar/x509';
import { OID } from '../algorithms.js';
import { fromHex, toHex } from '../../shared/bytes.js';
import { importParams, webCryptoSigner } from './webcrypto.js';
const crypto = webcrypto;
const defaultRandom = (n) => webcrypto.getRandomValues(new Uint8Array(n));
/** Generates a key pair for a signer algorithm; private key extractable so it can be exported. */
export async function generateKeyPair(alg, modulusLength = 3072) {
    const params = alg === 'rsa-pkcs1v15-sha256'
        ? { ...importParams(alg), modulusLength, publicExponent: new Uint8Array([1, 0, 1]) }
        : importParams(alg);
    return (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify']));
}
function signingAlgorithm(key) {
    const a = key.algorithm;
    if (a.name === 'ECDSA')
        return { name: 'ECDSA', hash: a.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' };
    return { name: a.name };
}
function serial(random) {
    const b = random(16);
    b[0] &= 0x7f; // positive INTEGER
    b[0] |= 0x01; // and no leading zero byte to normalise away
    return toHex(b);
}
/** Issues one certificate and returns its DER. */
export async function issueCertificate(input) {
    const random = input.random ?? defaultRandom;
    const issuer = input.issuerCert ? new X509Certificate(Uint8Array.from(input.issuerCert)) : undefined;
    const extensions = [
        new BasicConstraintsExtension(input.ca, input.ca ? input.pathLength : undefined, true),
        new KeyUsagesExtension(input.keyUsage ?? (input.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature), true),
    ];
    if (!input.ca) {
        const eku = input.extendedKeyUsage ?? [OID.codeSigning];
        if (eku.length > 0)
            extensions.push(new ExtendedKeyUsageExtension(eku, false));
    }
    if (!input.omitSubjectKeyIdentifier)
        extensions.push(await SubjectKeyIdentifierExtension.create(input.publicKey, false, crypto));
    const authorityKey = issuer ? await issuer.publicKey.export(crypto) : input.publicKey;
    extensions.push(await AuthorityKeyIdentifierExtension.create(authorityKey, false, crypto));
    const cert = await X509CertificateGenerator.create({
        serialNumber: serial(random),
        subject: input.subject,
        issuer: issuer ? issuer.subject : input.subject,
        notBefore: input.notBefore,
        notAfter: input.notAfter,
        publicKey: input.publicKey,
        signingKey: input.issuerKey,
        signingAlgorithm: signingAlgorithm(input.issuerKey),
        extensions,
    }, crypto);
    return new Uint8Array(cert.rawData);
}
/** Issues a CRL (DER). */
export async function issueCrl(input) {
    const issuer = new X509Certificate(Uint8Array.from(input.issuerCert));
    const crl = await X509CrlGenerator.create({
        issuer: issuer.subject,
        thisUpdate: input.thisUpdate,
        nextUpdate: input.nextUpdate,
        signingKey: input.issuerKey,
        signingAlgorithm: signingAlgorithm(input.issuerKey),
        extensions: [await AuthorityKeyIdentifierExtension.create(await issuer.publicKey.export(crypto), false, crypto)],
        entries: input.revoked.map((r) => ({ serialNumber: r.serialNumber, revocationDate: r.date, reason: X509CrlReason.keyCompromise })),
    }, crypto);
    return new Uint8Array(crl.rawData);
}
const DAY = 86_400_000;
export async function createDevelopmentCa(input) {
    const alg = input.algorithm ?? 'ecdsa-p256-sha256';
    const days = input.validityDays ?? 365;
    const name = input.name ?? 'bpfsign development';
    const notBefore = new Date(input.now.getTime() - 60_000);
    const ca = await generateKeyPair(alg);
    const leaf = await generateKeyPair(alg);
    const caCert = await issueCertificate({
        subject: `CN=${name} CA`,
        publicKey: ca.publicKey,
        issuerKey: ca.privateKey,
        notBefore,
        notAfter: new Date(notBefore.getTime() + 10 * days * DAY),
        ca: true,
        pathLength: 1,
        random: input.random,
    });
    const signingCert = await issueCertificate({
        subject: `CN=${name} signing key`,
        publicKey: leaf.publicKey,
        issuerCert: caCert,
        issuerKey: ca.privateKey,
        notBefore,
        notAfter: new Date(notBefore.getTime() + days * DAY),
        ca: false,
        random: input.random,
    });
    const ski = (await SubjectKeyIdentifierExtension.create(leaf.publicKey, false, crypto)).keyId;
    return { caCert, caKey: ca.privateKey, signingCert, signingKey: leaf.privateKey, signer: webCryptoSigner(leaf.privateKey, fromHex(ski)) };
}
/** PEM armour for DER (CERTIFICATE, X509 CRL) or a private key exported as PKCS#8. */
export async function toPem(label, value) {
    const der = value instanceof Uint8Array ? value : new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', value));
    const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
    return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
//# sourceMappingURL=dev-ca.js.map