/**
 * Verification off the event loop. A verification is CPU-bound from the body's JSON parse to the
 * verdict's bytes (the signature and chain checks, the loader's replay in the kernel model, the
 * re-derivation from an object) and some inputs make it arbitrarily slow (a policy's identity
 * regular expression that backtracks: one froze the server for minutes). VerifyPool runs each
 * request in one of N worker threads (verify-worker.ts), one at a time per worker (the next one
 * waiting in its port: DEPTH), under a time budget: a request still running when its budget ends
 * gets VERIFY_BUDGET_EXCEEDED and its worker is ended (worker.terminate stops even a running
 * regular expression) and replaced by a fresh one, which takes the requests that were waiting
 * for the old one. Requests beyond the workers wait in a bounded FIFO queue; past its bound they
 * get VERIFY_QUEUE_FULL at once. The event loop only moves bytes: the body is transferred to the
 * worker and the verdict's JSON text back.
 *
 * inlineVerifier answers the same requests on the event loop, through the FIFO gate (the service
 * without workers, and tests that build the app around a profile they hold): no budget there.
 */
import { Worker } from 'node:worker_threads';
import { VERIFY_WORKER_LIMITS } from './memory.js';
import type { TrustPolicy } from '../signing/policy.js';
import { AnswerMemo, type AnswerMemoStats } from './answer-memo.js';
import type { FifoGate } from './fifo.js';
import { answerVerification, cacheStats, CACHE_NAMES, type VerifyAnswer, type VerifyContext } from './verify-request.js';
import type { CacheStats, FromWorker, ToWorker, VerifyWorkerData } from './verify-worker.js';

export type VerifyPoolErrorCode = 'VERIFY_BUDGET_EXCEEDED' | 'VERIFY_QUEUE_FULL' | 'VERIFY_UNAVAILABLE';

/** A request the pool did not answer: over its budget, the queue full, or no worker to run it (closing, or workers that cannot start). */
export class VerifyPoolError extends Error {
  override readonly name = 'VerifyPoolError';
  constructor(
    readonly code: VerifyPoolErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly retryAfterSeconds?: number,
  ) {
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
  /** The caches of every worker, summed (as each worker last reported them: now and then, with an answer). */
  caches: CacheStats;
  /** Answers kept for the second they were asked in (AnswerMemo), on the event loop; absent without workers or with caches off. */
  answers?: AnswerMemoStats;
}

export interface Verifier {
  /**
   * Verifies one POST /v1/verifications body (its bytes, or their segments in order) against
   * `defaultPolicy` (or the body's own) at `at`; rejects only with VerifyPoolError. The bytes are
   * the verifier's from then on (a worker takes them over).
   */
  verify(body: Uint8Array | readonly Uint8Array[], defaultPolicy: TrustPolicy, at: Date): Promise<VerifyAnswer>;
  readonly stats: VerifierStats;
  /** Ends every worker; requests still waiting get VERIFY_UNAVAILABLE. */
  close(): Promise<void>;
}

export interface VerifyPoolOptions {
  /**
   * Worker threads at most, at least 1. The first starts with the first request (or ready());
   * another each time requests wait while every worker started is ready, up to this many. A
   * process that only signs holds no worker and no profile: an idle worker and its kernel
   * profile cost about 95 MB of the resident set after 2,000 signs.
   */
  workers: number;
  /** How long one request may run in its worker, in milliseconds. */
  budgetMs: number;
  /** How many requests may wait for a worker; more get VERIFY_QUEUE_FULL. */
  maxQueue: number;
  /** The kernel profile each worker loads (loadProfile's spec: 'host', a directory, a BTF file); null: none. */
  profile: string | null;
  /** Each worker's cache bound (BPFSIGN_CACHE_ENTRIES). */
  cacheEntries: number;
  /**
   * The workers' nice value (default 10; Linux sets it per thread): the event loop, at the
   * process's own priority, runs before them when the cores are busy, so verifications cannot
   * starve it of CPU (health checks, other routes, the budget's timers).
   */
  nice?: number;
  /** Told once when a worker could not load the profile (its verifications then fail the replay check). */
  onProfileError?: (message: string) => void;
  /** The worker's module (tests may give another); default verify-worker.js beside this one. */
  workerUrl?: URL;
}

interface Job {
  body: Uint8Array[];
  bytes: number;
  policy: TrustPolicy;
  at: number;
  resolve: (a: VerifyAnswer) => void;
  reject: (e: VerifyPoolError) => void;
  /** Its id in the worker it was sent to (0 while waiting). */
  id: number;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Requests sent to this worker, in the order it answers them: the first is running, the next waits in its port. */
  sent: Job[];
  /** When the running request started (its budget counts from there). */
  started: number;
  timer: NodeJS.Timeout | null;
  /** Policy ids this worker holds. */
  policies: Set<number>;
  /** Ended by the pool (budget or close): its exit is expected. */
  ended: boolean;
}

/**
 * Requests sent to one worker before it answers the first: the next one waits in the worker's
 * port, so the worker starts it as soon as it has answered, instead of idling while the answer
 * crosses to the event loop and the next request comes back (the event loop is busy with many
 * sockets under load). Only the first runs; its budget is counted from its start.
 */
const DEPTH = 2;
/** Larger bodies wait for an idle worker instead (they are moved to it, not copied: see #send). */
const DEPTH_MAX_BYTES = 1 << 20;

/** The answer memo's bounds: entries, and bytes of verdict JSON (a verdict is a few kilobytes). */
const ANSWERS_MAX_ENTRIES = 1024;
const ANSWERS_MAX_BYTES = 16 << 20;
const answerBytes = (a: VerifyAnswer) => (a.ok ? 2 * a.json.length : 256);
const noStats = () => ({ hits: 0, misses: 0, evictions: 0, entries: 0 });
const emptyCaches = (): CacheStats => Object.fromEntries(CACHE_NAMES.map((k) => [k, noStats()])) as CacheStats;
const stopping = () => new VerifyPoolError('VERIFY_UNAVAILABLE', 'the verification workers are stopping');

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
  /** Whether the workers keep the process alive: while requests are waiting or running, not while idle. */
  #reffed = false;
  #profileErrorTold = false;
  /** Same body, same policy, same second: one verification (null with caches off). */
  readonly #answers: AnswerMemo<VerifyAnswer> | null;

  constructor(opts: VerifyPoolOptions) {
    if (!(opts.workers >= 1)) throw new RangeError(`VerifyPool: workers ${opts.workers}, want at least 1`);
    this.#opts = opts;
    this.#answers =
      opts.cacheEntries > 0
        ? new AnswerMemo<VerifyAnswer>(Math.min(opts.cacheEntries, ANSWERS_MAX_ENTRIES), ANSWERS_MAX_BYTES, answerBytes)
        : null;
  }

  get stats(): VerifierStats {
    const caches = emptyCaches();
    for (const c of this.#caches.values()) {
      for (const k of CACHE_NAMES) for (const f of ['hits', 'misses', 'evictions', 'entries'] as const) caches[k]![f] += c[k]?.[f] ?? 0;
    }
    const sent = this.#slots.reduce((n, s) => n + s.sent.length, 0),
      running = this.#slots.filter((s) => s.sent.length > 0).length;
    return {
      workers: this.#slots.length,
      running,
      waiting: this.#queue.length + sent - running,
      maxWaiting: this.#maxWaiting,
      timeouts: this.#timeouts,
      rejected: this.#rejected,
      restarts: this.#restarts,
      caches,
      ...(this.#answers ? { answers: { ...this.#answers.stats } } : {}),
    };
  }

  /**
   * Starts the first worker if none has started, and resolves when every worker started has
   * loaded its profile (the service answers without waiting for this; tests and benches may).
   */
  async ready(): Promise<void> {
    if (this.#slots.length === 0 && !this.#closed) this.#slots.push(this.#spawn());
    while (!this.#closed && this.#slots.some((s) => !s.ready)) await new Promise((r) => setTimeout(r, 10));
  }

  /**
   * The chain is checked at the start of `at`'s second (certificate and CRL times are whole
   * seconds), so the same body and policy within one second are one verification (#answers).
   */
  verify(body: Uint8Array | readonly Uint8Array[], policy: TrustPolicy, at: Date): Promise<VerifyAnswer> {
    const segments = body instanceof Uint8Array ? [body] : [...body];
    if (!this.#answers || this.#closed) return this.#run(segments, policy, Math.floor(at.getTime() / 1000));
    return this.#answers.get(this.#policyId(policy), segments, at.getTime(), (second) => this.#run(segments, policy, second));
  }

  #policyId(policy: TrustPolicy): number {
    let pid = this.#policyIds.get(policy);
    if (pid === undefined) this.#policyIds.set(policy, (pid = this.#nextPolicy++));
    return pid;
  }

  #run(segments: Uint8Array[], policy: TrustPolicy, second: number): Promise<VerifyAnswer> {
    return new Promise<VerifyAnswer>((resolve, reject) => {
      if (this.#closed) return reject(stopping());
      const room = this.#slots.some((s) => s.ready && !s.ended && s.sent.length < DEPTH);
      if (!room && this.#queue.length >= this.#opts.maxQueue) {
        this.#rejected++;
        const retry = Math.max(1, Math.ceil((this.#queue.length * this.#meanSeconds) / this.#slots.length));
        return reject(
          new VerifyPoolError(
            'VERIFY_QUEUE_FULL',
            `${this.#queue.length} verifications are waiting for a worker (at most ${this.#opts.maxQueue}); try again later`,
            { waiting: this.#queue.length, maxQueue: this.#opts.maxQueue },
            retry,
          ),
        );
      }
      this.#queue.push({
        body: segments,
        bytes: segments.reduce((n, b) => n + b.byteLength, 0),
        policy,
        at: second * 1000,
        resolve,
        reject,
        id: 0,
      });
      this.#maxWaiting = Math.max(this.#maxWaiting, this.#queue.length);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(stopping());
    await Promise.all(
      this.#slots.map((s) => {
        s.ended = true;
        if (s.timer) clearTimeout(s.timer);
        for (const job of s.sent.splice(0)) job.reject(stopping());
        return s.worker.terminate();
      }),
    );
  }

  #spawn(): Slot {
    const data: VerifyWorkerData = { profile: this.#opts.profile, cacheEntries: this.#opts.cacheEntries, nice: this.#opts.nice ?? 10 };
    const worker = new Worker(this.#opts.workerUrl ?? new URL('./verify-worker.js', import.meta.url), {
      workerData: { bpfsignVerify: data },
      resourceLimits: VERIFY_WORKER_LIMITS,
    });
    if (!this.#reffed) worker.unref();
    const slot: Slot = { worker, ready: false, sent: [], started: 0, timer: null, policies: new Set(), ended: false };
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
      if (m.profileError !== null && !this.#profileErrorTold) {
        this.#profileErrorTold = true;
        this.#opts.onProfileError?.(m.profileError);
      }
      this.#failedStarts = 0;
      this.#dispatch();
      return;
    }
    const job = slot.sent[0];
    if (!job || m.id !== job.id) return;
    slot.sent.shift();
    if (slot.timer) clearTimeout(slot.timer);
    const now = performance.now();
    this.#meanSeconds = 0.9 * this.#meanSeconds + 0.1 * ((now - slot.started) / 1000);
    // The next request sent to this worker starts now.
    slot.started = now;
    slot.timer = slot.sent.length ? setTimeout(() => this.#overBudget(slot), this.#opts.budgetMs) : null;
    if (m.stats) this.#caches.set(slot.worker, m.stats);
    job.resolve(m.answer);
    this.#dispatch();
  }

  /** A worker that ended takes its running request with it; the requests waiting in its port go back to the head of the queue. */
  #requeue(slot: Slot): void {
    const waiting = slot.sent.splice(0);
    for (const job of waiting) job.id = 0;
    this.#queue.unshift(...waiting);
  }

  #onExit(slot: Slot, code: number): void {
    this.#caches.delete(slot.worker);
    if (slot.ended || this.#closed) return;
    // Not ended by the pool: the worker crashed (out of memory, a native fault) or could not start.
    slot.ended = true;
    if (slot.timer) clearTimeout(slot.timer);
    slot.sent
      .shift()
      ?.reject(
        new VerifyPoolError('VERIFY_UNAVAILABLE', `the verification worker stopped (exit code ${code}) while verifying this request`),
      );
    this.#requeue(slot);
    if (!slot.ready && ++this.#failedStarts >= 3) {
      for (const job of this.#queue.splice(0))
        job.reject(
          new VerifyPoolError('VERIFY_UNAVAILABLE', `verification workers do not start (exit code ${code}); see the server's log`),
        );
    }
    const i = this.#slots.indexOf(slot);
    // A worker that could not start is tried again after a pause, not in a loop.
    setTimeout(
      () => {
        if (!this.#closed && i >= 0) {
          this.#restarts++;
          this.#slots[i] = this.#spawn();
          this.#dispatch();
        }
      },
      slot.ready ? 0 : 1000,
    );
    this.#dispatch();
  }

  /** Idle workers first, then one request more into each busy worker's port. */
  #dispatch(): void {
    for (let depth = 0; depth < DEPTH && this.#queue.length > 0; depth++) {
      for (const slot of this.#slots) {
        if (this.#queue.length === 0 || (depth > 0 && this.#queue[0].bytes > DEPTH_MAX_BYTES)) break;
        if (slot.ready && !slot.ended && slot.sent.length === depth) this.#send(slot, this.#queue.shift()!);
      }
    }
    // Requests wait while every worker started is ready: one worker more, up to the bound.
    if (this.#queue.length > 0 && !this.#closed && this.#slots.length < this.#opts.workers && this.#slots.every((s) => s.ready || s.ended))
      this.#slots.push(this.#spawn());
    const busy = this.#queue.length > 0 || this.#slots.some((s) => s.sent.length > 0);
    if (busy !== this.#reffed) {
      this.#reffed = busy;
      for (const s of this.#slots)
        if (busy) s.worker.ref();
        else s.worker.unref();
    }
  }

  #send(slot: Slot, job: Job): void {
    const pid = this.#policyId(job.policy);
    if (!slot.policies.has(pid)) {
      slot.worker.postMessage({ type: 'policy', id: pid, policy: job.policy } satisfies ToWorker);
      slot.policies.add(pid);
    }
    job.id = this.#nextJob++;
    const first = slot.sent.length === 0;
    slot.sent.push(job);
    if (first) {
      slot.started = performance.now();
      slot.timer = setTimeout(() => this.#overBudget(slot), this.#opts.budgetMs);
    }
    // The body's own buffer moves to a worker that starts on it at once (the request holds
    // nothing else of it). A body that waits in a busy worker's port is sent as a copy: if that
    // worker is ended over its running request, the body goes to another worker.
    // A slice of a shared buffer (Node's pool of small ones) is copied too, to its own size.
    const own = (b: Uint8Array) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
    const moved = job.body.map((b) => (first && own(b) ? b : new Uint8Array(b)));
    slot.worker.postMessage(
      { type: 'verify', id: job.id, body: moved, policy: pid, at: job.at } satisfies ToWorker,
      moved.map((b) => b.buffer as ArrayBuffer),
    );
    if (first) job.body = [];
  }

  #overBudget(slot: Slot): void {
    if (slot.ended || slot.sent.length === 0) return;
    const job = slot.sent.shift()!;
    this.#timeouts++;
    slot.ended = true;
    slot.timer = null;
    job.reject(
      new VerifyPoolError('VERIFY_BUDGET_EXCEEDED', `verification ran past its budget of ${this.#opts.budgetMs} ms and was stopped`, {
        budgetMs: this.#opts.budgetMs,
      }),
    );
    this.#requeue(slot);
    void slot.worker.terminate();
    const i = this.#slots.indexOf(slot);
    if (i >= 0 && !this.#closed) {
      this.#restarts++;
      this.#slots[i] = this.#spawn();
    }
    this.#dispatch();
  }
}

/** The same answers on the event loop, one request per turn of the FIFO gate; no budget (nothing can stop a running verification there). */
export function inlineVerifier(ctx: VerifyContext, gate: FifoGate): Verifier {
  return {
    // At the start of the second, as the pool checks.
    verify: (body, policy, at) =>
      gate.run(() => answerVerification(joined(body), policy, new Date(Math.floor(at.getTime() / 1000) * 1000), ctx)),
    get stats(): VerifierStats {
      return {
        workers: 0,
        running: 0,
        waiting: gate.waiting,
        maxWaiting: gate.maxWaiting,
        timeouts: 0,
        rejected: 0,
        restarts: 0,
        caches: cacheStats(ctx),
      };
    },
    close: async () => undefined,
  };
}

/** The body's bytes in one buffer (its segments joined). */
export function joined(body: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (body instanceof Uint8Array) return body;
  return body.length === 1 ? body[0] : Buffer.concat(body);
}
