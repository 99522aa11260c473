/**
 * Verification off the event loop. A verification is CPU-bound from the body's JSON parse to the
 * verdict's bytes (the signature and chain checks, the loader's replay in the kernel model, the
 * re-derivation from an object) and some inputs make it arbitrarily slow (a policy's identity
 * regular expression that backtracks: one froze the server for 114 s). VerifyPool runs each
 * request in one of N worker threads (verify-worker.ts), one request per worker at a time, with
 * a time budget: a request still running when its budget ends gets VERIFY_BUDGET_EXCEEDED and
 * its worker is ended (worker.terminate stops even a running regular expression) and replaced by
 * a fresh one. Requests beyond the workers wait in a bounded FIFO queue; past its bound they get
 * VERIFY_QUEUE_FULL at once. The event loop only moves bytes: the body is transferred to the
 * worker and the verdict's JSON bytes back.
 *
 * inlineVerifier answers the same requests on the event loop, through the FIFO gate (the service
 * without workers, and tests that build the app around a profile they hold): no budget there.
 */
import { Worker } from 'node:worker_threads';
import type { TrustPolicy } from '../signing/policy.js';
import type { FifoGate } from './fifo.js';
import { answerVerification, type VerifyAnswer, type VerifyContext } from './verify-request.js';
import type { CacheStats, FromWorker, ToWorker, VerifyWorkerData } from './verify-worker.js';

export type VerifyPoolErrorCode = 'VERIFY_BUDGET_EXCEEDED' | 'VERIFY_QUEUE_FULL' | 'VERIFY_UNAVAILABLE';

/** A request the pool did not answer: over its budget, the queue full, or no worker to run it (closing, or workers that cannot start). */
export class VerifyPoolError extends Error {
  override readonly name = 'VerifyPoolError';
  constructor(readonly code: VerifyPoolErrorCode, message: string, readonly details: Record<string, unknown> = {}, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

export interface VerifierStats {
  /** Worker threads (0: verification runs on the event loop). */
  workers: number;
  /** Requests being verified now, and waiting for a worker now. */
  running: number;
  waiting: number;
  /** The most requests ever waiting. */
  maxWaiting: number;
  /** Totals: requests ended at their budget, turned away with the queue full, workers started again (after a budget or a crash). */
  timeouts: number;
  rejected: number;
  restarts: number;
  /** The caches of every worker, summed (from each worker's latest answer). */
  caches: CacheStats;
}

export interface Verifier {
  /** Verifies one POST /v1/verifications body against `defaultPolicy` (or the body's own) at `at`; rejects only with VerifyPoolError. */
  verify(body: Uint8Array, defaultPolicy: TrustPolicy, at: Date): Promise<VerifyAnswer>;
  readonly stats: VerifierStats;
  /** Ends every worker; requests still waiting get VERIFY_UNAVAILABLE. */
  close(): Promise<void>;
}

export interface VerifyPoolOptions {
  /** Worker threads, at least 1. */
  workers: number;
  /** How long one request may run in its worker, in milliseconds. */
  budgetMs: number;
  /** How many requests may wait for a worker; more get VERIFY_QUEUE_FULL. */
  maxQueue: number;
  /** The kernel profile each worker loads (loadProfile's spec: 'host', a directory, a BTF file); null: none. */
  profile: string | null;
  /** Each worker's cache bound (BPFSIGN_CACHE_ENTRIES). */
  cacheEntries: number;
  /** The worker's module (tests may give another); default verify-worker.js beside this one. */
  workerUrl?: URL;
}

interface Job {
  body: Uint8Array;
  policy: TrustPolicy;
  at: number;
  resolve: (a: VerifyAnswer) => void;
  reject: (e: VerifyPoolError) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  jobId: number;
  started: number;
  timer: NodeJS.Timeout | null;
  /** Policy ids this worker holds. */
  policies: Set<number>;
  /** Ended by the pool (budget or close): its exit is expected. */
  ended: boolean;
}

const noStats = () => ({ hits: 0, misses: 0, evictions: 0, entries: 0 });
const emptyCaches = (): CacheStats => ({ loaders: noStats(), replays: noStats(), bodies: noStats() });

export class VerifyPool implements Verifier {
  readonly #opts: VerifyPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #policyIds = new WeakMap<TrustPolicy, number>();
  readonly #caches = new Map<Worker, CacheStats>();
  #nextPolicy = 1;
  #nextJob = 1;
  #closed = false;
  /** Seconds a request takes in its worker, smoothed (for Retry-After). */
  #meanSeconds = 0.002;
  /** Workers that exited before they were ready, in a row: a worker that cannot start fails the waiting requests instead of retrying forever. */
  #failedStarts = 0;
  #maxWaiting = 0;
  #timeouts = 0;
  #rejected = 0;
  #restarts = 0;

  constructor(opts: VerifyPoolOptions) {
    if (!(opts.workers >= 1)) throw new RangeError(`VerifyPool: workers ${opts.workers}, want at least 1`);
    this.#opts = opts;
    for (let i = 0; i < opts.workers; i++) this.#slots.push(this.#spawn());
  }

  get stats(): VerifierStats {
    const caches = emptyCaches();
    for (const c of this.#caches.values()) {
      for (const k of ['loaders', 'replays', 'bodies'] as const) for (const f of ['hits', 'misses', 'evictions', 'entries'] as const) caches[k][f] += c[k][f];
    }
    return {
      workers: this.#slots.length, running: this.#slots.filter((s) => s.job).length, waiting: this.#queue.length, maxWaiting: this.#maxWaiting,
      timeouts: this.#timeouts, rejected: this.#rejected, restarts: this.#restarts, caches,
    };
  }

  /** Resolves when every worker has loaded its profile (the service answers without waiting for this; tests and benches may). */
  async ready(): Promise<void> {
    while (!this.#closed && this.#slots.some((s) => !s.ready)) await new Promise((r) => setTimeout(r, 10));
  }

  verify(body: Uint8Array, policy: TrustPolicy, at: Date): Promise<VerifyAnswer> {
    return new Promise<VerifyAnswer>((resolve, reject) => {
      if (this.#closed) return reject(new VerifyPoolError('VERIFY_UNAVAILABLE', 'the verification workers are stopping'));
      const idle = this.#slots.some((s) => s.ready && !s.job);
      if (!idle && this.#queue.length >= this.#opts.maxQueue) {
        this.#rejected++;
        const retry = Math.max(1, Math.ceil((this.#queue.length * this.#meanSeconds) / this.#slots.length));
        return reject(new VerifyPoolError('VERIFY_QUEUE_FULL', `${this.#queue.length} verifications are waiting for a worker (at most ${this.#opts.maxQueue}); try again later`,
          { waiting: this.#queue.length, maxQueue: this.#opts.maxQueue }, retry));
      }
      this.#queue.push({ body, policy, at: at.getTime(), resolve, reject });
      this.#maxWaiting = Math.max(this.#maxWaiting, this.#queue.length);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new VerifyPoolError('VERIFY_UNAVAILABLE', 'the verification workers are stopping'));
    await Promise.all(this.#slots.map((s) => {
      s.ended = true;
      if (s.timer) clearTimeout(s.timer);
      s.job?.reject(new VerifyPoolError('VERIFY_UNAVAILABLE', 'the verification workers are stopping'));
      s.job = null;
      return s.worker.terminate();
    }));
  }

  #spawn(): Slot {
    const data: VerifyWorkerData = { profile: this.#opts.profile, cacheEntries: this.#opts.cacheEntries };
    const worker = new Worker(this.#opts.workerUrl ?? new URL('./verify-worker.js', import.meta.url), { workerData: { bpfsignVerify: data } });
    // The HTTP server keeps the process alive; idle workers need not.
    worker.unref();
    const slot: Slot = { worker, ready: false, job: null, jobId: 0, started: 0, timer: null, policies: new Set(), ended: false };
    worker.on('message', (m: FromWorker) => this.#onMessage(slot, m));
    // An uncaught error in the worker ends it; 'exit' follows and handles both.
    worker.on('error', () => undefined);
    worker.on('exit', (code) => this.#onExit(slot, code));
    return slot;
  }

  #onMessage(slot: Slot, m: FromWorker): void {
    if (slot.ended) return;
    if (m.type === 'ready') {
      slot.ready = true;
      this.#failedStarts = 0;
      this.#dispatch();
      return;
    }
    if (!slot.job || m.id !== slot.jobId) return;
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    this.#meanSeconds = 0.9 * this.#meanSeconds + 0.1 * ((performance.now() - slot.started) / 1000);
    this.#caches.set(slot.worker, m.stats);
    job.resolve(m.answer);
    this.#dispatch();
  }

  #onExit(slot: Slot, code: number): void {
    this.#caches.delete(slot.worker);
    if (slot.ended || this.#closed) return;
    // Not ended by the pool: the worker crashed (out of memory, a native fault) or could not start.
    slot.ended = true;
    if (slot.timer) clearTimeout(slot.timer);
    slot.job?.reject(new VerifyPoolError('VERIFY_UNAVAILABLE', `the verification worker stopped (exit code ${code}) while verifying this request`));
    slot.job = null;
    if (!slot.ready && ++this.#failedStarts >= 3) {
      for (const job of this.#queue.splice(0)) job.reject(new VerifyPoolError('VERIFY_UNAVAILABLE', `verification workers do not start (exit code ${code}); see the server's log`));
    }
    const i = this.#slots.indexOf(slot);
    // A worker that could not start is tried again after a pause, not in a loop.
    setTimeout(() => { if (!this.#closed && i >= 0) { this.#restarts++; this.#slots[i] = this.#spawn(); } }, slot.ready ? 0 : 1000).unref();
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.ready && !slot.job && !slot.ended) this.#send(slot, this.#queue.shift()!);
    }
  }

  #send(slot: Slot, job: Job): void {
    let pid = this.#policyIds.get(job.policy);
    if (pid === undefined) this.#policyIds.set(job.policy, (pid = this.#nextPolicy++));
    if (!slot.policies.has(pid)) {
      slot.worker.postMessage({ type: 'policy', id: pid, policy: job.policy } satisfies ToWorker);
      slot.policies.add(pid);
    }
    slot.job = job;
    slot.jobId = this.#nextJob++;
    slot.started = performance.now();
    // The body's own buffer moves to the worker (the request holds nothing else of it); a slice of
    // a shared one (Node's pool of small buffers) is copied first.
    const b = job.body;
    const own = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
    const body = own ? b : new Uint8Array(b);
    slot.worker.postMessage({ type: 'verify', id: slot.jobId, body, policy: pid, at: job.at } satisfies ToWorker, [body.buffer as ArrayBuffer]);
    job.body = EMPTY;
    slot.timer = setTimeout(() => this.#overBudget(slot), this.#opts.budgetMs);
  }

  #overBudget(slot: Slot): void {
    const job = slot.job;
    if (!job || slot.ended) return;
    this.#timeouts++;
    slot.ended = true;
    slot.job = null;
    slot.timer = null;
    job.reject(new VerifyPoolError('VERIFY_BUDGET_EXCEEDED', `verification ran past its budget of ${this.#opts.budgetMs} ms and was stopped`, { budgetMs: this.#opts.budgetMs }));
    void slot.worker.terminate();
    const i = this.#slots.indexOf(slot);
    if (i >= 0 && !this.#closed) {
      this.#restarts++;
      this.#slots[i] = this.#spawn();
    }
  }
}

const EMPTY = new Uint8Array(0);

/** The same answers on the event loop, one request per turn of the FIFO gate; no budget (nothing can stop a running verification there). */
export function inlineVerifier(ctx: VerifyContext, gate: FifoGate): Verifier {
  return {
    verify: (body, policy, at) => gate.run(() => answerVerification(body, policy, at, ctx)),
    get stats(): VerifierStats {
      return {
        workers: 0, running: 0, waiting: gate.waiting, maxWaiting: gate.maxWaiting, timeouts: 0, rejected: 0, restarts: 0,
        caches: { loaders: ctx.loaders.stats, replays: ctx.replays.stats, bodies: ctx.bodies.stats },
      };
    },
    close: async () => undefined,
  };
}
