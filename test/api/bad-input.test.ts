/**
 * Bad input over HTTP is a 400 problem with our own code, on SQLite and on PostgreSQL alike:
 * a multipart body that is not well formed, a number out of range, a text field over its limit
 * (refused and named with its limit, never cut and used).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { FIXTURES } from '../support/objects.js';
import { bearer, buildTestApp, buildTestAppOn, TOKENS } from './helper.js';
import { PostgresStore } from '../../src/store/index.js';

const PG_URL = process.env.BPFSIGN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
const auth = bearer(TOKENS.all);

/** An app over a fresh PostgreSQL schema, or why there is none. */
async function pgApp(): Promise<FastifyInstance | string> {
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (e) {
    return `PostgreSQL not reachable at ${PG_URL}: ${(e as Error).message}`;
  }
  const schema = `bpfsign_bad_input_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const store = new PostgresStore(PG_URL, { schema });
  await store.migrate();
  after(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  return (await buildTestAppOn(store)).app;
}

function problem(r: LightMyRequestResponse, status: number, code: string): { detail: string; details?: Record<string, unknown> } {
  assert.equal(r.statusCode, status, r.body);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  const p = r.json();
  assert.equal(p.code, code, r.body);
  return p;
}

/** A multipart/form-data body with boundary XX from its parts: [name, value, as a file?]. */
function form(parts: [string, string | Buffer, boolean?][], end = '--XX--\r\n'): Buffer {
  const chunks = parts.flatMap(([name, value, file]) => [
    Buffer.from(
      `--XX\r\nContent-Disposition: form-data; name="${name}"${file ? '; filename="x.o"\r\nContent-Type: application/octet-stream' : ''}\r\n\r\n`,
    ),
    Buffer.from(value),
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([...chunks, Buffer.from(end)]);
}
const multipart = { ...auth, 'content-type': 'multipart/form-data; boundary=XX' };

for (const kind of ['SQLite', 'PostgreSQL'] as const) {
  describe(`bad input on ${kind}`, () => {
    /** A fresh app on this store, or null having skipped the test with the reason there is none. */
    const on = async (t: { skip: (why: string) => void }): Promise<FastifyInstance | null> => {
      const app = kind === 'SQLite' ? (await buildTestApp()).app : await pgApp();
      if (typeof app === 'string') {
        t.skip(app);
        return null;
      }
      return app;
    };

    describe('POST /v1/loaders with a malformed multipart body', () => {
      it('answers 400 MULTIPART_INVALID when the content type names no boundary', async (t) => {
        const a = await on(t);
        if (!a) return;
        const r = await a.inject({
          method: 'POST',
          url: '/v1/loaders',
          headers: { ...auth, 'content-type': 'multipart/form-data' },
          payload: form([['object', obj, true]]),
        });
        assert.match(problem(r, 400, 'MULTIPART_INVALID').detail, /boundary/i);
      });
      it('answers 400 MULTIPART_INVALID when the body ends inside the object part', async (t) => {
        const a = await on(t);
        if (!a) return;
        const r = await a.inject({
          method: 'POST',
          url: '/v1/loaders',
          headers: multipart,
          payload: form([['object', obj, true]], '').subarray(0, 200),
        });
        problem(r, 400, 'MULTIPART_INVALID');
      });
      it('answers 400 MULTIPART_INVALID when the body holds no part at all', async (t) => {
        const a = await on(t);
        if (!a) return;
        const r = await a.inject({ method: 'POST', url: '/v1/loaders', headers: multipart, payload: 'not multipart' });
        problem(r, 400, 'MULTIPART_INVALID');
      });
    });

    describe('text fields over their limit', () => {
      it('refuses a form field over 1024 bytes naming the field and the limit, rather than cutting it and signing', async (t) => {
        const a = await on(t);
        if (!a) return;
        const r = await a.inject({
          method: 'POST',
          url: '/v1/loaders',
          headers: multipart,
          payload: form([
            ['name', 'a'.repeat(10 << 20)],
            ['object', obj, true],
          ]),
        });
        const p = problem(r, 400, 'REQUEST_INVALID');
        assert.match(p.detail, /name: at most 1024 bytes/);
        assert.deepEqual(p.details, { field: 'name', limit: 1024 });
        assert.equal((await a.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1], '0', 'nothing was logged');
      });
      it('refuses a name over 128 characters in a form field and in the query string', async (t) => {
        const a = await on(t);
        if (!a) return;
        const long = 'a'.repeat(129);
        const fromForm = await a.inject({
          method: 'POST',
          url: '/v1/loaders',
          headers: multipart,
          payload: form([
            ['name', long],
            ['object', obj, true],
          ]),
        });
        assert.match(problem(fromForm, 400, 'REQUEST_INVALID').detail, /name: at most 128 characters/);
        const fromQuery = await a.inject({
          method: 'POST',
          url: `/v1/loaders?name=${long}`,
          headers: { ...auth, 'content-type': 'application/octet-stream' },
          payload: obj,
        });
        assert.match(problem(fromQuery, 400, 'REQUEST_INVALID').detail, /name at most 128 characters/);
        const fits = await a.inject({
          method: 'POST',
          url: `/v1/loaders?name=${'a'.repeat(128)}&scheme=unsigned`,
          headers: { ...auth, 'content-type': 'application/octet-stream' },
          payload: obj,
        });
        assert.equal(fits.statusCode, 201, fits.body);
      });
      it('refuses an object name over 128 characters on POST /v1/objects/inspect', async (t) => {
        const a = await on(t);
        if (!a) return;
        const r = await a.inject({
          method: 'POST',
          url: `/v1/objects/inspect?name=${'a'.repeat(129)}`,
          headers: { ...auth, 'content-type': 'application/octet-stream' },
          payload: obj,
        });
        assert.match(problem(r, 400, 'REQUEST_INVALID').detail, /name at most 128 characters/);
      });
      it('refuses a key id over 64 characters naming its limit', async (t) => {
        const a = await on(t);
        if (!a) return;
        const r = await a.inject({
          method: 'POST',
          url: `/v1/loaders?key=${'k'.repeat(65)}`,
          headers: { ...auth, 'content-type': 'application/octet-stream' },
          payload: obj,
        });
        assert.match(problem(r, 400, 'REQUEST_INVALID').detail, /key at most 64 characters/);
      });
      it('refuses a policy name over 128 characters in a verification', async (t) => {
        const a = await on(t);
        if (!a) return;
        const r = await a.inject({
          method: 'POST',
          url: '/v1/verifications',
          headers: auth,
          payload: { header: '/* x */', policy: 'p'.repeat(129) },
        });
        assert.match(problem(r, 400, 'REQUEST_INVALID').detail, /policy at most 128 characters/);
      });
    });

    describe('numbers out of range', () => {
      for (const [what, index] of [
        ['past 2^63', '9223372036854775808'],
        ['past 2^64', '18446744073709551616'],
        ['negative', '-1'],
        ['not an integer', '1.5'],
      ] as const) {
        it(`answers 400 REQUEST_INVALID for a log index ${what}, on every route that takes one`, async (t) => {
          const a = await on(t);
          if (!a) return;
          for (const url of [`/v1/log/entries/${index}`, `/v1/log/proof/${index}`, `/v1/log/consistency?from=1&to=${index}`]) {
            problem(await a.inject({ url }), 400, 'REQUEST_INVALID');
          }
        });
      }
      it('answers 404 for the largest index the stores hold, 2^63 - 1, which no log reaches', async (t) => {
        const a = await on(t);
        if (!a) return;
        problem(await a.inject({ url: '/v1/log/entries/9223372036854775807' }), 404, 'LOG_ENTRY_NOT_FOUND');
        problem(await a.inject({ url: '/v1/log/proof/9223372036854775807' }), 404, 'LOG_ENTRY_NOT_FOUND');
      });
      it('answers 400 for signing options out of range: kernel version, CPUs, page size', async (t) => {
        const a = await on(t);
        if (!a) return;
        for (const q of [
          'kernelVersion=99999999999.1',
          'kernelVersion=6.256',
          'kernelVersion=6.1.9999999',
          'cpus=-1',
          'cpus=1.5',
          'cpus=65537',
          'pageSize=1e20',
          'pageSize=5000',
          'pageSize=0',
        ]) {
          const r = await a.inject({
            method: 'POST',
            url: `/v1/loaders?${q}`,
            headers: { ...auth, 'content-type': 'application/octet-stream' },
            payload: obj,
          });
          assert.match(problem(r, 400, 'REQUEST_INVALID').detail, new RegExp(q.split('=')[0]), q);
        }
      });
    });
  });
}
