/**
 * What the signing core needs from a key: an algorithm, the subjectKeyIdentifier of its
 * certificate (the CMS `sid`, which is how the kernel finds the key in its keyring), and a
 * `sign` that never reveals the private key. Implementations: WebCrypto keys, PEM files
 * (decoded by the caller), PKCS#11 tokens.
 */
import type { SignerAlgorithm } from '../algorithms.js';
import type { SignPath } from './primitive.js';

export interface Signer {
  readonly algorithm: SignerAlgorithm;
  /** raw bytes of the signing certificate's subjectKeyIdentifier extension */
  readonly subjectKeyIdentifier: Uint8Array;
  /**
   * Signs `data`: hashes it with SHA-256 and returns the signature in CMS/X.509 encoding
   * (PKCS#1 v1.5 bytes for RSA, DER Ecdsa-Sig-Value for ECDSA).
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** for in-process keys: which primitive signs ('native' addon or 'node' crypto); absent for tokens */
  readonly signPath?: SignPath;
}
