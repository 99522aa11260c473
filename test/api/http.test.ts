/**
 * The app over real HTTP with supertest (app.server on an ephemeral port): content types, the
 * multipart form a browser or curl -F sends, problem+json on every error path, and the
 * operational endpoints.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { FastifyInstance } from 'fastify';
import { FIXTURES } from '../support/objects.js';
import { buildTestApp, TOKENS } from './helper.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
const auth = `Bearer ${TOKENS.all}`;
const problem = (r: request.Response, status: number, code: string) => {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers['content-type'], /^application\/problem\+json/);
  assert.equal(r.body.code, code);
  assert.equal(r.body.status, status);
};

async function started(): Promise<FastifyInstance> {
  const { app } = await buildTestApp();
  await app.ready();
  return app;
}

describe('over HTTP (supertest)', () => {
  it('signs an object sent as a multipart form, like curl -F, and serves the parts', async () => {
    const app = await started();
    const r = await request(app.server)
      .post('/v1/loaders')
      .set('authorization', auth)
      .field('name', 'xdp_filter')
      .field('scheme', 'linux-6.18')
      .attach('object', obj, 'xdp_filter.o')
      .expect(201);
    assert.equal(r.headers.location, `/v1/loaders/${r.body.id}`);
    const insns = await request(app.server)
      .get(`/v1/loaders/${r.body.id}/insns`)
      .buffer(true)
      .parse((res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200)
      .expect('content-type', 'application/octet-stream');
    assert.ok((insns.body as Buffer).equals(Buffer.from(r.body.bundle.loader.insns, 'base64')));
    const header = await request(app.server)
      .get(`/v1/loaders/${r.body.id}/lskel.h`)
      .expect(200)
      .expect('content-type', /^text\/x-c/);
    assert.match(header.text, /static const char opts_sig\[\]/, "the signed loader's header carries its signature");
    const proof = await request(app.server)
      .get(`/v1/log/proof/${r.body.bundle.tlog.logIndex}`)
      .expect(200)
      .expect('content-type', /^text\/plain/);
    assert.match(proof.text, /^c2sp\.org\/tlog-proof@v1\n/);
  });

  it('answers every error as problem+json with a stable code', async () => {
    const app = await started();
    problem(
      await request(app.server).post('/v1/loaders').set('content-type', 'application/octet-stream').send(obj),
      401,
      'UNAUTHENTICATED',
    );
    problem(
      await request(app.server)
        .post('/v1/loaders')
        .set('authorization', auth)
        .set('content-type', 'application/octet-stream')
        .send(Buffer.from('not an ELF')),
      422,
      'ELF_MALFORMED',
    );
    problem(
      await request(app.server).post('/v1/loaders').set('authorization', auth).field('scheme', 'nope').attach('object', obj, 'x.o'),
      400,
      'REQUEST_INVALID',
    );
    problem(await request(app.server).get('/v1/loaders/00000000-0000-4000-8000-000000000000'), 404, 'LOADER_NOT_FOUND');
    problem(await request(app.server).get('/v1/manifests/xyz'), 400, 'REQUEST_INVALID');
    problem(await request(app.server).get('/v1/log/proof/99'), 404, 'LOG_ENTRY_NOT_FOUND');
    problem(await request(app.server).get('/v1/log/consistency?from=5&to=2'), 400, 'OUT_OF_RANGE');
    problem(await request(app.server).get('/v1/log/tile/0/abc'), 400, 'TILE_PATH_INVALID');
    problem(
      await request(app.server)
        .post('/v1/verifications')
        .set('authorization', auth)
        .send({ bundle: { mediaType: 'x' } }),
      400,
      'BUNDLE_INVALID',
    );
    problem(await request(app.server).get('/v1/no-such-route'), 404, 'NOT_FOUND');
  });

  it('serves health, readiness, Prometheus metrics and the docs page', async () => {
    const app = await started();
    await request(app.server).get('/healthz').expect(200);
    const ready = await request(app.server).get('/readyz').expect(200);
    assert.equal(ready.body.status, 'ready');
    const m = await request(app.server).get('/metrics').expect(200);
    assert.match(m.text, /^# HELP bpfsign_/m);
    await request(app.server)
      .get('/docs/')
      .expect(200)
      .expect('content-type', /text\/html/);
    const doc = await request(app.server).get('/openapi.json').expect(200);
    assert.ok(doc.body.paths['/v1/log/proof/{index}']);
  });
});
