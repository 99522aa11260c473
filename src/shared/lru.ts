/**
 * A least-recently-used map bounded by entry count and by a weight per entry (bytes, usually).
 * Only for values that are pure functions of their key: a hit must give what a miss would compute.
 */
import { crc32 } from 'node:zlib';

export class Lru<K, V> {
  /** Each entry keeps the key it was stored under (see get). */
  readonly #map = new Map<K, { key: K; value: V; weight: number }>();
  #weight = 0;
  /** Lookups that found their key, lookups that did not, entries dropped to stay in bounds. */
  readonly stats = { hits: 0, misses: 0, evictions: 0 };

  /**
   * With `secondSight`, the keys offered (set) once lately whose value was not stored: a value is
   * stored only when its key is offered again while still remembered here. Values made for
   * requests that never come again then die young, instead of living in the cache until evicted
   * and being copied into V8's old space on the way (a doorkeeper, as in TinyLFU). Remembered for
   * maxEntries to 2 × maxEntries first sights (Sightings): a key offered again only after more
   * than that would have been evicted from an LRU of maxEntries before its next use anyway. For
   * short keys (digests).
   */
  readonly #seen: Sightings<K> | null;

  constructor(
    readonly maxEntries: number,
    readonly maxWeight = Number.POSITIVE_INFINITY,
    opts: { secondSight?: boolean } = {},
  ) {
    this.#seen = opts.secondSight ? new Sightings(maxEntries) : null;
  }

  /** True when `key` was offered once lately (and forgets it); else remembers it and returns false. */
  #seenOnce(key: K): boolean {
    const seen = this.#seen!;
    if (!seen.has(key)) {
      seen.add(key);
      return false;
    }
    seen.delete(key);
    return true;
  }

  get size(): number {
    return this.#map.size;
  }
  /** The counters with the entries held now, as the service's caches report them. */
  get summary(): { hits: number; misses: number; evictions: number; entries: number } {
    return { ...this.stats, entries: this.#map.size };
  }
  get weight(): number {
    return this.#weight;
  }

  /** Whether a value is stored for `key` (not counted as a lookup, and not made recent). */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    // Re-inserted under the stored key, not the caller's: an equal string from a request would
    // otherwise replace it, be kept alive by this (old) map and be promoted to V8's old space on
    // every hit (long texts, like a signature memo's, each time).
    this.#map.delete(key);
    this.#map.set(e.key, e);
    return e.value;
  }

  /**
   * Stores the value unless it alone is heavier than the bound, the cache holds nothing, or (with
   * secondSight) its key is offered for the first time lately.
   */
  set(key: K, value: V, weight = 0): void {
    if (this.maxEntries <= 0 || weight > this.maxWeight) return;
    const old = this.#map.get(key);
    if (old === undefined && this.#seen !== null && !this.#seenOnce(key)) return;
    if (old) {
      this.#weight -= old.weight;
      this.#map.delete(key);
    }
    this.#map.set(key, { key, value, weight });
    this.#weight += weight;
    for (const [k, e] of this.#map) {
      if (this.#map.size <= this.maxEntries && this.#weight <= this.maxWeight) break;
      this.#map.delete(k);
      this.#weight -= e.weight;
      this.stats.evictions++;
    }
  }

  /** The cached value for `key`, computed by `make` (and stored) on a miss. */
  through(key: K, make: () => V, weigh: (v: V) => number = () => 0): V {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const v = make();
    this.set(key, v, weigh(v));
    return v;
  }

  clear(): void {
    this.#map.clear();
    this.#seen?.clear();
    this.#weight = 0;
  }
}

/**
 * Keys seen lately, in two generations of up to `capacity` keys each: when the newer one is full
 * it becomes the older one (the older one is forgotten), so a key is remembered for the next
 * `capacity` to 2 × `capacity` keys added after it. Adding a key again makes it new again.
 */
/**
 * A cheap fingerprint of bytes given in segments (their length and CRC-32, a few microseconds for
 * 50 KB), for a doorkeeper: it tells bodies apart for admission only, never for an answer (CRC-32
 * collisions are easy to make).
 */
export function fingerprint(segments: readonly Uint8Array[]): string {
  let crc = 0,
    length = 0;
  for (const s of segments) {
    crc = crc32(s, crc);
    length += s.byteLength;
  }
  return `${length}:${crc}`;
}

export class Sightings<K> {
  #now = new Set<K>();
  #before = new Set<K>();

  constructor(readonly capacity: number) {}

  has(key: K): boolean {
    return this.#now.has(key) || this.#before.has(key);
  }

  /** True when `key` was seen lately; remembers it as seen now either way. */
  sight(key: K): boolean {
    const seen = this.has(key);
    this.add(key);
    return seen;
  }

  add(key: K): void {
    if (this.#now.has(key)) return;
    this.#before.delete(key);
    if (this.#now.size >= this.capacity) {
      this.#before = this.#now;
      this.#now = new Set();
    }
    this.#now.add(key);
  }

  delete(key: K): void {
    this.#now.delete(key);
    this.#before.delete(key);
  }

  clear(): void {
    this.#now.clear();
    this.#before.clear();
  }
}
