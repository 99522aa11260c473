/**
 * The verification memos a thread owns (the server's event loop, each verification worker): the
 * signing core's VerificationCaches, bounded, with hit, miss and eviction counters for the
 * metrics. The core keeps nothing between calls; whoever verifies passes these in.
 */
import type { KeyObject } from 'node:crypto';
import type { RE2JS } from 're2js';
import type { Memo, VerificationCaches } from '../signing/caches.js';
import type { Certificate } from '../signing/x509/certificate.js';
import type { DecodedSignedData } from '../signing/cms/decode.js';
import type { Statement } from '../signing/statement.js';
import type { NoteVerifier } from '../signing/tlog/checkpoint.js';
import type { Bundle } from '../signing/bundle.js';
import { Lru } from '../shared/lru.js';

export interface CacheCounters {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

/** The memos' names as the metrics label them. */
export const VERIFICATION_MEMOS = [
  'signatures',
  'certificates',
  'signed_data',
  'statements',
  'patterns',
  'verifier_keys',
  'bundle_facts',
] as const;
export type VerificationMemoName = (typeof VERIFICATION_MEMOS)[number];

/**
 * Values by the identity of their key, held as long as the key is (a WeakMap), with the
 * counters of a cache. Its size cannot be known: `entries` counts the values stored.
 */
class WeakMemo<K extends object, V> implements Memo<K, V> {
  readonly #map = new WeakMap<K, V>();
  readonly stats = { hits: 0, misses: 0, evictions: 0, entries: 0 };

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v === undefined) this.stats.misses++;
    else this.stats.hits++;
    return v;
  }

  set(key: K, value: V): void {
    if (!this.#map.has(key)) this.stats.entries++;
    this.#map.set(key, value);
  }
}

/**
 * Values by key, the oldest stored dropped first past `maxEntries`, with a cache's counters. For
 * the few long-lived values of the service's configuration (its roots, keys, patterns), asked for
 * on every request: a hit is one lookup, without the reordering an LRU does.
 */
class FifoMemo<K, V> implements Memo<K, V> {
  readonly #map = new Map<K, V>();
  readonly stats = { hits: 0, misses: 0, evictions: 0 };

  constructor(readonly maxEntries: number) {}

  get summary(): CacheCounters {
    return { ...this.stats, entries: this.#map.size };
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v === undefined) this.stats.misses++;
    else this.stats.hits++;
    return v;
  }

  set(key: K, value: V): void {
    if (!this.#map.has(key) && this.#map.size >= this.maxEntries) {
      this.#map.delete(this.#map.keys().next().value!);
      this.stats.evictions++;
    }
    this.#map.set(key, value);
  }
}

/**
 * Bounds: 4,096 verified signatures (short digest keys), 512 certificates, 1,024 decoded
 * signatures, 256 identity patterns and 256 log keys (a service sees few of each), and `entries`
 * statements within 32 MiB of payload text (they are as large as their manifest). Facts of
 * shared bundles live as long as the bundle's parsed body is kept (ParsedBodies, bounded by the
 * same `entries`). With `entries` 0 the memos of what a request brings (verified signatures,
 * statements, bundle facts) are off; those of what the service's configuration brings
 * (certificates, decoded signatures, patterns, log keys: a few of each) stay on.
 */
export class VerificationMemos implements VerificationCaches {
  readonly signatures?: Lru<string, true>;
  readonly keyIds?: WeakMap<KeyObject, string>;
  readonly certificates = new FifoMemo<string, Certificate>(512);
  readonly signedData = new Lru<string, DecodedSignedData>(1024);
  readonly statements?: Lru<string, Statement>;
  readonly patterns = new FifoMemo<string, RE2JS>(256);
  readonly verifierKeys = new FifoMemo<string, NoteVerifier>(256);
  readonly bundles?: WeakMemo<Bundle, object>;

  /** `entries`: BPFSIGN_CACHE_ENTRIES (0: see above). */
  constructor(entries = 64) {
    if (entries <= 0) return;
    this.signatures = new Lru(4096);
    this.keyIds = new WeakMap();
    this.statements = new Lru(entries, 32 << 20);
    this.bundles = new WeakMemo();
  }

  /** Every memo's counters now (zero for a memo that is off). */
  get stats(): Record<VerificationMemoName, CacheCounters> {
    const of = (m: { summary: CacheCounters } | undefined): CacheCounters =>
      m ? m.summary : { hits: 0, misses: 0, evictions: 0, entries: 0 };
    return {
      signatures: of(this.signatures),
      certificates: of(this.certificates),
      signed_data: of(this.signedData),
      statements: of(this.statements),
      patterns: of(this.patterns),
      verifier_keys: of(this.verifierKeys),
      bundle_facts: this.bundles ? { ...this.bundles.stats } : of(undefined),
    };
  }
}
