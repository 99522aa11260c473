/**
 * The HTTP API through app.inject (no socket): auth, problem+json errors with typed details,
 * inspect and loader generation equal to the library, and auditor-verifiable log proofs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { bearer, buildTestApp, TOKENS } from './helper.js';
import { parseObject, summarizeObject } from '../../src/loader/object/index.js';
import {
  ed25519VerifierKey,
  hashLeaf,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from '../../src/signing/tlog/index.js';

const obj = readFileSync(join(FIXTURES, 'obj/map_in_map.clang-el.o'));
const octets = { 'content-type': 'application/octet-stream' };

describe('POST /v1/objects/inspect', () => {
  it('returns the object summary the library computes', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect?name=mim',
      headers: { ...octets, ...bearer(TOKENS.verifyOnly) },
      payload: obj,
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), JSON.parse(JSON.stringify(summarizeObject(parseObject(obj, { name: 'mim' })))));
  });
  it('answers 401 problem+json without a token and for an unknown one', async () => {
    const { app } = await buildTestApp();
    for (const headers of [octets, { ...octets, ...bearer('x'.repeat(32)) }]) {
      const r = await app.inject({ method: 'POST', url: '/v1/objects/inspect', headers, payload: obj });
      assert.equal(r.statusCode, 401);
      assert.match(r.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(r.json().code, 'UNAUTHENTICATED');
    }
  });
  it('answers 422 with the typed error, naming where and what, for a corrupt object', async () => {
    const { app } = await buildTestApp();
    const bad = Buffer.from(obj);
    bad.writeUInt16LE(62, 18); // e_machine = x86-64
    const r = await app.inject({ method: 'POST', url: '/v1/objects/inspect', headers: { ...octets, ...bearer(TOKENS.all) }, payload: bad });
    assert.equal(r.statusCode, 422);
    const p = r.json();
    assert.equal(p.code, 'ELF_UNSUPPORTED');
    assert.deepEqual([p.details.field, p.details.got, p.details.want, p.details.offset], ['e_machine', 62, 247, 18]);
  });
  it('answers 400 for an empty body and for a bad query', async () => {
    const { app } = await buildTestApp();
    const empty = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: { ...octets, ...bearer(TOKENS.all) },
      payload: Buffer.alloc(0),
    });
    assert.equal(empty.statusCode, 400);
    const q = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect?name=9bad',
      headers: { ...octets, ...bearer(TOKENS.all) },
      payload: obj,
    });
    assert.equal(q.statusCode, 400);
    assert.equal(q.json().code, 'REQUEST_INVALID');
  });
});

describe('the transparency log endpoints', () => {
  it('serve checkpoints, entries with inclusion proofs and consistency proofs that verify offline', async () => {
    const { app, log, publicKey } = await buildTestApp();
    const verifier = parseVerifierKey(ed25519VerifierKey('bpfsign.test/log', publicKey));
    const bodies = Array.from({ length: 7 }, (_, i) => Buffer.from(`{"entry":${i}}`));
    for (const b of bodies.slice(0, 3)) await log.append('test', 'r', b);
    const cp3 = parseCheckpoint(openNote((await app.inject({ url: '/v1/log/checkpoint' })).body, [verifier]).text);
    assert.equal(cp3.size, 3n);
    for (const b of bodies.slice(3)) await log.append('test', 'r', b);
    const e = (await app.inject({ url: '/v1/log/entries/5' })).json();
    assert.equal(Buffer.from(e.body, 'base64').toString(), '{"entry":5}');
    const cp7 = parseCheckpoint(openNote(e.inclusionProof.checkpoint, [verifier]).text);
    assert.equal(cp7.size, 7n);
    verifyInclusion(
      5n,
      7n,
      hashLeaf(bodies[5]),
      e.inclusionProof.hashes.map((h: string) => Buffer.from(h, 'base64')),
      cp7.root,
    );
    const c = (await app.inject({ url: '/v1/log/consistency?from=3&to=7' })).json();
    verifyConsistency(
      3n,
      7n,
      cp3.root,
      cp7.root,
      c.hashes.map((h: string) => Buffer.from(h, 'base64')),
    );
  });
  it('answers 404 for an entry past the end and 400 for a bad range', async () => {
    const { app } = await buildTestApp();
    assert.equal((await app.inject({ url: '/v1/log/entries/0' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/v1/log/consistency?from=5&to=2' })).statusCode, 400);
    assert.equal((await app.inject({ url: '/v1/log/entries/-1' })).statusCode, 400);
  });
});

describe('GET /openapi.json', () => {
  it('matches the committed openapi.yaml (regenerate with npm run openapi)', async () => {
    const { app } = await buildTestApp();
    const { parse } = await import('yaml');
    const committed = parse(readFileSync(join(FIXTURES, '../../openapi.yaml'), 'utf8'));
    const live = (await app.inject({ url: '/openapi.json' })).json();
    assert.deepEqual(live, committed);
    for (const path of [
      '/v1/objects/inspect',
      '/v1/loaders',
      '/v1/loaders/{id}/lskel.h',
      '/v1/verifications',
      '/v1/manifests/{sha256}',
      '/v1/keys',
      '/v1/log/checkpoint',
      '/v1/log/entries/{index}',
      '/v1/log/consistency',
      '/healthz',
    ])
      assert.ok(path in live.paths, path);
  });
});

describe('limits and modes', () => {
  it('answers 429 problem+json past the per-client rate limit', async () => {
    const { app } = await buildTestApp({ rateLimitPerMinute: 3 });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: '/healthz' })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 429]);
    const r = await app.inject({ url: '/healthz' });
    assert.equal(r.json().code, 'RATE_LIMITED');
    assert.match(r.headers['content-type'] as string, /problem\+json/);
  });
  it('answers 413 for an object over the body limit', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: { ...octets, ...bearer(TOKENS.all) },
      payload: Buffer.alloc((16 << 20) + 1),
    });
    assert.equal(r.statusCode, 413);
  });
  it('lets loopback requests through without a token in development mode only', async () => {
    const dev = await buildTestApp({ loopbackTrusted: true });
    assert.equal(
      (await dev.app.inject({ method: 'POST', url: '/v1/objects/inspect', headers: octets, payload: obj, remoteAddress: '127.0.0.1' }))
        .statusCode,
      200,
    );
    assert.equal(
      (await dev.app.inject({ method: 'POST', url: '/v1/objects/inspect', headers: octets, payload: obj, remoteAddress: '10.1.2.3' }))
        .statusCode,
      401,
    );
    const prod = await buildTestApp();
    assert.equal(
      (await prod.app.inject({ method: 'POST', url: '/v1/objects/inspect', headers: octets, payload: obj, remoteAddress: '127.0.0.1' }))
        .statusCode,
      401,
    );
  });
});

describe('tokens kept in the store', () => {
  it('authorize with their scopes until revoked', async () => {
    const { app, store } = await buildTestApp();
    const secret = 'bps_' + 'q'.repeat(32);
    const { createHash } = await import('node:crypto');
    await store.putToken({
      id: 't1',
      name: 'ci',
      tokenSha256: createHash('sha256').update(secret).digest('hex'),
      scopes: ['verify'],
      createdAt: '2026-11-25T00:00:00Z',
      revokedAt: null,
    });
    const inspect = () =>
      app.inject({ method: 'POST', url: '/v1/objects/inspect', headers: { ...octets, ...bearer(secret) }, payload: obj });
    assert.equal((await inspect()).statusCode, 200);
    assert.equal(
      (await app.inject({ method: 'POST', url: '/v1/loaders', headers: { ...octets, ...bearer(secret) }, payload: obj })).statusCode,
      403,
      'verify scope cannot sign',
    );
    assert.equal(await store.revokeToken('t1', '2026-11-25T01:00:00Z'), true);
    assert.equal((await inspect()).statusCode, 401);
  });
});

describe('C2SP tiles', () => {
  it('serve hash tiles and entry bundles that match the leaves and the checkpoint', async () => {
    const { app, log } = await buildTestApp();
    const bodies = Array.from({ length: 300 }, (_, i) => Buffer.from(`{"n":${i}}`));
    for (const b of bodies) await log.append('test', 'r', b);
    const get = async (p: string) => app.inject({ url: `/v1/log/tile/${p}` });
    const t0 = await get('0/000');
    assert.equal(t0.statusCode, 200);
    assert.equal(t0.rawPayload.length, 256 * 32);
    assert.equal(t0.headers['cache-control'], 'public, max-age=31536000, immutable', 'a full tile never changes');
    assert.equal((await get('entries/000')).headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.ok(t0.rawPayload.subarray(5 * 32, 6 * 32).equals(Buffer.from(hashLeaf(bodies[5]))), 'level-0 tile holds leaf hashes');
    const t1 = await get('0/001.p/44');
    assert.equal(t1.rawPayload.length, 44 * 32);
    assert.equal(t1.headers['cache-control'], 'public, max-age=5', 'a partial tile is cached briefly');
    assert.ok(t1.rawPayload.subarray(43 * 32).equals(Buffer.from(hashLeaf(bodies[299]))));
    assert.equal((await get('0/001')).statusCode, 404, 'the second tile is not full yet');
    assert.equal((await get('0/001.p/45')).statusCode, 404, 'nor has it 45 leaves');
    // The level-1 node 0 is the root of the first 256 leaves: the checkpoint of size 256 says the same.
    const up = await get('1/000.p/1');
    const { rootHash } = await import('../../src/signing/tlog/index.js');
    assert.ok(up.rawPayload.equals(Buffer.from(rootHash((i) => hashLeaf(bodies[Number(i)]), 256n))));
    const e = await get('entries/001.p/44');
    const parsed: string[] = [];
    for (let at = 0; at < e.rawPayload.length;) {
      const n = e.rawPayload.readUInt16BE(at);
      parsed.push(e.rawPayload.subarray(at + 2, at + 2 + n).toString());
      at += 2 + n;
    }
    assert.deepEqual(parsed, bodies.slice(256).map(String));
    assert.equal((await get('nonsense')).statusCode, 400);
  });
});
