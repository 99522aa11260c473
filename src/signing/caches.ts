/**
 * The memos a verification may use, owned by the caller (the service makes them bounded and
 * counts their hits and misses) and passed in: the signing core keeps no state between calls.
 * Each memo holds values that are pure functions of their key, so a hit gives what the work
 * would; a memo left out means that work is done every time, and nothing is kept.
 */
import type { KeyObject } from 'node:crypto';
import type { RE2JS } from 're2js';
import type { Certificate } from './x509/certificate.js';
import type { DecodedSignedData } from './cms/decode.js';
import type { Statement } from './statement.js';
import type { NoteVerifier } from './tlog/checkpoint.js';
import type { Bundle } from './bundle.js';

/** A map the core asks before doing pure work and tells after (shared/lru.ts's Lru is one). */
export interface Memo<K, V> {
  get(key: K): V | undefined;
  /** `weight`: the value's size for a memo bounded by weight (the key's text length, usually). */
  set(key: K, value: V, weight?: number): void;
}

export interface VerificationCaches {
  /**
   * Signatures that verified, by SHA-256 of the public key (SPKI), of the message and of the
   * signature, and the digest algorithm. Only successes are offered, so bad signatures cost their
   * verifier every time and cannot crowd out good ones.
   */
  readonly signatures?: Memo<string, true>;
  /** A public key's SHA-256 (SPKI, base64) by the key object: the signatures memo's key part. */
  readonly keyIds?: Memo<KeyObject, string>;
  /** Parsed certificates (frozen) by `pem:<text>` or `der:<base64>`. */
  readonly certificates?: Memo<string, Certificate>;
  /** Decoded CMS SignedData (deep-frozen) by the signature's base64; only those that decode. */
  readonly signedData?: Memo<string, DecodedSignedData>;
  /**
   * In-toto statements (deep-frozen, shared) by the envelope's payload text, weighed by its
   * length. The envelope's signatures are verified every time before this memo is asked.
   */
  readonly statements?: Memo<string, Statement>;
  /** Compiled RE2 identity patterns by their text. */
  readonly patterns?: Memo<string, RE2JS>;
  /** Parsed transparency-log verifier keys (frozen) by their text. */
  readonly verifierKeys?: Memo<string, NoteVerifier>;
  /**
   * What verification derives from a deep-frozen bundle (see shared/freeze), by the bundle's
   * identity: a weak map, so that a bundle's facts live exactly as long as whoever shares it.
   */
  readonly bundles?: Memo<Bundle, object>;
}
