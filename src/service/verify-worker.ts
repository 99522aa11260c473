/**
 * A verification worker thread (see VerifyPool): its own kernel profile, loaded once at start
 * from the spec the server uses, its own caches and verification memos (VerificationMemos), bounded
 * as the server's (BPFSIGN_CACHE_ENTRIES). It answers one request at a time, so the pool can end a request that
 * runs past its budget by ending the thread.
 *
 * Messages in:  { type: 'policy', id, policy }  a policy (the service's default) that requests name by id
 *               { type: 'verify', id, body, policy, at }  body: the request's bytes in segments (transferred), joined here; at: ms since the epoch
 * Messages out: { type: 'ready', profileError }  after start: why there is no profile, or null when it loaded
 *               { type: 'answer', id, answer, stats? }  answer: VerifyAnswer, its verdict as JSON text; stats: the caches' counters, now and then
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setPriority } from 'node:os';
import type { TrustPolicy } from '../signing/policy.js';
import type { KernelProfile } from '../kernel/profile/index.js';
import { LoaderCache } from './loader.js';
import { VerificationMemos, type CacheCounters, type VerificationMemoName } from './verification-caches.js';
import { loadProfile, ParsedBodies, ReplayCache, type VerificationRequest } from './verify.js';
import { answerVerification, cacheStats, type VerifyAnswer, type VerifyContext } from './verify-request.js';

export interface VerifyWorkerData {
  /** What loadProfile takes ('host', a profile directory, a vmlinux BTF file); null: no profile (replays fail, as in the server without one). */
  profile: string | null;
  cacheEntries: number;
  /** The worker thread's nice value (Linux: per thread): above the event loop's, so that on a busy machine the event loop runs first. */
  nice: number;
}

export type ToWorker =
  { type: 'policy'; id: number; policy: TrustPolicy } | { type: 'verify'; id: number; body: Uint8Array[]; policy: number; at: number };

/** The counters of a thread's caches: the content-addressed ones and the verification memos. */
export type CacheStats = Record<'loaders' | 'replays' | 'bodies', CacheCounters> & Partial<Record<VerificationMemoName, CacheCounters>>;

export type FromWorker =
  { type: 'ready'; profileError: string | null } | { type: 'answer'; id: number; answer: VerifyAnswer; stats?: CacheStats };

/** Policies a worker keeps by id: the default policy changes only when the keyring does. */
const KEPT_POLICIES = 4;
const STATS_MS = 250;

if (parentPort && (workerData as { bpfsignVerify?: VerifyWorkerData } | null)?.bpfsignVerify) {
  const port = parentPort;
  const data = (workerData as { bpfsignVerify: VerifyWorkerData }).bpfsignVerify;
  // os.setPriority(0, …) is setpriority(PRIO_PROCESS, 0, …): on Linux it changes this thread only.
  try {
    setPriority(0, data.nice);
  } catch {
    /* not allowed here: the thread keeps the process's priority */
  }
  let profile: KernelProfile | null = null;
  let profileError: string | null = null;
  if (data.profile !== null) {
    try {
      profile = loadProfile(data.profile);
    } catch (e) {
      profileError = (e as Error).message;
    }
  } else {
    profileError = 'no kernel profile configured';
  }
  const ctx: VerifyContext = {
    profile,
    replays: new ReplayCache(data.cacheEntries),
    loaders: new LoaderCache(data.cacheEntries),
    bodies: new ParsedBodies<VerificationRequest>(data.cacheEntries),
    memos: new VerificationMemos(data.cacheEntries),
  };
  const policies = new Map<number, TrustPolicy>();
  let statsAt = -Infinity;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'policy') {
      policies.set(m.id, m.policy);
      for (const id of policies.keys()) if (policies.size > KEPT_POLICIES) policies.delete(id);
      return;
    }
    const policy = policies.get(m.policy);
    const answer: VerifyAnswer = policy
      ? answerVerification(m.body.length === 1 ? m.body[0] : Buffer.concat(m.body), policy, new Date(m.at), ctx)
      : { ok: false, failure: { kind: 'thrown', name: 'Error', message: `verification worker: policy #${m.policy} was not sent` } };
    // The caches' counters, for the metrics, at most every STATS_MS (a scrape reads them seconds apart).
    const now = performance.now();
    const stats: CacheStats | undefined = now - statsAt >= STATS_MS ? cacheStats(ctx) : undefined;
    if (stats) statsAt = now;
    const out: FromWorker = { type: 'answer', id: m.id, answer, stats };
    try {
      port.postMessage(out);
    } catch (e) {
      port.postMessage({
        type: 'answer',
        id: m.id,
        stats,
        answer: {
          ok: false,
          failure: { kind: 'thrown', name: 'Error', message: `verification worker: the answer could not be sent: ${(e as Error).message}` },
        },
      } satisfies FromWorker);
    }
  });
  port.postMessage({ type: 'ready', profileError } satisfies FromWorker);
}
