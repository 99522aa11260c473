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
 */
import { createHash } from 'node:crypto';

export interface AnswerMemoStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

interface Entry<A> {
  second: number;
  answer: Promise<A>;
  /** Bytes the answer holds once settled (0 while running). */
  bytes: number;
}

export class AnswerMemo<A> {
  readonly #entries = new Map<string, Entry<A>>();
  #bytes = 0;
  readonly stats: AnswerMemoStats = { hits: 0, misses: 0, evictions: 0, entries: 0 };

  /**
   * @param maxEntries at most this many answers are kept (the oldest goes first)
   * @param maxBytes and at most this many bytes of settled answers (as `sizeOf` counts them)
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly sizeOf: (a: A) => number,
  ) {}

  /** The key of a body (its segments, in order) under a policy: the policy's id and the bytes' SHA-256. */
  static key(policyId: number, segments: readonly Uint8Array[]): string {
    const h = createHash('sha256');
    for (const s of segments) h.update(s);
    return `${policyId}:${h.digest('base64')}`;
  }

  /**
   * The answer for `key` at `second`: the one kept for that key and second, else `run()`'s, kept
   * for them (until it rejects).
   */
  get(key: string, second: number, run: () => Promise<A>): Promise<A> {
    const e = this.#entries.get(key);
    if (e && e.second === second) {
      this.stats.hits++;
      return e.answer;
    }
    this.stats.misses++;
    if (e) this.#drop(key, e);
    const entry: Entry<A> = { second, answer: run(), bytes: 0 };
    this.#entries.set(key, entry);
    entry.answer.then(
      (a) => {
        if (this.#entries.get(key) !== entry) return;
        entry.bytes = this.sizeOf(a);
        this.#bytes += entry.bytes;
        this.#trim();
      },
      () => {
        if (this.#entries.get(key) === entry) this.#drop(key, entry);
      },
    );
    this.#trim();
    this.stats.entries = this.#entries.size;
    return entry.answer;
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
