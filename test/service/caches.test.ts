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
import { buildLoader, LoaderCache, loaderWeight, type BuildOptions } from '../../src/service/loader.js';
import { deepFreeze } from '../../src/shared/freeze.js';
import { ParsedBodies, ReplayCache, replayOutcome, loadProfile, verdictJson } from '../../src/service/verify.js';
import { isDeepFrozen } from '../../src/shared/freeze.js';
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
    try {
      again = cache.build(changed, 'xdp_filter.o', opts);
    } catch {
      /* the changed object may not parse: still not the cached loader */
    }
    assert.notEqual(again, a);
    assert.equal(cache.stats.hits, 0);
  });

  it('builds every time when its bound is 0', () => {
    const cache = new LoaderCache(0);
    assert.notEqual(cache.build(obj, 'xdp_filter.o', opts), cache.build(obj, 'xdp_filter.o', opts));
  });

  it('drops the least recently used loader once the loaders it holds weigh more than its byte bound, whatever its entry bound', () => {
    const weight = loaderWeight(obj.length, buildLoader(obj, 'xdp_filter.o', opts));
    const cache = new LoaderCache(64, 2 * weight);
    const first = cache.build(obj, 'xdp_filter.o', { ...opts, name: 'first' });
    cache.build(obj, 'xdp_filter.o', { ...opts, name: 'second' });
    assert.deepEqual(cache.stats, { hits: 0, misses: 2, evictions: 0, entries: 2 });
    cache.build(obj, 'xdp_filter.o', { ...opts, name: 'third' });
    assert.deepEqual(cache.stats, { hits: 0, misses: 3, evictions: 1, entries: 2 });
    assert.notEqual(cache.build(obj, 'xdp_filter.o', { ...opts, name: 'first' }), first);
  });

  it('weighs a loader at more than the object it was made from', () => {
    assert.ok(loaderWeight(obj.length, buildLoader(obj, 'xdp_filter.o', opts)) > 20 * obj.length);
  });
});

describe('ReplayCache', () => {
  const built = buildLoader(obj, 'xdp_filter.o', opts);
  const planJson = toPlainJson(built.plan);
  const loader = { insns: built.loader.insns, data: built.loader.data };

  it('answers a repeated replay with the outcome a fresh replay gives (as plain JSON)', () => {
    const cache = new ReplayCache(8);
    const first = cache.outcome(loader, planJson, 'linux-6.18', profile);
    const second = cache.outcome(
      { insns: new Uint8Array(loader.insns), data: new Uint8Array(loader.data) },
      toPlainJson(built.plan),
      'linux-6.18',
      profile,
    );
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

  it("keys a deep-frozen plan (the statement memo's) by identity, and a mutable one by its contents every time", () => {
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
  it("replays every time and still answers the outcome's JSON from the bytes it made, without holding the outcome", () => {
    const built = buildLoader(obj, 'xdp_filter.o', opts);
    const cache = new ReplayCache(0);
    const loader = { insns: built.loader.insns, data: built.loader.data };
    const a = cache.outcome(loader, toPlainJson(built.plan), 'linux-6.18', profile);
    const b = cache.outcome(loader, toPlainJson(built.plan), 'linux-6.18', profile);
    assert.notEqual(a, b);
    assert.deepEqual(a, b);
    assert.deepEqual(cache.stats, { hits: 0, misses: 2, evictions: 0, entries: 0 });
    assert.equal(cache.json(a), JSON.stringify(a));
    assert.deepEqual(
      Object.getOwnPropertySymbols(a).map((s) => Object.getOwnPropertyDescriptor(a, s)?.enumerable),
      [false],
      'the text rides along unseen by JSON and key listings',
    );
  });
});

describe('verdictJson', () => {
  it('writes the text JSON.stringify gives, with the replay report from the cache', () => {
    const built = buildLoader(obj, 'xdp_filter.o', opts);
    const cache = new ReplayCache(8);
    const replay = cache.outcome({ insns: built.loader.insns, data: built.loader.data }, toPlainJson(built.plan), 'linux-6.18', profile);
    const v = { verdict: 'OK' as const, ok: true, policy: 'p', checks: [], signer: null, scheme: 'linux-6.18', replay };
    assert.equal(verdictJson(v, cache), JSON.stringify(v));
    assert.equal(verdictJson(v), JSON.stringify(v));
    assert.equal(verdictJson({ ...v, replay: null }), JSON.stringify({ ...v, replay: null }));
  });
});

describe('ParsedBodies', () => {
  const text = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const parseJson = (raw: Uint8Array) => JSON.parse(new TextDecoder().decode(raw)) as { a: number[] };

  it("keeps the same bytes' value from their second sight on, shared and deep-frozen", () => {
    const bodies = new ParsedBodies<{ a: number[] }>(8);
    let parses = 0;
    const parse = (raw: Uint8Array) => {
      parses++;
      return parseJson(raw);
    };
    const once = bodies.parse(text({ a: [1, 2] }), parse);
    assert.ok(!Object.isFrozen(once), "the first sight's value is the caller's alone");
    const kept = bodies.parse(text({ a: [1, 2] }), parse);
    const again = bodies.parse(text({ a: [1, 2] }), parse);
    assert.equal(again, kept);
    assert.deepEqual(kept, once);
    assert.equal(parses, 2);
    assert.ok(isDeepFrozen(kept) && isDeepFrozen(kept.a));
    assert.throws(() => {
      (kept.a as number[]).push(3);
    }, TypeError);
    assert.notEqual(bodies.parse(text({ a: [1, 3] }), parse), kept, 'other bytes, another parse');
    assert.deepEqual(bodies.stats, { hits: 1, misses: 3, evictions: 0, entries: 1 });
  });

  it('keeps nothing of bodies that each come once', () => {
    const bodies = new ParsedBodies<{ a: number[] }>(8);
    for (let i = 0; i < 100; i++) assert.ok(!Object.isFrozen(bodies.parse(text({ a: [i] }), parseJson)));
    assert.equal(bodies.stats.entries, 0);
  });

  it('remembers a body seen lately across other bodies that come once, and finds it again once kept', () => {
    const bodies = new ParsedBodies<{ a: number[] }>(8);
    const x = text({ a: [42] });
    bodies.parse(x, parseJson);
    for (let i = 0; i < 12; i++) bodies.parse(text({ a: [i] }), parseJson);
    const kept = bodies.parse(x, parseJson);
    assert.ok(isDeepFrozen(kept), 'seen within two generations of first sights: kept');
    for (let i = 0; i < 40; i++) bodies.parse(text({ a: [100 + i] }), parseJson);
    assert.equal(bodies.parse(x, parseJson), kept, 'and found again once kept, however many first sights came between');
    assert.equal(bodies.stats.entries, 1);
  });

  it('keeps no failure: bad bytes are parsed, and fail, every time', () => {
    const bodies = new ParsedBodies<{ a: number[] }>(8);
    const bad = new TextEncoder().encode('{"a":');
    for (let i = 0; i < 2; i++) assert.throws(() => bodies.parse(bad, parseJson), SyntaxError);
    assert.equal(bodies.stats.entries, 0);
  });

  it('parses every time, and freezes nothing, when its bound is 0', () => {
    const bodies = new ParsedBodies<{ a: number[] }>(0);
    const a = bodies.parse(text({ a: [1] }), parseJson);
    const b = bodies.parse(text({ a: [1] }), parseJson);
    assert.notEqual(a, b);
    assert.deepEqual(a, b);
    assert.ok(!Object.isFrozen(a));
  });

  it('drops the least recently used body past its byte bound', () => {
    const bodies = new ParsedBodies<{ a: number[] }>(8, 6 * text({ a: [1] }).length);
    const twice = (v: unknown) => {
      bodies.parse(text(v), parseJson);
      return bodies.parse(text(v), parseJson);
    };
    const one = twice({ a: [1] });
    twice({ a: [2] });
    twice({ a: [3] });
    assert.equal(bodies.stats.entries, 2, 'each weighs three times its bytes');
    assert.notEqual(bodies.parse(text({ a: [1] }), parseJson), one, 'the first was dropped');
  });
});
