/**
 * The verification pool: requests run in worker threads, each under a time budget; one past its
 * budget is answered VERIFY_BUDGET_EXCEEDED and its worker replaced; requests beyond the queue's
 * bound are turned away at once; a crashed worker costs only its own request; closing ends the
 * workers. The mechanics are tested with a stand-in worker (verify-pool-worker.ts) that spins or
 * exits when told, then the real worker is held to the same answers as verification on the
 * event loop.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VerifyPool, VerifyPoolError, inlineVerifier, type Verifier } from '../../src/service/verify-pool.js';
import type { VerifyAnswer } from '../../src/service/verify-request.js';
import { FifoGate } from '../../src/service/fifo.js';
import { LoaderCache } from '../../src/service/loader.js';
import { ParsedBodies, ReplayCache } from '../../src/service/verify.js';
import { FIXTURES } from '../support/objects.js';
import { parsePolicy, type TrustPolicy } from '../../src/signing/policy.js';
import { bearer, buildTestApp, testProfile, TOKENS } from '../api/helper.js';

const STAND_IN = new URL('./verify-pool-worker.js', import.meta.url);
/** A policy for the stand-in worker, which reads only its name (its root is never parsed). */
const standIn = (name: string): TrustPolicy =>
  parsePolicy({ version: 1, name, roots: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'] });
const policy = standIn('p');
const body = (s: string) => new Uint8Array(Buffer.from(s));
const text = (a: VerifyAnswer) => (a.ok ? a.json : `failure ${a.failure.kind}`);

function pool(opts: Partial<ConstructorParameters<typeof VerifyPool>[0]> = {}): VerifyPool {
  const p = new VerifyPool({ workers: 1, budgetMs: 10_000, maxQueue: 16, profile: null, cacheEntries: 4, workerUrl: STAND_IN, ...opts });
  after(() => p.close());
  return p;
}

async function failure(p: Promise<unknown>): Promise<VerifyPoolError> {
  const e = await p.then(
    () => assert.fail('expected the pool to refuse'),
    (e: unknown) => e,
  );
  assert.ok(e instanceof VerifyPoolError, String(e));
  return e;
}

describe('VerifyPool', () => {
  it('answers with what the worker sends, the policy sent once per worker and named by id', async () => {
    const p = pool({ workers: 2 });
    const answers = await Promise.all(['a', 'b', 'c', 'd'].map((s) => p.verify(body(s), policy, new Date())));
    assert.deepEqual(answers.map(text), ['a', 'b', 'c', 'd']);
    assert.deepEqual(
      answers.map((a) => a.ok && a.verdict),
      ['p', 'p', 'p', 'p'],
    );
    assert.equal(p.stats.workers, 2);
  });

  it('starts no worker until the first request, then one, and more only while requests wait, up to its bound', async () => {
    const p = pool({ workers: 3, cacheEntries: 0, maxQueue: 64 });
    assert.equal(p.stats.workers, 0, 'a pool that has verified nothing holds no worker');
    await p.verify(body('one'), policy, new Date());
    assert.equal(p.stats.workers, 1, 'requests that do not wait start no worker');
    const answers = await Promise.all(Array.from({ length: 24 }, () => p.verify(body('spin:50'), policy, new Date())));
    assert.equal(answers.filter((a) => a.ok).length, 24);
    assert.equal(p.stats.workers, 3, 'waiting requests started workers up to the bound, and no more');
  });

  it('stops a request past its budget with VERIFY_BUDGET_EXCEEDED, and the next one runs on a fresh worker', async () => {
    const p = pool({ budgetMs: 200 });
    const e = await failure(p.verify(body('spin:60000'), policy, new Date()));
    assert.equal(e.code, 'VERIFY_BUDGET_EXCEEDED');
    assert.deepEqual(e.details, { budgetMs: 200 });
    assert.match(e.message, /200 ms/);
    assert.equal(text(await p.verify(body('after'), policy, new Date())), 'after');
    assert.deepEqual([p.stats.timeouts, p.stats.restarts, p.stats.workers], [1, 1, 1]);
  });

  it('gives the requests behind a stopped one, sent to its worker or waiting, to the fresh worker instead of failing them with it', async () => {
    const p = pool({ budgetMs: 200 });
    await p.ready();
    const slow = failure(p.verify(body('spin:60000'), policy, new Date()));
    // Sent into the busy worker's port, then to the fresh worker when that one is ended.
    const next = [p.verify(body('next'), policy, new Date()), p.verify(body('queued'), policy, new Date())];
    assert.equal(p.stats.running, 1);
    assert.equal(p.stats.waiting, 2);
    assert.equal((await slow).code, 'VERIFY_BUDGET_EXCEEDED');
    assert.deepEqual((await Promise.all(next)).map(text), ['next', 'queued']);
  });

  it('turns requests beyond the queue bound away at once with a Retry-After, and still answers those it took', async () => {
    const p = pool({ maxQueue: 2 });
    await p.ready();
    // One running, one waiting in the worker's port, two in the queue.
    const taken = ['spin:300', 'w1', 'w2', 'w3'].map((s) => p.verify(body(s), policy, new Date()));
    const e = await failure(p.verify(body('w4'), policy, new Date()));
    assert.equal(e.code, 'VERIFY_QUEUE_FULL');
    assert.ok(e.retryAfterSeconds !== undefined && e.retryAfterSeconds >= 1, `Retry-After ${e.retryAfterSeconds}`);
    assert.deepEqual(e.details, { waiting: 2, maxQueue: 2 });
    assert.deepEqual((await Promise.all(taken)).map(text), ['spin:300', 'w1', 'w2', 'w3']);
    assert.equal(p.stats.rejected, 1);
    assert.equal(p.stats.maxWaiting, 2);
  });

  it('fails only the request whose worker crashed, and starts another worker', async () => {
    const p = pool();
    const e = await failure(p.verify(body('exit'), policy, new Date()));
    assert.equal(e.code, 'VERIFY_UNAVAILABLE');
    assert.match(e.message, /exit code 3/);
    assert.equal(text(await p.verify(body('again'), policy, new Date())), 'again');
  });

  it('moves a body (or each of its segments) that owns its buffer to the worker, and copies a slice of a shared one', async () => {
    const p = pool();
    const own = body('x'.repeat(10_000));
    assert.equal(own.byteLength, own.buffer.byteLength);
    await p.verify(own, policy, new Date());
    assert.equal(own.byteLength, 0, 'transferred: the caller no longer holds it');
    const shared = Buffer.from('ab'); // a slice of Node's shared pool
    assert.notEqual(shared.byteLength, shared.buffer.byteLength);
    assert.equal(text(await p.verify(shared, policy, new Date())), 'ab');
    assert.equal(shared.toString(), 'ab', 'the shared buffer is left as it was');
    const segments = [body('seg'), body('ments'), Buffer.from('!')];
    assert.equal(text(await p.verify(segments, policy, new Date())), 'segments!', 'segments are joined in order');
    assert.deepEqual(
      segments.map((b) => b.byteLength),
      [0, 0, 1],
      'the segments of their own were moved, the shared one copied',
    );
  });

  it('verifies a body at the start of its second, once per body, policy and second', async () => {
    const p = pool();
    const at = (ms: number) => p.verify(body('at'), policy, new Date(ms));
    assert.equal(text(await at(4_000_000)), '4000000', 'a first sight, not kept');
    assert.equal(text(await at(5_000_300)), '5000000', 'checked at the start of the second');
    assert.equal(text(await at(5_000_700)), '5000000');
    assert.deepEqual(p.stats.answers, { hits: 1, misses: 2, evictions: 0, entries: 1 });
    assert.equal(text(await at(5_001_100)), '5001000', 'the next second is verified again');
    assert.equal(text(await p.verify(body('at'), standIn('other'), new Date(5_001_100))), '5001000');
    assert.equal(p.stats.answers?.misses, 4, 'another policy is another verification');
  });

  it('lets requests for the same body in the same second wait for the one running', async () => {
    const p = pool({ workers: 2 });
    // At the start of a second: late in one, an answer given starts the next second's (AnswerMemo).
    const now = new Date(7_000_000);
    await p.verify(body('spin:1'), policy, now);
    const [a, b] = await Promise.all([p.verify(body('spin:1'), policy, now), p.verify(body('spin:1'), policy, now)]);
    assert.equal(a, b, "the second request is given the first one's answer");
    assert.deepEqual([p.stats.answers?.hits, p.stats.answers?.misses], [1, 2], 'after its first sight, one verification');
  });

  it('keeps no refusal: a body stopped at its budget is verified again when asked again', async () => {
    const p = pool({ budgetMs: 100 });
    const now = new Date();
    assert.equal((await failure(p.verify(body('spin:60000'), policy, now))).code, 'VERIFY_BUDGET_EXCEEDED');
    assert.equal((await failure(p.verify(body('spin:60000'), policy, now))).code, 'VERIFY_BUDGET_EXCEEDED');
    assert.equal(p.stats.timeouts, 2);
  });

  it('keeps no answers with the caches off', async () => {
    const p = pool({ cacheEntries: 0 });
    const now = new Date();
    await p.verify(body('x'), policy, now);
    await p.verify(body('x'), policy, now);
    assert.equal(p.stats.answers, undefined);
  });

  it('on close, ends its workers and answers the waiting requests VERIFY_UNAVAILABLE', async () => {
    const p = pool();
    await p.ready();
    const running = failure(p.verify(body('spin:60000'), policy, new Date()));
    const waiting = failure(p.verify(body('w'), policy, new Date()));
    await p.close();
    assert.equal((await running).code, 'VERIFY_UNAVAILABLE');
    assert.equal((await waiting).code, 'VERIFY_UNAVAILABLE');
    assert.equal((await failure(p.verify(body('late'), policy, new Date()))).code, 'VERIFY_UNAVAILABLE');
  });
});

describe('the verification worker', () => {
  it('gives the same answers, byte for byte, as verification on the event loop', async () => {
    const t = await buildTestApp();
    const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
    const made = await t.app.inject({
      method: 'POST',
      url: '/v1/loaders?name=xdp_filter',
      headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
      payload: obj,
    });
    assert.equal(made.statusCode, 201, made.body);
    const bundle = made.json().bundle;
    const ca = (await t.app.inject({ url: '/v1/keys' })).json().caCertificate as string;
    const defaultPolicy = await t.app.services.signing.defaultPolicy();
    const spec = existsSync('/sys/kernel/btf/vmlinux') ? '/sys/kernel/btf/vmlinux' : join(FIXTURES, 'profiles/linux-6.18-min/vmlinux.btf');
    const workers = new VerifyPool({ workers: 1, budgetMs: 60_000, maxQueue: 16, profile: spec, cacheEntries: 8 });
    after(() => workers.close());
    const inline: Verifier = inlineVerifier(
      { profile: testProfile(), loaders: new LoaderCache(8), replays: new ReplayCache(8), bodies: new ParsedBodies(8) },
      new FifoGate(),
    );
    const bodies = [
      JSON.stringify({ bundle }),
      JSON.stringify({ bundle, object: obj.toString('base64') }),
      JSON.stringify({
        bundle,
        policy: { version: 1, name: 'tight', roots: [ca], checks: { transparencyLog: 'skip' }, allowed: { mapTypes: ['ARRAY'] } },
      }),
      JSON.stringify({ bundle, policy: 'nope' }),
      JSON.stringify({ bundle, policy: { version: 1, name: 'inline', roots: 'not a list' } }),
      JSON.stringify({ bundle: { mediaType: 'nope' } }),
      '{"bundle":',
      '',
      '{"bundle":{},"__proto__":{"ok":true}}',
      '{"bundle":{},"object":"not base64!"}',
      '\ufeff{"bundle":{}}',
    ];
    const at = new Date();
    for (const b of [...bodies, ...bodies]) {
      const [w, i] = [await workers.verify(body(b), defaultPolicy, at), await inline.verify(body(b), defaultPolicy, at)];
      if (w.ok && i.ok) {
        assert.equal(Buffer.from(w.json).toString('utf8'), Buffer.from(i.json).toString('utf8'), b.slice(0, 80));
        assert.equal(w.verdict, i.verdict);
      } else {
        assert.deepEqual(w, i, b.slice(0, 80));
      }
    }
    // The worker reports its caches' counters with an answer at most every 250 ms.
    await new Promise((r) => setTimeout(r, 300));
    const last = await workers.verify(body(bodies[0]), defaultPolicy, at);
    assert.ok(last.ok && last.verdict === 'OK', text(last));
    assert.ok(workers.stats.caches.replays.hits > 0, 'the worker keeps its own replay cache');
  });
});
