/**
 * The service's content-addressed caches give exactly what the work would: a made loader is
 * byte-identical with and without the cache, and a replay outcome from the cache equals a fresh
 * replay. Keys cover every input, so a changed option, blob or profile is a miss.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { buildLoader, LoaderCache, type BuildOptions } from '../../src/service/loader.js';
import { deepFreeze } from '../../src/shared/freeze.js';
import { ReplayCache, replayOutcome, loadProfile, verdictJson } from '../../src/service/verify.js';
import { toPlainJson } from '../../src/shared/json.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
const opts: BuildOptions = { scheme: 'linux-6.18', name: 'xdp_filter', flavour: 'v1.7', standalone: false, mapExcl: false, host: {} };
const profile = loadProfile(join(FIXTURES, 'profiles/linux-6.18-min'));

describe('LoaderCache', () => {
  it('hands out the loader it made before for the same object and options, identical to a fresh build', () => {
    const cache = new LoaderCache(8);
    const a = cache.build(obj, 'xdp_filter.o', opts);
    const b = cache.build(new Uint8Array(obj), 'xdp_filter.o', { ...opts });
    assert.equal(a, b);
    const fresh = buildLoader(obj, 'xdp_filter.o', opts);
    assert.deepEqual(a.loader.insns, fresh.loader.insns);
    assert.deepEqual(a.loader.data, fresh.loader.data);
    assert.equal(a.header, fresh.header);
    assert.deepEqual(cache.stats, { hits: 1, misses: 1, evictions: 0, entries: 1 });
  });

  it('makes a new loader when an option, the file name or one byte of the object differs', () => {
    const cache = new LoaderCache(8);
    const a = cache.build(obj, 'xdp_filter.o', opts);
    assert.notEqual(cache.build(obj, 'xdp_filter.o', { ...opts, mapExcl: true }), a);
    assert.notEqual(cache.build(obj, 'other.o', opts), a);
    assert.notEqual(cache.build(obj, 'xdp_filter.o', { ...opts, host: { possibleCpus: 4 } }), a);
    const changed = new Uint8Array(obj);
    changed[changed.length - 1] ^= 1;
    let again: unknown = null;
    try { again = cache.build(changed, 'xdp_filter.o', opts); } catch { /* the changed object may not parse: still not the cached loader */ }
    assert.notEqual(again, a);
    assert.equal(cache.stats.hits, 0);
  });

  it('builds every time when its bound is 0', () => {
    const cache = new LoaderCache(0);
    assert.notEqual(cache.build(obj, 'xdp_filter.o', opts), cache.build(obj, 'xdp_filter.o', opts));
  });
});

describe('ReplayCache', () => {
  const built = buildLoader(obj, 'xdp_filter.o', opts);
  const planJson = toPlainJson(built.plan);
  const loader = { insns: built.loader.insns, data: built.loader.data };

  it('answers a repeated replay with the outcome a fresh replay gives (as plain JSON)', () => {
    const cache = new ReplayCache(8);
    const first = cache.outcome(loader, planJson, 'linux-6.18', profile);
    const second = cache.outcome({ insns: new Uint8Array(loader.insns), data: new Uint8Array(loader.data) }, toPlainJson(built.plan), 'linux-6.18', profile);
    assert.equal(second, first);
    assert.deepEqual(first, toPlainJson(replayOutcome(loader, planJson, 'linux-6.18', profile)));
    assert.equal(first.equal, true);
    assert.deepEqual(cache.stats, { hits: 1, misses: 1, evictions: 0, entries: 1 });
  });

  it('replays again when the blob, the plan, the scheme or the profile differ', () => {
    const cache = new ReplayCache(8);
    const ok = cache.outcome(loader, planJson, 'linux-6.18', profile);
    const data = new Uint8Array(loader.data);
    data[data.length - 1] ^= 0xff;
    assert.notEqual(cache.outcome({ insns: loader.insns, data }, planJson, 'linux-6.18', profile), ok);
    const plan = structuredClone(planJson) as { ops: { op: string; attr?: { maxEntries: number } }[] };
    plan.ops.find((o) => o.op === 'map_create')!.attr!.maxEntries += 1;
    const other = cache.outcome(loader, plan, 'linux-6.18', profile);
    assert.equal(other.equal, false, 'the changed plan is compared, not the cached one');
    assert.notEqual(cache.outcome(loader, planJson, 'linux-load-time', profile), ok);
    assert.notEqual(cache.outcome(loader, planJson, 'linux-6.18', loadProfile(join(FIXTURES, 'profiles/linux-6.18-min'))), ok);
    assert.equal(cache.stats.hits, 0);
  });

  it('keys a deep-frozen plan (the statement memo\'s) by identity, and a mutable one by its contents every time', () => {
    const cache = new ReplayCache(8);
    const frozen = deepFreeze(toPlainJson(built.plan));
    const first = cache.outcome(loader, frozen, 'linux-6.18', profile);
    assert.equal(cache.outcome(loader, frozen, 'linux-6.18', profile), first);
    const mutable = toPlainJson<{ ops: { op: string; attr?: { maxEntries: number } }[] }>(built.plan);
    assert.equal(cache.outcome(loader, mutable, 'linux-6.18', profile), first, 'equal contents, same key');
    mutable.ops.find((o) => o.op === 'map_create')!.attr!.maxEntries += 1;
    assert.equal(cache.outcome(loader, mutable, 'linux-6.18', profile).equal, false, 'the mutated plan is hashed again');
    assert.deepEqual(cache.stats, { hits: 2, misses: 2, evictions: 0, entries: 2 });
  });
});

describe('ReplayCache turned off (0 entries)', () => {
  it('replays every time and still answers the outcome\'s JSON from the bytes it made, without holding the outcome', () => {
    const built = buildLoader(obj, 'xdp_filter.o', opts);
    const cache = new ReplayCache(0);
    const loader = { insns: built.loader.insns, data: built.loader.data };
    const a = cache.outcome(loader, toPlainJson(built.plan), 'linux-6.18', profile);
    const b = cache.outcome(loader, toPlainJson(built.plan), 'linux-6.18', profile);
    assert.notEqual(a, b);
    assert.deepEqual(a, b);
    assert.deepEqual(cache.stats, { hits: 0, misses: 2, evictions: 0, entries: 0 });
    assert.equal(cache.json(a).toString('utf8'), JSON.stringify(a));
    assert.deepEqual(Object.getOwnPropertySymbols(a).map((s) => Object.getOwnPropertyDescriptor(a, s)?.enumerable), [false], 'the bytes ride along unseen by JSON and key listings');
  });
});

describe('verdictJson', () => {
  it('writes the text JSON.stringify gives, with the replay report from the cache', () => {
    const built = buildLoader(obj, 'xdp_filter.o', opts);
    const cache = new ReplayCache(8);
    const replay = cache.outcome({ insns: built.loader.insns, data: built.loader.data }, toPlainJson(built.plan), 'linux-6.18', profile);
    const v = { verdict: 'OK' as const, ok: true, policy: 'p', checks: [], signer: null, scheme: 'linux-6.18', replay };
    assert.equal(verdictJson(v, cache).toString('utf8'), JSON.stringify(v));
    assert.equal(verdictJson(v).toString('utf8'), JSON.stringify(v));
    assert.equal(verdictJson({ ...v, replay: null }).toString('utf8'), JSON.stringify({ ...v, replay: null }));
  });
});
