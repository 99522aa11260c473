/**
 * POST /v1/loaders options: a multipart form (the object plus fields) means the same as the
 * query string; a key id picks a key of the keyring; a kernel profile adds the map-exclusivity
 * check; bad options are 400 problem+json naming the field. And GET /v1/log/proof/{index}: a
 * C2SP tlog-proof file that verifies offline against the bundle's log entry (made from the bundle).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { bearer, buildTestApp, TOKENS } from './helper.js';
import { rotateKey } from '../../src/service/keys.js';
import { loaderEntryBytes, loaderEntryFromBundle, parseVerifierKey, verifyTlogProof } from '../../src/signing/tlog/index.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));

/** A multipart/form-data body: text fields, then the object as the file part `object` (or another name). */
function form(fields: Record<string, string>, file: Buffer | null, fileField = 'object') {
  const boundary = '----bpfsign-test-boundary';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file)
    parts.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${fileField}"; filename="x.o"\r\ncontent-type: application/octet-stream\r\n\r\n`,
      ),
      file,
      Buffer.from('\r\n'),
    );
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...bearer(TOKENS.all) } };
}

describe('POST /v1/loaders as multipart/form-data', () => {
  it('makes the same loader as the octet-stream request with the same options', async () => {
    const { app } = await buildTestApp();
    const a = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'xdp_filter', scheme: 'linux-load-time' }, obj) });
    assert.equal(a.statusCode, 201, a.body);
    const b = await app.inject({
      method: 'POST',
      url: '/v1/loaders?name=xdp_filter&scheme=linux-load-time',
      payload: obj,
      headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
    });
    assert.equal(b.statusCode, 201, b.body);
    assert.equal(a.json().bundle.scheme, 'linux-load-time');
    assert.deepEqual(a.json().bundle.loader, b.json().bundle.loader);
  });

  it('lets form fields override the query string', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({ method: 'POST', url: '/v1/loaders?scheme=linux-6.18', ...form({ scheme: 'unsigned', name: 'f' }, obj) });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().bundle.scheme, 'unsigned');
    assert.equal(r.json().bundle.signature, null);
  });

  it('refuses a form without the object part, a file under another name, and an unknown field', async () => {
    const { app } = await buildTestApp();
    const none = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'x' }, null) });
    assert.equal(none.statusCode, 400);
    assert.equal(none.headers['content-type'], 'application/problem+json; charset=utf-8');
    const other = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({}, obj, 'file') });
    assert.equal(other.statusCode, 400);
    assert.equal(other.json().details.field, 'file');
    const unknown = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ colour: 'blue' }, obj) });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().detail, /colour/);
  });

  it('refuses a bad option value naming the field', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ scheme: 'linux-5.0' }, obj) });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'REQUEST_INVALID');
    assert.equal(r.json().details.field, 'scheme');
  });
});

describe('signing key and kernel profile options', () => {
  it('signs with the key named by id, also after a rotation made another key active', async () => {
    const { app, keysDir } = await buildTestApp();
    const first = (await app.inject({ url: '/v1/keys' })).json().keys[0].id as string;
    await rotateKey(keysDir, new Date());
    const keys = (await app.inject({ url: '/v1/keys' })).json().keys as { id: string; active: boolean; certificate: string }[];
    assert.equal(keys.find((k) => k.active)!.id === first, false);
    const r = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'xdp_filter', key: first }, obj) });
    assert.equal(r.statusCode, 201, r.body);
    assert.deepEqual(r.json().bundle.certificates, [keys.find((k) => k.id === first)!.certificate]);
    const d = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'xdp_filter' }, obj) });
    assert.deepEqual(d.json().bundle.certificates, [keys.find((k) => k.active)!.certificate]);
  });

  it('refuses an unknown key id with KEY_NOT_FOUND and logs nothing', async () => {
    const { app, store } = await buildTestApp();
    const r = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ key: 'no-such-key' }, obj) });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'KEY_NOT_FOUND');
    assert.equal(r.json().details.field, 'key');
    assert.equal(await store.logSize(), 0n);
  });

  it('adds the map-exclusivity check for the linux-6.18-excl profile and records it in the manifest', async () => {
    const { app } = await buildTestApp();
    const plain = (await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'xdp_filter' }, obj) })).json();
    const excl = (
      await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'xdp_filter', profile: 'linux-6.18-excl' }, obj) })
    ).json();
    assert.notEqual(excl.bundle.loader.insns, plain.bundle.loader.insns);
    const manifest = (await app.inject({ url: `/v1/loaders/${excl.id}/manifest` })).json();
    assert.equal(manifest.kernelProfile.mapExcl, true);
  });
});

describe('GET /v1/log/proof/{index}', () => {
  it('serves a C2SP tlog-proof that verifies offline against the logged manifest and the log key', async () => {
    const { app } = await buildTestApp();
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push((await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'xdp_filter' }, obj) })).json());
    const trust = (await app.inject({ url: '/v1/keys' })).json();
    for (const m of made) {
      const r = await app.inject({ url: `/v1/log/proof/${m.bundle.tlog.logIndex}` });
      assert.equal(r.statusCode, 200);
      assert.match(r.headers['content-type'] as string, /^text\/plain/);
      assert.match(r.body, /^c2sp\.org\/tlog-proof@v1\nindex \d+\n/);
      const v = verifyTlogProof(
        r.body,
        loaderEntryBytes(loaderEntryFromBundle(m.bundle)),
        [parseVerifierKey(trust.logKey)],
        trust.logOrigin,
      );
      assert.equal(v.index.toString(), m.bundle.tlog.logIndex);
      assert.equal(v.checkpoint.size, 3n);
    }
  });

  it('answers 404 for an index the log does not have and 400 for one that is not a number', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({ url: '/v1/log/proof/0' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().code, 'LOG_ENTRY_NOT_FOUND');
    assert.equal((await app.inject({ url: '/v1/log/proof/01' })).statusCode, 400);
  });
});

describe('anonymous reads', () => {
  it('are allowed by default and need the audit scope when configured off', async () => {
    const open = await buildTestApp();
    assert.equal((await open.app.inject({ url: '/v1/log/checkpoint' })).statusCode, 200);
    const closed = await buildTestApp({ anonymousReads: false });
    for (const url of [
      '/v1/log/checkpoint',
      '/v1/keys',
      '/v1/manifests/' + 'a'.repeat(64),
      '/v1/loaders/00000000-0000-4000-8000-000000000000',
    ]) {
      const r = await closed.app.inject({ url });
      assert.equal(r.statusCode, 401, `${url}: ${r.body}`);
    }
    assert.equal((await closed.app.inject({ url: '/v1/log/checkpoint', headers: bearer(TOKENS.verifyOnly) })).statusCode, 403);
    assert.equal((await closed.app.inject({ url: '/v1/log/checkpoint', headers: bearer(TOKENS.all) })).statusCode, 200);
    assert.equal((await closed.app.inject({ url: '/healthz' })).statusCode, 200, 'health stays public');
  });
});

describe("POST /v1/loaders takes gen's host inputs", () => {
  const ksyms = readFileSync(join(FIXTURES, 'obj/ksyms.clang-el.o'));
  const kcfgObj = join(FIXTURES, 'obj/globals.clang-el.o');

  it('ksym gives the addresses a ksym extern needs, and the loader is the one gen --ksym makes', async () => {
    const { app } = await buildTestApp();
    const without = await app.inject({
      method: 'POST',
      url: '/v1/loaders?name=ksyms&scheme=unsigned',
      payload: ksyms,
      headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
    });
    assert.equal(without.statusCode, 422, 'a strong ksym without its address is refused');
    const r = await app.inject({
      method: 'POST',
      url: '/v1/loaders',
      ...form({ name: 'ksyms', scheme: 'unsigned', ksym: 'bpf_prog_fops=0xffffffff81000000' }, ksyms),
    });
    assert.equal(r.statusCode, 201, r.body);
    const { buildLoader } = await import('../../src/service/loader.js');
    const want = buildLoader(new Uint8Array(ksyms), 'ksyms.o', {
      scheme: 'unsigned',
      name: 'ksyms',
      flavour: 'v1.7',
      standalone: false,
      mapExcl: false,
      host: { ksymAddresses: { bpf_prog_fops: 0xffffffff81000000n } },
    });
    assert.equal(r.json().bundle.loader.insns, Buffer.from(want.loader.insns).toString('base64'));
  });

  it('kconfig sets the values of __kconfig externs (CONFIG_NAME=VALUE, comma-separated)', async () => {
    const { app } = await buildTestApp();
    const obj2 = readFileSync(kcfgObj);
    const a = await app.inject({
      method: 'POST',
      url: '/v1/loaders?name=g&scheme=unsigned&kconfig=CONFIG_HZ%3D250',
      payload: obj2,
      headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
    });
    assert.equal(a.statusCode, 201, a.body);
  });

  it('refuses a malformed ksym or kconfig list with 400 naming the field', async () => {
    const { app } = await buildTestApp();
    for (const [field, value] of [
      ['ksym', 'bpf_prog_fops'],
      ['ksym', 'a=0xZZ'],
      ['ksym', 'a=18446744073709551616'],
      ['kconfig', 'HZ=250'],
      ['kconfig', 'CONFIG_A=1,,'],
    ] as const) {
      const r = await app.inject({ method: 'POST', url: '/v1/loaders', ...form({ name: 'k', [field]: value }, ksyms) });
      assert.equal(r.statusCode, 400, `${field}=${value}: ${r.body}`);
      assert.equal(r.json().details.field, field);
    }
  });
});
