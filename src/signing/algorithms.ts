/**
 * Algorithms the Linux PKCS#7 parser accepts, and the OIDs we put in (and accept from) CMS and
 * X.509. The kernel's `pkcs7_sig_note_pkey_algo` knows `rsaEncryption` (PKCS#1 v1.5) and
 * `ecdsa-with-SHA*` (X9.62 DER), and refuses e.g. `sha256WithRSAEncryption` with -ENOPKG, so
 * signing always writes `rsaEncryption` for RSA keys. The digest is always SHA-256 when we sign.
 */
import { createPublicKey, hash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import type { VerificationCaches } from './caches.js';

/** What a Signer produces. Signatures are in CMS encoding: PKCS#1 v1.5 bytes, or DER Ecdsa-Sig-Value. */
export type SignerAlgorithm = 'rsa-pkcs1v15-sha256' | 'ecdsa-p256-sha256' | 'ecdsa-p384-sha256';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSHA224: '1.2.840.10045.4.3.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  codeSigning: '1.3.6.1.5.5.7.3.3',
} as const;

export type DigestName = 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** Digest OIDs the kernel's pkcs7_sig_note_digest_algo accepts and node can compute. */
export const DIGEST_BY_OID: Readonly<Record<string, DigestName>> = {
  [OID.sha224]: 'sha224',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** SignerInfo.signatureAlgorithm OIDs the kernel accepts, by key family. */
export const CMS_SIGNATURE_KEY_FAMILY: Readonly<Record<string, 'rsa' | 'ec'>> = {
  [OID.rsaEncryption]: 'rsa',
  [OID.ecdsaWithSHA224]: 'ec',
  [OID.ecdsaWithSHA256]: 'ec',
  [OID.ecdsaWithSHA384]: 'ec',
  [OID.ecdsaWithSHA512]: 'ec',
};

/** X.509 certificate / CRL signature algorithms we can check, with their digest. */
export const X509_SIGNATURE: Readonly<Record<string, { family: 'rsa' | 'ec'; digest: DigestName }>> = {
  [OID.sha256WithRSAEncryption]: { family: 'rsa', digest: 'sha256' },
  [OID.sha384WithRSAEncryption]: { family: 'rsa', digest: 'sha384' },
  [OID.sha512WithRSAEncryption]: { family: 'rsa', digest: 'sha512' },
  [OID.ecdsaWithSHA256]: { family: 'ec', digest: 'sha256' },
  [OID.ecdsaWithSHA384]: { family: 'ec', digest: 'sha384' },
  [OID.ecdsaWithSHA512]: { family: 'ec', digest: 'sha512' },
};

/** The digest a signer algorithm signs with (always SHA-256: the CMS digestAlgorithm we write). */
export function signerDigest(alg: SignerAlgorithm): 'sha256' {
  void alg;
  return 'sha256';
}

/** The SignerInfo.signatureAlgorithm we write for each signer algorithm (as OpenSSL/bpftool write it). */
export function cmsSignatureAlgorithm(alg: SignerAlgorithm): { algorithm: string; nullParameters: boolean } {
  return alg === 'rsa-pkcs1v15-sha256'
    ? { algorithm: OID.rsaEncryption, nullParameters: true }
    : { algorithm: OID.ecdsaWithSHA256, nullParameters: false };
}

/**
 * The signer algorithm a public key implies, or a reason it is unusable for kernel signatures.
 * RSA 2048..4096 bits; EC on P-256 or P-384.
 */
export function algorithmOfKey(key: KeyObject): { ok: true; algorithm: SignerAlgorithm } | { ok: false; reason: string } {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength ?? 0;
    if (bits < 2048 || bits > 4096) return { ok: false, reason: `RSA key of ${bits} bits (want 2048..4096)` };
    return { ok: true, algorithm: 'rsa-pkcs1v15-sha256' };
  }
  if (key.asymmetricKeyType === 'ec') {
    if (d.namedCurve === 'prime256v1') return { ok: true, algorithm: 'ecdsa-p256-sha256' };
    if (d.namedCurve === 'secp384r1') return { ok: true, algorithm: 'ecdsa-p384-sha256' };
    return { ok: false, reason: `EC key on curve ${d.namedCurve ?? '?'} (want P-256 or P-384)` };
  }
  return { ok: false, reason: `key type ${key.asymmetricKeyType ?? '?'} (want RSA or EC)` };
}

/** Imports a SubjectPublicKeyInfo (DER). Throws node's error on garbage; callers translate. */
export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/**
 * Synchronous signature check: `signature` over `data` hashed with `digest`, RSA PKCS#1 v1.5 or
 * ECDSA with a DER signature. Returns false (never throws) for a wrong or malformed signature.
 * With `caches`, a signature that verified before answers from its signatures memo.
 */
export function verifyRaw(
  key: KeyObject,
  digest: DigestName,
  data: Uint8Array,
  signature: Uint8Array,
  dataSha256?: Uint8Array,
  caches?: VerificationCaches,
): boolean {
  return verifyOnce(
    key,
    digest,
    data,
    signature,
    () => {
      try {
        return nodeVerify(digest, data, { key, dsaEncoding: 'der' }, signature);
      } catch {
        return false;
      }
    },
    dataSha256,
    caches,
  );
}

function keyId(key: KeyObject, ids: VerificationCaches['keyIds']): string {
  let id = ids?.get(key);
  if (id === undefined) {
    id = hash('sha256', key.export({ type: 'spki', format: 'der' }), 'base64');
    ids?.set(key, id);
  }
  return id;
}

/**
 * Runs `check` unless this (key, digest, message, signature) verified before, by the caller's
 * signatures memo: verifying is a pure function of these, so a repeated verification (a CI gate
 * checking the same bundle again, the same CA signature on every bundle's certificate) answers
 * from it. Without that memo, `check` runs and nothing is hashed. `dataSha256`, when the caller
 * has it, is SHA-256(data) (saves hashing the message twice).
 */
export function verifyOnce(
  key: KeyObject,
  digest: string,
  data: Uint8Array,
  signature: Uint8Array,
  check: () => boolean,
  dataSha256?: Uint8Array,
  caches?: VerificationCaches,
): boolean {
  const verified = caches?.signatures;
  if (verified === undefined) return check();
  const d = dataSha256
    ? Buffer.from(dataSha256.buffer, dataSha256.byteOffset, dataSha256.byteLength).toString('base64')
    : hash('sha256', data, 'base64');
  const memo = `${keyId(key, caches!.keyIds)}:${digest}:${d}:${hash('sha256', signature, 'base64')}`;
  if (verified.get(memo)) return true;
  const ok = check();
  if (ok) verified.set(memo, true);
  return ok;
}
