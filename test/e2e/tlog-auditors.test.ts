/**
 * The log as auditors read it, against the real server holding large objects (every fixture,
 * big.o among them, and every libxdp1 object): every C2SP entry bundle is served and every entry
 * in it is a small loader record whose manifest is served by its digest; and a third party's
 * client — test/go/tlogcheck, on Go's golang.org/x/mod/sumdb/note and sumdb/tlog — accepts the
 * checkpoint, every inclusion proof, a consistency proof and every hash tile.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allObjects, ROOT } from '../support/objects.js';
import { startServer } from './support.js';
import { MAX_ENTRY_BYTES, parseLoaderEntry, type LoaderEntry } from '../../src/signing/tlog/index.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { sha256Hex } from '../../src/shared/bytes.js';

/** Debian's golang-golang-x-mod-dev puts golang.org/x/mod here; built in GOPATH mode, offline. */
const GOPATH = '/usr/share/gocode';
const goEnv = (cache: string) => ({ ...process.env, GOPATH, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: cache });

describe('a log holding every fixture, big.o and every libxdp1 object', () => {
  let url = '';
  let oldCheckpoint = '';
  const refused: string[] = [];
  let signed = 0;
  let stop = () => {};
  after(() => stop());
  before(async () => {
    const srv = await startServer({ BPFSIGN_RATE_LIMIT: '1000000' });
    stop = () => srv.proc.kill('SIGTERM');
    url = srv.url;
    const objects = allObjects();
    for (const [i, o] of objects.entries()) {
      const r = await fetch(`${url}/v1/loaders?name=o${i}`, {
        method: 'POST',
        body: readFileSync(o.path),
        headers: { 'content-type': 'application/octet-stream' },
      });
      // Objects the generator refuses (typed 4xx: struct_ops, ksyms without addresses, …) are not logged.
      if (r.status === 201) signed++;
      else {
        const text = await r.text();
        assert.ok(r.status >= 400 && r.status < 500, `${o.name}: ${r.status} ${text}`);
        refused.push(`${o.name} (${(JSON.parse(text) as { code: string }).code})`);
      }
      if (i === Math.floor(objects.length / 2)) oldCheckpoint = await (await fetch(`${url}/v1/log/checkpoint`)).text();
    }
    process.stdout.write(`# signed ${signed} of ${objects.length} objects; refused: ${refused.join(', ') || 'none'}\n`);
  });

  it('serves every entry bundle, each entry a small loader record whose manifest is served by its digest', async () => {
    const size = Number((await (await fetch(`${url}/v1/log/checkpoint`)).text()).split('\n')[1]);
    assert.equal(size, signed);
    assert.ok(signed >= 30, `only ${signed} objects signed`);
    const entries: { bytes: Uint8Array; entry: LoaderEntry }[] = [];
    for (let n = 0; n * 256 < size; n++) {
      const w = Math.min(256, size - n * 256);
      const path = `${String(n).padStart(3, '0')}${w < 256 ? `.p/${w}` : ''}`;
      const r = await fetch(`${url}/v1/log/tile/entries/${path}`);
      assert.equal(r.status, 200, `entry bundle ${path}`);
      assert.equal(r.headers.get('cache-control'), w < 256 ? 'public, max-age=5' : 'public, max-age=31536000, immutable');
      const b = Buffer.from(await r.arrayBuffer());
      for (let at = 0; at < b.length;) {
        const len = b.readUInt16BE(at);
        const bytes = new Uint8Array(b.subarray(at + 2, at + 2 + len));
        entries.push({ bytes, entry: parseLoaderEntry(bytes) });
        at += 2 + len;
      }
    }
    assert.equal(entries.length, size);
    const max = Math.max(...entries.map((e) => e.bytes.length));
    process.stdout.write(`# ${entries.length} entries, ${Math.min(...entries.map((e) => e.bytes.length))}..${max} bytes each\n`);
    assert.ok(max < MAX_ENTRY_BYTES, `largest entry ${max} bytes`);
    for (const { entry } of entries) {
      const m = (await (await fetch(`${url}/v1/manifests/${entry.manifestSha256}`)).json()) as { manifests: { envelope: unknown }[] };
      assert.equal(m.manifests.length, 1, `manifest ${entry.manifestSha256}`);
      assert.equal(sha256Hex(canonicalBytes(m.manifests[0].envelope)), entry.manifestSha256);
    }
  });

  it("is accepted by Go's golang.org/x/mod sumdb/note and sumdb/tlog (test/go/tlogcheck)", (t) => {
    if (spawnSync('go', ['version']).status !== 0) return t.skip('go is not installed (scripts/install-deps.sh installs golang-go)');
    if (!existsSync(join(GOPATH, 'src/golang.org/x/mod/sumdb/tlog')))
      return t.skip(`no golang.org/x/mod under ${GOPATH} (Debian's golang-golang-x-mod-dev)`);
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-tlogcheck-'));
    const bin = join(dir, 'tlogcheck');
    const build = spawnSync('go', ['build', '-o', bin, '.'], {
      cwd: join(ROOT, 'test/go/tlogcheck'),
      env: goEnv(join(dir, 'cache')),
      encoding: 'utf8',
    });
    assert.equal(build.status, 0, build.stderr);
    const old = join(dir, 'old.checkpoint');
    writeFileSync(old, oldCheckpoint);
    const run = spawnSync(bin, ['-server', url, '-old', old], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    process.stdout.write(`# ${run.stdout}`);
    assert.match(
      run.stdout,
      new RegExp(
        `^tlogcheck: OK origin \\S+ size ${signed}: 1 entry bundles, ${signed} records .* ${signed} inclusion proofs, 1 tree proofs, \\d+ tiles equal to tlog's`,
      ),
    );
  });
});
