/** Synchronous check that a certificate or CRL is signed by a given issuer key. */
import type { KeyObject } from 'node:crypto';
import { X509_SIGNATURE, verifyRaw } from '../algorithms.js';
import { signedStructure } from '../der.js';
import type { VerificationCaches } from '../caches.js';

/** 'ok' | 'bad' | 'unsupported' (an algorithm we do not check, e.g. RSA-PSS) */
export function checkSignedBy(
  der: Uint8Array,
  signatureAlgorithm: string,
  issuerKey: KeyObject,
  caches?: VerificationCaches,
): 'ok' | 'bad' | 'unsupported' {
  const alg = X509_SIGNATURE[signatureAlgorithm];
  if (!alg) return 'unsupported';
  const family = issuerKey.asymmetricKeyType === 'rsa' ? 'rsa' : issuerKey.asymmetricKeyType === 'ec' ? 'ec' : undefined;
  if (family !== alg.family) return 'bad';
  const { tbs, signature } = signedStructure(der);
  return verifyRaw(issuerKey, alg.digest, tbs, signature, undefined, caches) ? 'ok' : 'bad';
}
