/**
 * Uploads (src/api/upload.ts), seen through POST /v1/objects/inspect: a multipart form (the file
 * part `object` and a `name` field, as a browser, /docs or curl -F sends it) means the same as the
 * object's bytes with the name in the query string; bad fields and parts are 400 problems.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { bearer, buildTestApp, TOKENS } from './helper.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));

function form(fields: Record<string, string>, file: Buffer | null, fileField = 'object'): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (file) f.append(fileField, new Blob([file]), 'x.o');
  return f;
}

describe('POST /v1/objects/inspect as multipart/form-data', () => {
  it('tells what the object contains, as for its bytes with the same name', async () => {
    const { app } = await buildTestApp();
    const bytes = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect?name=xdp',
      headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
      payload: obj,
    });
    const multipart = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: bearer(TOKENS.all),
      payload: form({ name: 'xdp' }, obj),
    });
    assert.equal(bytes.statusCode, 200);
    assert.equal(multipart.statusCode, 200, multipart.body);
    assert.deepEqual(multipart.json(), bytes.json());
    assert.equal(multipart.json().name, 'xdp');
  });

  it('takes the name from the form over the query string', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect?name=fromquery',
      headers: bearer(TOKENS.all),
      payload: form({ name: 'fromform' }, obj),
    });
    assert.equal(r.json().name, 'fromform');
  });

  it('answers 400 naming the field for a name that is not a C identifier', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: bearer(TOKENS.all),
      payload: form({ name: 'no-dash' }, obj),
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'REQUEST_INVALID');
    assert.equal(r.json().details.field, 'name');
    assert.match(r.headers['content-type'] as string, /^application\/problem\+json/);
  });

  it('answers 400 for a form without the object, or with it under another name', async () => {
    const { app } = await buildTestApp();
    const none = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: bearer(TOKENS.all),
      payload: form({ name: 'xdp' }, null),
    });
    assert.equal(none.statusCode, 400);
    assert.match(none.json().detail, /multipart part 'object'/);
    const other = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: bearer(TOKENS.all),
      payload: form({}, obj, 'file'),
    });
    assert.equal(other.statusCode, 400);
    assert.equal(other.json().details.field, 'file');
  });
});

describe('POST /v1/objects/inspect with a malformed form', () => {
  const B = '----bpfsign-boundary';
  const post = async (contentType: string, payload: string) => {
    const { app } = await buildTestApp();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/objects/inspect',
      headers: { 'content-type': contentType, ...bearer(TOKENS.all) },
      payload,
    });
    return { status: r.statusCode, code: r.json().code as string, detail: r.json().detail as string };
  };

  it('answers 400 MULTIPART_INVALID for a form without a boundary', async () => {
    const r = await post('multipart/form-data', 'abc');
    assert.deepEqual([r.status, r.code], [400, 'MULTIPART_INVALID']);
  });

  it('answers 400 MULTIPART_INVALID for a form cut off inside its file part', async () => {
    const r = await post(
      `multipart/form-data; boundary=${B}`,
      `--${B}\r\ncontent-disposition: form-data; name="object"; filename="x.o"\r\n\r\nabc`,
    );
    assert.deepEqual([r.status, r.code], [400, 'MULTIPART_INVALID']);
  });

  it('refuses a field over 1024 bytes with 400 naming it, rather than cutting it', async () => {
    const r = await post(
      `multipart/form-data; boundary=${B}`,
      `--${B}\r\ncontent-disposition: form-data; name="name"\r\n\r\n${'a'.repeat(5000)}\r\n--${B}--\r\n`,
    );
    assert.deepEqual([r.status, r.code], [400, 'REQUEST_INVALID']);
    assert.match(r.detail, /option name: at most 1024 bytes/);
  });
});
