/**
 * A parsed certificate: the fields chain building, usage checks and signer matching need,
 * read once with @peculiar/x509. Parsing is synchronous and pure.
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded first
import type { KeyObject } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
} from '@peculiar/x509';
import { publicKeyFromSpki } from '../algorithms.js';
import type { Memo } from '../caches.js';
import { VerificationError } from '../errors.js';
import { toHex } from '../../shared/bytes.js';

export interface Certificate {
  readonly der: Uint8Array;
  readonly subject: string;
  readonly issuer: string;
  /** hex, as in the DER INTEGER content (no sign normalisation) */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** lower-case hex of the subjectKeyIdentifier extension, if present */
  readonly subjectKeyIdentifier?: string;
  /** lower-case hex of authorityKeyIdentifier.keyIdentifier, if present */
  readonly authorityKeyIdentifier?: string;
  /** KeyUsageFlags bit set (digitalSignature = 1, keyCertSign = 32, cRLSign = 64), undefined if no extension */
  readonly keyUsage?: number;
  /** extendedKeyUsage OIDs, undefined if no extension */
  readonly extendedKeyUsage?: readonly string[];
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number };
  /** SubjectPublicKeyInfo DER */
  readonly spki: Uint8Array;
  readonly publicKey: KeyObject;
  /** signatureAlgorithm OID of the certificate itself */
  readonly signatureAlgorithm: string;
  readonly x509: X509Certificate;
}

export type CertificateInput = Uint8Array | string | Certificate;

function isParsed(input: CertificateInput): input is Certificate {
  return typeof input === 'object' && !(input instanceof Uint8Array) && 'x509' in input;
}

/**
 * Parses a DER or PEM certificate (the result is frozen). Parsing is a pure function of the bytes
 * and is ASN.1 work in JavaScript, while a verifier sees the same few certificates (roots, the
 * service's signing keys) on every request: `cache`, when given, keeps them by their PEM text or
 * DER bytes. Throws VerificationError('MALFORMED').
 */
export function parseCertificate(input: CertificateInput, cache?: Memo<string, Certificate>): Certificate {
  if (isParsed(input)) return input;
  if (cache === undefined) return Object.freeze(parseUncached(input));
  const key =
    typeof input === 'string' ? `pem:${input}` : `der:${Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('base64')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const cert = Object.freeze(parseUncached(input));
  cache.set(key, cert, key.length);
  return cert;
}

function parseUncached(input: Uint8Array | string): Certificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(typeof input === 'string' ? input : Uint8Array.from(input));
  } catch (e) {
    throw new VerificationError('MALFORMED', `x509: cannot parse certificate: ${(e as Error).message}`, {}, { cause: e });
  }
  const der = new Uint8Array(x509.rawData);
  const spki = new Uint8Array(x509.publicKey.rawData);
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromSpki(spki);
  } catch (e) {
    throw new VerificationError('UNSUPPORTED', `x509: ${x509.subject}: public key not importable: ${(e as Error).message}`, {
      subject: x509.subject,
    });
  }
  const ski = x509.getExtension(SubjectKeyIdentifierExtension);
  const aki = x509.getExtension(AuthorityKeyIdentifierExtension);
  const ku = x509.getExtension(KeyUsagesExtension);
  const eku = x509.getExtension(ExtendedKeyUsageExtension);
  const bc = x509.getExtension(BasicConstraintsExtension);
  const rawSigAlg = (x509 as unknown as { asn: { signatureAlgorithm: { algorithm: string } } }).asn.signatureAlgorithm.algorithm;
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
export function sameCertificate(a: Certificate, b: Certificate): boolean {
  return a === b || (a.der.length === b.der.length && Buffer.compare(a.der, b.der) === 0);
}
