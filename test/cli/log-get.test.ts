/**
 * `bpfsign log get INDEX` and `bpfsign manifest get SHA256` against a service on a port: the
 * decoded entry and manifest, as text and as --json, each checked (inclusion under a checkpoint
 * signed by the log key, the entry naming the manifest served); a wrong log key or a manifest
 * the log does not name is refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { FIXTURES } from '../support/objects.js';
import { buildTestApp, bearer, TOKENS } from '../api/helper.js';
import { runLogGet, runManifestGet } from '../../src/cli/log-get.js';
import { ed25519VerifierKey, loaderEntryBytes, loaderEntryFromBundle } from '../../src/signing/tlog/index.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { sha256Hex } from '../../src/shared/bytes.js';
import type { Bundle } from '../../src/signing/bundle.js';

// At the top level: the helper closes the app after the file's tests (an after() of the root).
const { app } = await buildTestApp();
const made: { id: string; bundle: Bundle }[] = [];
for (const f of ['xdp_filter.clang-el.o', 'big.clang-el.o']) {
  const r = await app.inject({
    method: 'POST',
    url: '/v1/loaders?name=obj',
    headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
    payload: readFileSync(join(FIXTURES, 'obj', f)),
  });
  assert.equal(r.statusCode, 201, r.body);
  made.push(r.json());
}
await app.listen({ port: 0, host: '127.0.0.1' });
const server = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const logKey = (await app.inject({ url: '/v1/keys' })).json().logKey as string;

describe('bpfsign log get and manifest get', () => {
  const run = async (f: (out: (s: string) => void) => Promise<number>) => {
    const lines: string[] = [];
    const code = await f((s) => lines.push(s));
    return { code, text: lines.join('\n') };
  };

  it('prints an entry decoded, its inclusion checked under the signed checkpoint', async () => {
    const b = made[1].bundle;
    const entry = loaderEntryFromBundle(b);
    const r = await run((out) => runLogGet(b.tlog!.logIndex, { server, logKey, json: false }, out));
    assert.equal(r.code, 0);
    assert.match(r.text, new RegExp(`^entry 1 of bpfsign.test/log \\(bpfsign/loader/v1\\), logged .*, loader ${made[1].id}`));
    assert.match(r.text, new RegExp(`manifest   sha256:${entry.manifestSha256}`));
    assert.match(r.text, /included   under the checkpoint of size 2 signed by bpfsign.test\/log/);
    const j = await run((out) => runLogGet('1', { server, logKey, json: true }, out));
    const parsed = JSON.parse(j.text);
    assert.deepEqual(parsed.entry, entry);
    assert.equal(Buffer.from(loaderEntryBytes(parsed.entry)).length < 1024, true, 'a small entry even for big.o');
    assert.equal(parsed.logKeyPinned, true);
  });

  it("prints a manifest found by its own digest, by its object's and by its loader's, checked against the log", async () => {
    const b = made[1].bundle;
    const digest = sha256Hex(canonicalBytes(b.manifest as never));
    const entry = loaderEntryFromBundle(b);
    for (const sha of [digest, entry.objectSha256, entry.insnsSha256]) {
      const r = await run((out) => runManifestGet(sha, { server, logKey, json: false }, out));
      assert.equal(r.code, 0);
      assert.match(r.text, new RegExp(`^manifest sha256:${digest} \\(https://bpfsign.dev/manifest/v1\\) of loader ${made[1].id}`));
      assert.match(r.text, /logged     entry 1 of bpfsign.test\/log, included/);
    }
    const j = JSON.parse((await run((out) => runManifestGet(digest, { server, json: true }, out))).text);
    assert.equal(j.manifests[0].manifestSha256, digest);
    assert.equal(j.manifests[0].statement.predicate.object.sha256, entry.objectSha256);
    assert.equal(j.logKeyPinned, false);
  });

  it('refuses a checkpoint not signed by the given log key, an unknown digest and a bad index', async () => {
    const other = ed25519VerifierKey(
      'bpfsign.test/log',
      new Uint8Array(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' })).subarray(12),
    );
    await assert.rejects(
      runLogGet('0', { server, logKey: other, json: false }, () => {}),
      { code: 'TLOG_CHECKPOINT_SIGNATURE' },
    );
    await assert.rejects(
      runManifestGet('0'.repeat(64), { server, logKey, json: false }, () => {}),
      { code: 'MANIFEST_NOT_FOUND' },
    );
    await assert.rejects(
      runLogGet('7', { server, logKey, json: false }, () => {}),
      { code: 'HTTP_404' },
    );
    await assert.rejects(
      runLogGet('01', { server, logKey, json: false }, () => {}),
      /not a decimal number/,
    );
  });
});
