/**
 * A development CA: a self-signed root and a code-signing certificate under it, both made with
 * @peculiar/x509 over WebCrypto. Clock and randomness are inputs. Also issues further
 * certificates and CRLs, which tests and the `dev` setup use.
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded first
import { webcrypto } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  X509CrlGenerator,
  X509CrlReason,
  X509Certificate,
  type Extension,
} from '@peculiar/x509';
import { OID, type SignerAlgorithm } from '../algorithms.js';
import { fromHex, toHex } from '../../shared/bytes.js';
import type { Signer } from './signer.js';
import { importParams, webCryptoSigner } from './webcrypto.js';

type Key = webcrypto.CryptoKey;
type X509Crypto = NonNullable<Parameters<typeof X509CertificateGenerator.create>[1]>;
type SigningAlgorithm = Parameters<typeof X509CertificateGenerator.create>[0]['signingAlgorithm'];
const crypto = webcrypto as unknown as X509Crypto;

export type Random = (length: number) => Uint8Array;

const defaultRandom: Random = (n) => webcrypto.getRandomValues(new Uint8Array(n));

/** Generates a key pair for a signer algorithm; private key extractable so it can be exported. */
export async function generateKeyPair(alg: SignerAlgorithm, modulusLength = 3072): Promise<webcrypto.CryptoKeyPair> {
  const params =
    alg === 'rsa-pkcs1v15-sha256' ? { ...importParams(alg), modulusLength, publicExponent: new Uint8Array([1, 0, 1]) } : importParams(alg);
  return (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function signingAlgorithm(key: Key): SigningAlgorithm {
  const a = key.algorithm as { name: string; namedCurve?: string };
  if (a.name === 'ECDSA') return { name: 'ECDSA', hash: a.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' } as SigningAlgorithm;
  return { name: a.name };
}

function serial(random: Random): string {
  const b = random(16);
  b[0] &= 0x7f; // positive INTEGER
  b[0] |= 0x01; // and no leading zero byte to normalise away
  return toHex(b);
}

export interface IssueInput {
  subject: string;
  publicKey: Key;
  /** issuer certificate DER; omitted for a self-signed certificate */
  issuerCert?: Uint8Array;
  issuerKey: Key;
  notBefore: Date;
  notAfter: Date;
  /** true: CA with keyCertSign|cRLSign; false: end entity with digitalSignature */
  ca: boolean;
  pathLength?: number;
  /** EKU OIDs for an end entity; default [codeSigning]; [] for no EKU extension */
  extendedKeyUsage?: string[];
  /** override the keyUsage bits */
  keyUsage?: number;
  /** leave the subjectKeyIdentifier out (the kernel then cannot find the key) */
  omitSubjectKeyIdentifier?: boolean;
  random?: Random;
}

/** Issues one certificate and returns its DER. */
export async function issueCertificate(input: IssueInput): Promise<Uint8Array> {
  const random = input.random ?? defaultRandom;
  const issuer = input.issuerCert ? new X509Certificate(Uint8Array.from(input.issuerCert)) : undefined;
  const extensions: Extension[] = [
    new BasicConstraintsExtension(input.ca, input.ca ? input.pathLength : undefined, true),
    new KeyUsagesExtension(
      input.keyUsage ?? (input.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature),
      true,
    ),
  ];
  if (!input.ca) {
    const eku = input.extendedKeyUsage ?? [OID.codeSigning];
    if (eku.length > 0) extensions.push(new ExtendedKeyUsageExtension(eku, false));
  }
  if (!input.omitSubjectKeyIdentifier) extensions.push(await SubjectKeyIdentifierExtension.create(input.publicKey, false, crypto));
  const authorityKey = issuer ? await issuer.publicKey.export(crypto) : input.publicKey;
  extensions.push(await AuthorityKeyIdentifierExtension.create(authorityKey, false, crypto));
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: serial(random),
      subject: input.subject,
      issuer: issuer ? issuer.subject : input.subject,
      notBefore: input.notBefore,
      notAfter: input.notAfter,
      publicKey: input.publicKey,
      signingKey: input.issuerKey,
      signingAlgorithm: signingAlgorithm(input.issuerKey),
      extensions,
    },
    crypto,
  );
  return new Uint8Array(cert.rawData);
}

export interface CrlInput {
  issuerCert: Uint8Array;
  issuerKey: Key;
  thisUpdate: Date;
  nextUpdate: Date;
  /** serial numbers (hex) with their revocation dates */
  revoked: { serialNumber: string; date: Date }[];
}

/** Issues a CRL (DER). */
export async function issueCrl(input: CrlInput): Promise<Uint8Array> {
  const issuer = new X509Certificate(Uint8Array.from(input.issuerCert));
  const crl = await X509CrlGenerator.create(
    {
      issuer: issuer.subject,
      thisUpdate: input.thisUpdate,
      nextUpdate: input.nextUpdate,
      signingKey: input.issuerKey,
      signingAlgorithm: signingAlgorithm(input.issuerKey),
      extensions: [await AuthorityKeyIdentifierExtension.create(await issuer.publicKey.export(crypto), false, crypto)],
      entries: input.revoked.map((r) => ({ serialNumber: r.serialNumber, revocationDate: r.date, reason: X509CrlReason.keyCompromise })),
    },
    crypto,
  );
  return new Uint8Array(crl.rawData);
}

export interface DevelopmentCaInput {
  now: Date;
  random?: Random;
  /** algorithm of both keys; default ECDSA P-256 */
  algorithm?: SignerAlgorithm;
  /** validity of the signing certificate in days (the CA gets ten times as long); default 365 */
  validityDays?: number;
  name?: string;
}

export interface DevelopmentCa {
  caCert: Uint8Array;
  caKey: Key;
  signingCert: Uint8Array;
  signingKey: Key;
  /** a Signer over signingKey with signingCert's SKI */
  signer: Signer;
}

const DAY = 86_400_000;

export async function createDevelopmentCa(input: DevelopmentCaInput): Promise<DevelopmentCa> {
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
export async function toPem(label: 'CERTIFICATE' | 'X509 CRL' | 'PRIVATE KEY', value: Uint8Array | Key): Promise<string> {
  const der = value instanceof Uint8Array ? value : new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', value));
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
