/** A Signer over a WebCrypto private key (node:crypto's webcrypto). */
import { KeyObject, webcrypto } from 'node:crypto';
import type { SignerAlgorithm } from '../algorithms.js';
import { SigningError } from '../errors.js';
import { signPrimitive, type SignPathChoice } from './primitive.js';
import type { Signer } from './signer.js';

type Key = webcrypto.CryptoKey;

/** The signer algorithm of a WebCrypto private key, or KEY_UNSUPPORTED. */
export function algorithmOfCryptoKey(key: Key): SignerAlgorithm {
  const a = key.algorithm as { name: string; namedCurve?: string; modulusLength?: number; hash?: { name: string } };
  if (a.name === 'ECDSA' && a.namedCurve === 'P-256') return 'ecdsa-p256-sha256';
  if (a.name === 'ECDSA' && a.namedCurve === 'P-384') return 'ecdsa-p384-sha256';
  if (
    a.name === 'RSASSA-PKCS1-v1_5' &&
    a.hash?.name === 'SHA-256' &&
    a.modulusLength &&
    a.modulusLength >= 2048 &&
    a.modulusLength <= 4096
  ) {
    return 'rsa-pkcs1v15-sha256';
  }
  throw new SigningError(
    'KEY_UNSUPPORTED',
    `keys: ${a.name} ${a.namedCurve ?? a.modulusLength ?? ''} ${a.hash?.name ?? ''} cannot make kernel signatures`,
    {
      got: a.name,
      want: 'ECDSA P-256/P-384 or RSASSA-PKCS1-v1_5 SHA-256 2048..4096',
    },
  );
}

/** The WebCrypto import parameters for a signer algorithm. */
export function importParams(alg: SignerAlgorithm): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams {
  switch (alg) {
    case 'rsa-pkcs1v15-sha256':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'ecdsa-p256-sha256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ecdsa-p384-sha256':
      return { name: 'ECDSA', namedCurve: 'P-384' };
  }
}

export interface WebCryptoSignerOptions {
  /** which signing primitive to use: 'auto' (default) takes the native addon when it is built */
  signPath?: SignPathChoice;
}

export function webCryptoSigner(privateKey: Key, subjectKeyIdentifier: Uint8Array, options: WebCryptoSignerOptions = {}): Signer {
  if (privateKey.type !== 'private' || !privateKey.usages.includes('sign')) {
    throw new SigningError('KEY_INVALID', 'keys: WebCrypto key is not a private signing key', { got: privateKey.type });
  }
  const algorithm = algorithmOfCryptoKey(privateKey);
  const ski = Uint8Array.from(subjectKeyIdentifier);
  // The same key as a KeyObject, signed synchronously (native addon or node:crypto's one-shot sign): the
  // result equals WebCrypto's (PKCS#1 v1.5 is deterministic; ECDSA in DER directly), without WebCrypto's
  // per-call promise and thread-pool job.
  const primitive = signPrimitive(KeyObject.from(privateKey), algorithm, options.signPath ?? 'auto');
  return {
    algorithm,
    subjectKeyIdentifier: ski,
    signPath: primitive.path,
    async sign(data: Uint8Array): Promise<Uint8Array> {
      return primitive.sign(data);
    },
  };
}
