/**
 * A stand-in verification worker for the pool's tests: it speaks verify-worker's protocol and
 * does what the body says, so budgets, crashes and queues can be tested without depending on
 * how long a real verification takes. Bodies: `spin:MS` keeps the CPU busy for MS ms, then
 * answers; `exit` ends the thread; `at` answers with the time it was asked to check at (ms); anything else is answered at once with the body itself as
 * the verdict's bytes and the policy's name as the verdict.
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../../src/service/verify-worker.js';

const noStats = { hits: 0, misses: 0, evictions: 0, entries: 0 };
const policies = new Map<number, { name: string }>();
parentPort!.on('message', (m: ToWorker) => {
  if (m.type === 'policy') {
    policies.set(m.id, m.policy);
    return;
  }
  const text = Buffer.concat(m.body).toString('utf8');
  if (text === 'exit') process.exit(3);
  const spin = /^spin:(\d+)$/.exec(text);
  if (spin)
    for (const end = performance.now() + Number(spin[1]); performance.now() < end;) {
      /* busy */
    }
  const json = text === 'at' ? String(m.at) : text;
  const out: FromWorker = {
    type: 'answer',
    id: m.id,
    answer: { ok: true, json, verdict: policies.get(m.policy)?.name ?? 'no policy', seconds: 0 },
    stats: { loaders: noStats, replays: noStats, bodies: noStats },
  };
  parentPort!.postMessage(out);
});
parentPort!.postMessage({ type: 'ready', profileError: null } satisfies FromWorker);
