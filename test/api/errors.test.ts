/**
 * Every error the framework can give, as our problem+json with our own code (never fastify's
 * FST_*), and the request id on every answer: through app.inject, and over a real socket for what
 * node's HTTP parser refuses before fastify sees a request (431, a request line too long).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { MAX_URL_CHARS } from '../../src/api/plugins/errors.js';
import { bearer, buildTestApp, TOKENS } from './helper.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The answer's [status, code], after checking it is a problem whose code is ours and that it says which request it was. */
function problemOf(r: LightMyRequestResponse): [number, string] {
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/, r.body);
  const p = r.json<{ status: number; code: string; type: string; title: string; detail: string }>();
  assert.equal(p.status, r.statusCode);
  assert.doesNotMatch(p.code, /^FST_/);
  assert.equal(p.type, `urn:bpfsign:problem:${p.code}`);
  assert.ok(p.title && p.detail);
  assert.ok(r.headers['x-request-id'], 'an error answer carries x-request-id');
  return [r.statusCode, p.code];
}

type Raw = { status: number; headers: Record<string, string>; body: string };

/**
 * What raw requests written to the app's socket get back (all answers when `count` is given, read by
 * Content-Length): status, headers (lower-case) and body. `more` writes further requests later.
 */
async function raw(app: FastifyInstance, request: string): Promise<Raw>;
async function raw(app: FastifyInstance, request: string, count: number, more: (socket: Socket) => Promise<void>): Promise<Raw[]>;
async function raw(app: FastifyInstance, request: string, count?: number, more?: (socket: Socket) => Promise<void>): Promise<Raw | Raw[]> {
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(address.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(Buffer.concat(chunks).toString()) : reject(e),
    );
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.write(request);
    more?.(socket).catch(reject);
  });
  const answers: Raw[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    const [statusLine, ...lines] = rest.slice(0, end < 0 ? rest.length : end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const start = end < 0 ? rest.length : end + 4;
    const length = headers['content-length'] === undefined ? rest.length - start : Number(headers['content-length']);
    answers.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(start, start + length) });
    rest = rest.slice(start + length);
  }
  return count === undefined ? answers[0] : answers;
}

async function listening(): Promise<FastifyInstance> {
  const { app } = await buildTestApp();
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

describe('errors the framework raises, as our problems', () => {
  it('answers a body that is not JSON, or empty, with 400 INVALID_JSON and EMPTY_BODY', async () => {
    const { app } = await buildTestApp();
    const post = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/verifications',
        headers: { ...bearer(TOKENS.verifyOnly), 'content-type': 'application/json' },
        payload,
      });
    assert.deepEqual(problemOf(await post('{"bundle":')), [400, 'INVALID_JSON']);
    assert.deepEqual(problemOf(await post('')), [400, 'EMPTY_BODY']);
  });

  it('answers a path nothing serves with 404 NOT_FOUND, and a method a path does not serve with 405 naming the ones it does', async () => {
    const { app } = await buildTestApp();
    assert.deepEqual(problemOf(await app.inject({ url: '/v1/nothing-here' })), [404, 'NOT_FOUND']);
    const wrong = await app.inject({ method: 'DELETE', url: '/healthz' });
    assert.deepEqual(problemOf(wrong), [405, 'METHOD_NOT_ALLOWED']);
    assert.equal(wrong.headers.allow, 'GET, HEAD');
    assert.deepEqual(wrong.json().allowed, ['GET', 'HEAD']);
    const param = await app.inject({ method: 'PUT', url: '/v1/log/entries/3?x=1' });
    assert.deepEqual(problemOf(param), [405, 'METHOD_NOT_ALLOWED'], 'a path with a parameter and a query is matched to its route');
    const wildcard = await app.inject({ method: 'POST', url: '/v1/log/tile/0/000' });
    assert.deepEqual(problemOf(wildcard), [405, 'METHOD_NOT_ALLOWED'], 'a wildcard route is matched too');
  });

  it('answers a body over the limit with 413 BODY_TOO_LARGE, saying the limit', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: { ...bearer(TOKENS.all), 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc((16 << 20) + 1),
    });
    assert.deepEqual(problemOf(r), [413, 'BODY_TOO_LARGE']);
    assert.match(r.json().detail, new RegExp(`at most ${16 << 20} bytes`));
  });

  it("answers a request target over its limit, or a path segment over fastify's, with 414 URI_TOO_LONG", async () => {
    const { app } = await buildTestApp();
    assert.deepEqual(problemOf(await app.inject({ url: `/healthz?${'q'.repeat(MAX_URL_CHARS)}` })), [414, 'URI_TOO_LONG']);
    assert.deepEqual(problemOf(await app.inject({ url: `/v1/loaders/${'a'.repeat(200)}` })), [414, 'URI_TOO_LONG']);
    assert.equal(
      (await app.inject({ url: `/healthz?${'q'.repeat(MAX_URL_CHARS - 20)}` })).statusCode,
      200,
      'just under the limit is served',
    );
  });

  it('answers a media type a route does not read with 415 UNSUPPORTED_MEDIA_TYPE listing the ones it does', async () => {
    const { app } = await buildTestApp();
    const verify = await app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { ...bearer(TOKENS.verifyOnly), 'content-type': 'text/plain' },
      payload: '{}',
    });
    assert.deepEqual(problemOf(verify), [415, 'UNSUPPORTED_MEDIA_TYPE']);
    assert.deepEqual(verify.json().accepted, ['application/json']);
    assert.equal(verify.headers['accept-post'], 'application/json');
    assert.match(verify.json().detail, /text\/plain is not accepted here; send one of: application\/json/);
    const inspect = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: { ...bearer(TOKENS.all), 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assert.deepEqual(problemOf(inspect), [415, 'UNSUPPORTED_MEDIA_TYPE'], 'a type the app parses but the route does not consume');
    assert.deepEqual(inspect.json().accepted, ['application/octet-stream', 'multipart/form-data']);
    const sign = await app.inject({
      method: 'POST',
      url: '/v1/loaders',
      headers: { ...bearer(TOKENS.all), 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.deepEqual(problemOf(sign), [415, 'UNSUPPORTED_MEDIA_TYPE']);
    assert.deepEqual(sign.json().accepted, ['application/octet-stream', 'multipart/form-data']);
  });

  it("answers headers over node's limit with 431 HEADERS_TOO_LARGE, and a request line over it with 414, before routing", async () => {
    const app = await listening();
    const big = await raw(app, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    assert.equal(big.status, 431);
    assert.match(big.headers['content-type'], /^application\/problem\+json/);
    assert.equal(JSON.parse(big.body).code, 'HEADERS_TOO_LARGE');
    assert.match(big.headers['x-request-id'], UUID);
    const line = await raw(app, `GET /healthz?${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(line.status, 414);
    assert.equal(JSON.parse(line.body).code, 'URI_TOO_LONG');
    const garbage = await raw(app, 'NOT HTTP AT ALL\r\n\r\n');
    assert.equal(garbage.status, 400);
    assert.equal(JSON.parse(garbage.body).code, 'BAD_REQUEST');
  });

  it('answers a bad URL encoding with 400 BAD_URL', async () => {
    const app = await listening();
    const r = await raw(app, 'GET /v1/loaders/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).code, 'BAD_URL');
    assert.ok(r.headers['x-request-id']);
  });

  it('answers a failure inside a route with 500 INTERNAL, without its message', async () => {
    const { app } = await buildTestApp();
    app.get('/test-boom', async () => {
      throw new Error('secret internals');
    });
    const r = await app.inject({ url: '/test-boom' });
    assert.deepEqual(problemOf(r), [500, 'INTERNAL']);
    assert.doesNotMatch(r.body, /secret internals/);
  });

  it('answers a request that arrives while the app closes with 503 UNAVAILABLE', async () => {
    const { app } = await buildTestApp();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started!: () => void;
    const busy = new Promise<void>((r) => {
      started = r;
    });
    app.get('/test-hold', async () => {
      started();
      await held;
      return { held: true };
    });
    let closing!: () => void;
    const closeBegun = new Promise<void>((r) => {
      closing = r;
    });
    app.addHook('preClose', async () => {
      closing();
    }); // runs after the app's own preClose hooks
    await app.listen({ host: '127.0.0.1', port: 0 });
    // A second request on a connection busy with a held one, sent once the app has begun closing
    // (the busy connection stays open until its answer is sent).
    let closed!: Promise<undefined>;
    const [first, second] = await raw(app, 'GET /test-hold HTTP/1.1\r\nHost: x\r\n\r\n', 2, async (socket) => {
      await busy;
      closed = app.close();
      await closeBegun;
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await new Promise((r) => setImmediate(r));
      release();
    });
    assert.equal(first.status, 200, 'the request in flight when closing began is answered');
    await closed;
    assert.equal(second.status, 503, second.body);
    assert.match(second.headers['content-type'], /^application\/problem\+json/);
    assert.equal(JSON.parse(second.body).code, 'UNAVAILABLE');
    assert.ok(second.headers['x-request-id']);
  });
});

describe('x-request-id', () => {
  it('is returned on a success and on a problem, echoing a well-formed one the client sent', async () => {
    const { app } = await buildTestApp();
    const ok = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'ci-job.42_a-b' } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['x-request-id'], 'ci-job.42_a-b');
    const missing = await app.inject({ url: '/nope', headers: { 'x-request-id': 'trace-7' } });
    assert.equal(missing.headers['x-request-id'], 'trace-7');
  });

  it('is made anew (a random UUID) when the client sent none or one that is not well formed', async () => {
    const { app } = await buildTestApp();
    for (const sent of [undefined, 'has space', 'x'.repeat(129), '', 'new\u00e9line']) {
      const r = await app.inject({ url: '/healthz', headers: sent === undefined ? {} : { 'x-request-id': sent } });
      assert.match(String(r.headers['x-request-id']), UUID, `sent ${JSON.stringify(sent)}`);
    }
    assert.equal(
      (await app.inject({ url: '/healthz', headers: { 'x-request-id': 'x'.repeat(128) } })).headers['x-request-id'],
      'x'.repeat(128),
    );
  });

  it('differs between two app instances (as between cluster workers) and between requests', async () => {
    const [a, b] = await Promise.all([buildTestApp(), buildTestApp()]);
    const ids = [
      (await a.app.inject({ url: '/healthz' })).headers['x-request-id'],
      (await b.app.inject({ url: '/healthz' })).headers['x-request-id'],
      (await a.app.inject({ url: '/healthz' })).headers['x-request-id'],
    ];
    assert.equal(new Set(ids).size, 3, `ids ${ids.join(' ')}`);
  });

  it('is on a 429 from the rate limiter', async () => {
    const { app } = await buildTestApp({ rateLimitPerMinute: 1 });
    await app.inject({ url: '/healthz' });
    const limited = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'slow-down' } });
    assert.deepEqual(problemOf(limited), [429, 'RATE_LIMITED']);
    assert.equal(limited.headers['x-request-id'], 'slow-down');
  });
});
