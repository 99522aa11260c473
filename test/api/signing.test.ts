/**
 * Sign and verify over HTTP: a developer POSTs an object and gets a bundle whose signature,
 * manifest and log proof verify offline; a CI gate POSTs it back and gets a structured verdict.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { bearer, buildTestApp, TOKENS } from './helper.js';
import { buildLoader, signedHeader } from '../../src/service/loader.js';
import { signBuilt } from '../../src/service/sign.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { parseBundle } from '../../src/signing/bundle.js';
import { verify as verifyCore } from '../../src/signing/verify.js';
import { CreatedSchema, VerdictSchema } from '../../src/api/routes/signing.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
const octets = { 'content-type': 'application/octet-stream' };

async function signed() {
  const t = await buildTestApp();
  const r = await t.app.inject({
    method: 'POST',
    url: '/v1/loaders?name=xdp_filter&scheme=linux-6.18',
    headers: { ...octets, ...bearer(TOKENS.all) },
    payload: obj,
  });
  assert.equal(r.statusCode, 201, r.body);
  assert.equal(r.headers.location, `/v1/loaders/${r.json().id}`);
  assert.deepEqual(CreatedSchema.parse(r.json()), r.json(), 'the answer is what the documented schema describes');
  assert.equal(r.body, JSON.stringify(r.json()), 'the answer is JSON as JSON.stringify writes it');
  return { ...t, res: r.json() };
}

const verify = (app: Awaited<ReturnType<typeof buildTestApp>>['app'], body: unknown) =>
  app.inject({ method: 'POST', url: '/v1/verifications', headers: bearer(TOKENS.verifyOnly), payload: body as Record<string, unknown> });

describe('POST /v1/loaders', () => {
  it('refuses a token without the sign scope', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({ method: 'POST', url: '/v1/loaders', headers: { ...octets, ...bearer(TOKENS.verifyOnly) }, payload: obj });
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().code, 'FORBIDDEN');
  });
  it('returns a bundle logged in the transparency log and stored for auditors', async () => {
    const { app, res } = await signed();
    assert.equal(res.bundle.scheme, 'linux-6.18');
    assert.equal(res.bundle.tlog.logIndex, '0');
    const stored = await app.inject({ url: `/v1/loaders/${res.id}` });
    assert.deepEqual(stored.json(), res.bundle);
    const part = async (p: string) => await app.inject({ url: `/v1/loaders/${res.id}/${p}` });
    assert.ok((await part('insns')).rawPayload.equals(Buffer.from(res.bundle.loader.insns, 'base64')));
    assert.ok((await part('data')).rawPayload.equals(Buffer.from(res.bundle.loader.data, 'base64')));
    assert.ok((await part('signature')).rawPayload.equals(Buffer.from(res.bundle.signature, 'base64')));
    assert.match((await part('lskel.h')).body, /struct xdp_filter \{/);
    const manifest = (await part('manifest')).json();
    assert.equal(manifest.scheme, 'linux-6.18');
    const byObject = (await app.inject({ url: `/v1/manifests/${manifest.object.sha256}` })).json();
    assert.deepEqual(
      byObject.manifests.map((m: { id: string }) => m.id),
      [res.id],
    );
    const byInsns = (await app.inject({ url: `/v1/manifests/${manifest.loader.insns.sha256}` })).json();
    assert.equal(byInsns.manifests.length, 1);
    const keys = (await app.inject({ url: '/v1/keys' })).json();
    assert.match(keys.caCertificate, /BEGIN CERTIFICATE/);
    assert.equal(keys.keys.filter((k: { active: boolean }) => k.active).length, 1);
    assert.equal((await app.inject({ url: '/v1/loaders/00000000-0000-4000-8000-000000000000' })).statusCode, 404);
  });
});

describe('a stored loader', () => {
  const build = (flavour: 'v1.7' | 'bpftool-7.1', scheme: 'linux-6.18' | 'unsigned' = 'linux-6.18') =>
    buildLoader(obj, 'xdp_filter.o', { scheme, name: 'xdp_filter', flavour, standalone: false, mapExcl: false, host: {} });

  it('serves the header gen makes: signed v1.7 with its signature embedded, bpftool-7.1 and unsigned ones plain', async () => {
    const { app, res } = await signed();
    const header = (await app.inject({ url: `/v1/loaders/${res.id}/lskel.h` })).body;
    assert.equal(header, signedHeader(build('v1.7'), Buffer.from(res.bundle.signature, 'base64')));
    const old = (
      await app.inject({
        method: 'POST',
        url: '/v1/loaders?name=xdp_filter&flavour=bpftool-7.1',
        headers: { ...octets, ...bearer(TOKENS.all) },
        payload: obj,
      })
    ).json();
    assert.equal((await app.inject({ url: `/v1/loaders/${old.id}/lskel.h` })).body, build('bpftool-7.1').header);
    const plain = (
      await app.inject({
        method: 'POST',
        url: '/v1/loaders?name=xdp_filter&scheme=unsigned',
        headers: { ...octets, ...bearer(TOKENS.all) },
        payload: obj,
      })
    ).json();
    assert.equal((await app.inject({ url: `/v1/loaders/${plain.id}/lskel.h` })).body, build('v1.7', 'unsigned').header);
  });

  it('serves the manifest signing makes, as canonical JSON', async () => {
    const { app, res } = await signed();
    const key = await app.services.signing.active();
    const again = await signBuilt(build('v1.7'), key.signer, key.certificates);
    assert.equal(
      (await app.inject({ url: `/v1/loaders/${res.id}/manifest` })).body,
      new TextDecoder().decode(canonicalBytes(again.manifest)),
    );
  });

  it('carries a log proof against the newest checkpoint, which verifies', async () => {
    const { app, res } = await signed();
    for (let i = 0; i < 4; i++)
      await app.inject({ method: 'POST', url: '/v1/loaders?name=xdp_filter', headers: { ...octets, ...bearer(TOKENS.all) }, payload: obj });
    const bundle = (await app.inject({ url: `/v1/loaders/${res.id}` })).json();
    assert.equal(bundle.tlog.logIndex, '0');
    assert.equal(bundle.tlog.treeSize, '5');
    assert.notDeepEqual(bundle.tlog, res.bundle.tlog);
    const policy = await app.services.signing.defaultPolicy();
    const v = verifyCore(parseBundle(bundle), policy, { at: new Date() });
    assert.equal(v.checks.find((c) => c.check === 'transparencyLog')?.status, 'pass', JSON.stringify(v.checks));
  });

  it('is still served when it was stored in the earlier layout (header and manifest text in the row)', async () => {
    const { app, store, res } = await signed();
    await store.putBundle({
      id: '11111111-1111-4111-8111-111111111111',
      createdAt: '2026-11-25T00:00:00Z',
      objectSha256: 'a'.repeat(64),
      insnsSha256: 'b'.repeat(64),
      scheme: 'linux-6.18',
      signer: null,
      logIndex: 0n,
      bundle: JSON.stringify({ bundle: res.bundle, header: '/* old */', manifest: '{"old":true}' }),
    });
    assert.equal((await app.inject({ url: '/v1/loaders/11111111-1111-4111-8111-111111111111/lskel.h' })).body, '/* old */');
    assert.equal((await app.inject({ url: '/v1/loaders/11111111-1111-4111-8111-111111111111/manifest' })).body, '{"old":true}');
    assert.deepEqual((await app.inject({ url: '/v1/loaders/11111111-1111-4111-8111-111111111111' })).json(), res.bundle);
  });

  it('makes the same loader from the cache as without it, and counts the hit', async () => {
    const { app, res } = await signed();
    const second = (
      await app.inject({ method: 'POST', url: '/v1/loaders?name=xdp_filter', headers: { ...octets, ...bearer(TOKENS.all) }, payload: obj })
    ).json();
    assert.deepEqual(second.bundle.loader, res.bundle.loader);
    const fresh = build('v1.7');
    assert.equal(second.bundle.loader.insns, Buffer.from(fresh.loader.insns).toString('base64'));
    assert.equal(second.bundle.loader.data, Buffer.from(fresh.loader.data).toString('base64'));
    assert.deepEqual(app.services.caches.loaders.stats, { hits: 1, misses: 1, evictions: 0, entries: 1 });
    const m = (await app.inject({ url: '/metrics' })).body;
    assert.match(m, /bpfsign_cache_hits\{cache="loaders"\} 1\n/);
  });
});

describe('POST /v1/verifications', () => {
  it('answers OK with every check passed (signature, chain, log, manifest, replay, object)', async () => {
    const { app, res } = await signed();
    const r = await verify(app, { bundle: res.bundle, object: obj.toString('base64') });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json();
    assert.equal(v.verdict, 'OK', JSON.stringify(v.checks, null, 1));
    assert.deepEqual(
      v.checks.map((c: { check: string; status: string }) => `${c.check}:${c.status}`),
      [
        'signature:pass',
        'chain:pass',
        'identity:pass',
        'revocation:skipped',
        'manifest:pass',
        'transparencyLog:pass',
        'replay:pass',
        'object:pass',
        'hardening:pass',
        'contents:pass',
      ],
    );
    assert.match(v.signer.subject, /bpfsign development signing key/);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(VerdictSchema.parse(v), v, 'the answer is what the documented schema describes');
    const again = await verify(app, { bundle: res.bundle, object: obj.toString('base64') });
    assert.equal(again.body, r.body, 'a second verification (replay and signatures from the caches) answers the same text');
    assert.equal(app.services.caches.replays.stats.hits, 1);
    assert.deepEqual(
      app.services.caches.bodies.stats,
      { hits: 0, misses: 2, evictions: 0, entries: 1 },
      'the same body bytes, kept from their second sight',
    );
    const third = await verify(app, { bundle: res.bundle, object: obj.toString('base64') });
    assert.equal(third.body, r.body);
    assert.equal(app.services.caches.bodies.stats.hits, 1, 'and found there the third time');
  });
  it('answers BADSIG when one byte of the loader instructions changed', async () => {
    const { app, res } = await signed();
    const insns = Buffer.from(res.bundle.loader.insns, 'base64');
    insns[100] ^= 1;
    const v = (await verify(app, { bundle: { ...res.bundle, loader: { ...res.bundle.loader, insns: insns.toString('base64') } } })).json();
    assert.equal(v.verdict, 'BADSIG');
  });
  it('answers MISMATCH when the object is not the one the loader came from', async () => {
    const { app, res } = await signed();
    const other = readFileSync(join(FIXTURES, 'obj/globals.clang-el.o'));
    const v = (await verify(app, { bundle: res.bundle, object: other.toString('base64') })).json();
    assert.equal(v.verdict, 'MISMATCH');
    assert.equal(v.checks.find((c: { check: string }) => c.check === 'object').status, 'fail');
  });
  it('answers UNTRUSTED when the policy names another root, and POLICY when the contents break its limits', async () => {
    const { app, res } = await signed();
    const otherRoot = (await buildTestApp()).keysDir;
    const otherCa = readFileSync(join(otherRoot, 'ca.pem'), 'utf8');
    const untrusted = (
      await verify(app, {
        bundle: res.bundle,
        policy: { version: 1, name: 'other', roots: [otherCa], checks: { transparencyLog: 'skip' } },
      })
    ).json();
    assert.equal(untrusted.verdict, 'UNTRUSTED');
    const named = (
      await verify(app, {
        bundle: res.bundle,
        policy: { version: 1, name: 'política ✓', roots: [otherCa], checks: { transparencyLog: 'skip' } },
      })
    ).json();
    assert.equal(named.policy, 'política ✓', 'a body that is not ASCII is read as UTF-8');
    const ca = (await app.inject({ url: '/v1/keys' })).json().caCertificate;
    const tight = (
      await verify(app, {
        bundle: res.bundle,
        policy: { version: 1, name: 'tight', roots: [ca], checks: { transparencyLog: 'skip' }, allowed: { mapTypes: ['ARRAY'] } },
      })
    ).json();
    assert.equal(tight.verdict, 'POLICY');
    const logged = (
      await verify(app, {
        bundle: res.bundle,
        policy: {
          version: 1,
          name: 'audit',
          roots: [ca],
          checks: { transparencyLog: 'skip', contents: 'log' },
          allowed: { mapTypes: ['ARRAY'] },
        },
      })
    ).json();
    assert.equal(logged.verdict, 'OK', 'a failed check at level log does not fail the verdict');
    assert.equal(logged.checks.find((c: { check: string }) => c.check === 'contents').status, 'fail');
  });
  it("reads its body in its turn with fastify's own JSON parser and schema check: the problems every route gives", async () => {
    const { app } = await buildTestApp();
    const post = (payload: string, type = 'application/json') =>
      app.inject({ method: 'POST', url: '/v1/verifications', headers: { ...bearer(TOKENS.verifyOnly), 'content-type': type }, payload });
    const problemOf = (r: { statusCode: number; headers: Record<string, unknown>; json(): { code: string } }) => {
      assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
      return [r.statusCode, r.json().code];
    };
    assert.deepEqual(problemOf(await post('{"bundle":')), [400, 'INVALID_JSON']);
    assert.deepEqual(problemOf(await post('')), [400, 'EMPTY_BODY']);
    assert.deepEqual(problemOf(await post('{"bundle":{},"__proto__":{"ok":true}}')), [400, 'INVALID_JSON']);
    const wrongType = await post('{"bundle":{},"object":"not base64!"}');
    assert.deepEqual(problemOf(wrongType), [400, 'REQUEST_INVALID']);
    assert.deepEqual(
      wrongType.json().errors.map((e: { path: string }) => e.path),
      ['/object'],
    );
    assert.deepEqual(problemOf(await post('{"bundle":{}}', 'text/plain')), [415, 'UNSUPPORTED_MEDIA_TYPE']);
    const big = await post(JSON.stringify({ bundle: {}, object: 'A'.repeat(17 << 20) }));
    assert.deepEqual(problemOf(big), [413, 'BODY_TOO_LARGE']);
  });
  it('answers 400 naming the fields for a malformed bundle or policy, every time it is posted', async () => {
    const { app, res } = await signed();
    for (let i = 0; i < 3; i++) {
      const r = await verify(app, { bundle: { mediaType: 'nope' } });
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().code, 'BUNDLE_INVALID');
      const p = await verify(app, { bundle: res.bundle, policy: { version: 1, name: 'inline', roots: 'not a list' } });
      assert.equal(p.statusCode, 400, p.body);
      assert.equal(p.json().code, 'POLICY_INVALID');
      assert.match(JSON.stringify(p.json().details.issues), /roots/);
      const named = await verify(app, { bundle: res.bundle, policy: 'nope' });
      assert.equal(named.statusCode, 404);
      assert.equal(named.json().code, 'POLICY_NOT_FOUND');
    }
    const { bodies } = app.services.caches;
    assert.equal(
      bodies.stats.entries,
      2,
      'kept, from their second sight: the two bodies whose bundle parsed (their policy is checked each time); not: the bad bundle',
    );
    assert.equal(bodies.stats.hits, 2, 'the third time, both were found kept, and their policies still refused');
  });
});

describe('GET /metrics and /docs', () => {
  it('counts requests and signing time, and serves the interactive docs', async () => {
    const { app } = await signed();
    const m = (await app.inject({ url: '/metrics' })).body;
    assert.match(m, /bpfsign_http_requests_total\{method="POST",route="\/v1\/loaders",status="201"\} 1/);
    assert.match(m, /bpfsign_sign_seconds_count\{scheme="linux-6.18"\} 1/);
    assert.match(m, /bpfsign_log_entries 1\n/);
    assert.match(m, /bpfsign_log_commits 1\n/);
    assert.match(m, /bpfsign_cpu_queue_waiting 0\n/);
    const docs = await app.inject({ url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });
});
