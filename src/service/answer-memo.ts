/**
 * Answers to verification requests, kept for the wall-clock second they were asked in.
 *
 * A verification is a pure function of its body's bytes, the policy and the time the chain is
 * checked at. The pool checks every request at its second (X.509 and CRL times have no finer
 * grain), so two requests with the same bytes and policy in the same second get the same answer:
 * the second one is given the first one's (or waits for it, while it is still running) instead of
 * crossing to a worker again. This is also what keeps one body repeated by many clients (a CI
 * fleet verifying one release, or one slow input sent again and again) to one verification per
 * second. A rejection (budget, queue full, closing) is not kept: the next request tries again.
 *
 * Most bodies come once (a CI gate's new bundle), and keeping their answers cost more than it
 * saved: a verdict of 27 KB kept for each lived long enough to reach the old space, and with the
 * SHA-256 of each body that was a fifth of a verification's CPU with two processes on two cores.
 * So a body is first told apart by a fingerprint (policy, length, CRC-32: a few microseconds for
 * 50 KB) and only a body whose fingerprint was seen lately is hashed and its answer kept. A
 * fingerprint only admits a body to the memo, never answers it: two bodies of one fingerprint are
 * told apart by their SHA-256, so a body made to collide with another gets its own verification.
 * The price: a body's first sight and its second are two verifications, however close together.
 * Answers are dropped when their second has passed, since they can never be given again.
 *
 * A body asked for again and again gets the next second's verification started a little before
 * that second comes (AHEAD_MS): still checked at the start of its own second, only computed
 * earlier, as an answer kept within a second is computed before the requests it answers.
 */
import { createHash } from 'node:crypto';
import { fingerprint, Sightings } from '../shared/lru.js';

export interface AnswerMemoStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

/**
 * How long before its second ends a kept answer starts the next second's verification. Measured
 * with two processes on two cores: one verification of a known bundle took 3–25 ms in a worker
 * (its code cold, its priority below the event loops'), and every request for that bundle waited
 * for it at the turn of each second (p99 21–123 ms against 16–20 on e535906).
 */
export const AHEAD_MS = 250;

interface Entry<A> {
  second: number;
  answer: Promise<A>;
  /** Bytes the answer holds once settled (0 while running). */
  bytes: number;
}

export class AnswerMemo<A> {
  /** In the order they were asked, so the oldest second is at the head. */
  readonly #entries = new Map<string, Entry<A>>();
  /** Fingerprints of the bodies seen lately: two generations of up to maxEntries each. */
  readonly #sights: Sightings<string>;
  #bytes = 0;
  /** A body seen for the first time (not kept) counts as a miss. */
  readonly stats: AnswerMemoStats = { hits: 0, misses: 0, evictions: 0, entries: 0 };

  /**
   * @param maxEntries at most this many answers are kept (the oldest goes first)
   * @param maxBytes and at most this many bytes of settled answers (as `sizeOf` counts them)
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly sizeOf: (a: A) => number,
  ) {
    this.#sights = new Sightings(maxEntries);
  }

  /** The key of a body (its segments, in order) under a policy: the policy's id and the bytes' SHA-256. */
  static key(policyId: number, segments: readonly Uint8Array[]): string {
    const h = createHash('sha256');
    for (const s of segments) h.update(s);
    return `${policyId}:${h.digest('base64')}`;
  }

  /** What admits a body to the memo: its policy's id, its length and its CRC-32. */
  static fingerprint(policyId: number, segments: readonly Uint8Array[]): string {
    return `${policyId}:${fingerprint(segments)}`;
  }

  /**
   * The answer for a body (its segments) under a policy at `atMs` (checked at the start of its
   * second): a body whose fingerprint was not seen lately is run and not kept; otherwise the
   * answer kept for its key and second, else `run(second)`'s, kept for them (until it rejects).
   * A kept answer given in the last AHEAD_MS of its second starts the next second's verification
   * (run(second + 1)), so that a body asked for again and again finds its answer ready when the
   * second turns instead of every request waiting for one verification then.
   */
  get(policyId: number, segments: readonly Uint8Array[], atMs: number, run: (second: number) => Promise<A>): Promise<A> {
    const second = Math.floor(atMs / 1000);
    this.#dropBefore(second);
    if (!this.#sights.sight(AnswerMemo.fingerprint(policyId, segments))) {
      this.stats.misses++;
      return run(second);
    }
    const key = AnswerMemo.key(policyId, segments);
    const e = this.#entries.get(`${second}:${key}`);
    if (!e) return this.#start(key, second, run).answer;
    this.stats.hits++;
    if (atMs - second * 1000 >= 1000 - AHEAD_MS && !this.#entries.has(`${second + 1}:${key}`)) this.#start(key, second + 1, run);
    return e.answer;
  }

  /** Runs the verification of `key` at `second`, kept under `second:key` until it rejects. */
  #start(key: string, second: number, run: (second: number) => Promise<A>): Entry<A> {
    this.stats.misses++;
    const at = `${second}:${key}`;
    const entry: Entry<A> = { second, answer: run(second), bytes: 0 };
    this.#entries.set(at, entry);
    entry.answer.then(
      (a) => {
        if (this.#entries.get(at) !== entry) return;
        entry.bytes = this.sizeOf(a);
        this.#bytes += entry.bytes;
        this.#trim();
      },
      () => {
        if (this.#entries.get(at) === entry) this.#drop(at, entry);
      },
    );
    this.#trim();
    this.stats.entries = this.#entries.size;
    return entry;
  }

  /**
   * Answers of seconds before `second` can no longer be given: dropped from the head (the order
   * they were asked in) up to the first of this second or a later one.
   */
  #dropBefore(second: number): void {
    for (const [key, e] of this.#entries) {
      if (e.second >= second) break;
      this.#drop(key, e);
    }
  }

  #drop(key: string, e: Entry<A>): void {
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
    this.stats.entries = this.#entries.size;
  }

  /** Oldest first, until both bounds hold. */
  #trim(): void {
    while (this.#entries.size > this.maxEntries || this.#bytes > this.maxBytes) {
      const [key, e] = this.#entries.entries().next().value as [string, Entry<A>];
      this.#drop(key, e);
      this.stats.evictions++;
    }
  }
}
