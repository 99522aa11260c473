/**
 * GET /v1/loaders/{id}/skeleton?lang=c|go|rust: a stored loader's light skeleton in a language,
 * the same text `bpfsign gen --lang` writes for the same loader and signature.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { bearer, buildTestApp, TOKENS } from './helper.js';
import { buildLoader, skeletonFile } from '../../src/service/loader.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));

async function stored(scheme: string) {
  const t = await buildTestApp();
  const r = await t.app.inject({
    method: 'POST',
    url: `/v1/loaders?name=xdp_filter&scheme=${scheme}`,
    headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
    payload: obj,
  });
  assert.equal(r.statusCode, 201, r.body);
  return { app: t.app, id: r.json().id as string, bundle: r.json().bundle as { signature: string | null } };
}

describe('GET /v1/loaders/{id}/skeleton', () => {
  it('answers the Go skeleton of a signed loader, with the signature embedded, named by Content-Disposition', async () => {
    const { app, id, bundle } = await stored('linux-6.18');
    const r = await app.inject({ method: 'GET', url: `/v1/loaders/${id}/skeleton?lang=go`, headers: bearer(TOKENS.all) });
    assert.equal(r.statusCode, 200, r.body);
    assert.match(String(r.headers['content-type']), /^text\/x-go/);
    assert.equal(r.headers['content-disposition'], 'attachment; filename="xdp_filter.lskel.go"');
    const built = buildLoader(new Uint8Array(obj), 'xdp_filter.o', {
      scheme: 'linux-6.18',
      name: 'xdp_filter',
      flavour: 'v1.7',
      standalone: false,
      mapExcl: false,
      host: {},
    });
    assert.equal(
      r.body,
      skeletonFile(built, 'go', new Uint8Array(Buffer.from(bundle.signature!, 'base64'))).text,
      'the text bpfsign gen --lang go writes for it',
    );
  });

  it('answers the C header by default, as GET …/lskel.h does', async () => {
    const { app, id } = await stored('unsigned');
    const a = await app.inject({ method: 'GET', url: `/v1/loaders/${id}/skeleton`, headers: bearer(TOKENS.all) });
    const b = await app.inject({ method: 'GET', url: `/v1/loaders/${id}/lskel.h`, headers: bearer(TOKENS.all) });
    assert.equal(a.statusCode, 200);
    assert.match(String(a.headers['content-type']), /^text\/x-c/);
    assert.equal(a.body, b.body);
  });

  it('refuses a language it does not know as a bad request', async () => {
    const { app, id } = await stored('unsigned');
    const r = await app.inject({ method: 'GET', url: `/v1/loaders/${id}/skeleton?lang=zig`, headers: bearer(TOKENS.all) });
    assert.equal(r.statusCode, 400);
    assert.match(String(r.headers['content-type']), /problem\+json/);
  });
});
