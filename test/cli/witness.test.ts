/**
 * `bpfsign witness` as a user runs it: `witness key` prints the verifier key it made, and
 * `witness serve` answers POST /add-checkpoint with a cosignature by that key, then refuses an
 * old size it no longer holds (409 and its size).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519Signer, ed25519VerifierKey, formatCheckpoint, signNote } from '../../src/signing/tlog/index.js';
import { noteCosignatures, parseCosignerKey } from '../../src/signing/tlog/cosignature.js';

const CLI = join(new URL('.', import.meta.url).pathname, '../../src/cli/main.js');

describe('bpfsign witness', () => {
  it('makes a key, serves add-checkpoint, cosigns with that key and keeps the size it cosigned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-witness-cli-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const key = spawnSync(process.execPath, [CLI, 'witness', 'key', '--dir', dir, '--name', 'witness.test/cli'], { encoding: 'utf8' });
    assert.equal(key.status, 0, key.stderr);
    const vkey = key.stdout.trim();
    assert.match(vkey, /^witness\.test\/cli\+[0-9a-f]{8}\+/);

    const origin = 'bpfsign.test/cli-log';
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const logVkey = ed25519VerifierKey(origin, new Uint8Array(createPublicKey(pem).export({ type: 'spki', format: 'der' })).subarray(12));
    const child = spawn(
      process.execPath,
      [CLI, 'witness', 'serve', '--dir', dir, '--name', 'witness.test/cli', '--log', logVkey, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    after(() => child.kill('SIGTERM'));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (\S+);/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`witness exited ${code}`)));
    });
    assert.equal((await (await fetch(`${url}/`)).text()).trim(), vkey);
    const note = signNote(formatCheckpoint({ origin, size: 3n, root: new Uint8Array(32).fill(7) }), [ed25519Signer(origin, pem)]);
    const r = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${note}` });
    assert.equal(r.status, 200);
    const lines = await r.text();
    assert.deepEqual(
      noteCosignatures(note + lines, [parseCosignerKey(vkey)]).map((c) => c.name),
      ['witness.test/cli'],
    );
    const again = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${note}` });
    assert.equal(again.status, 409);
    assert.equal(again.headers.get('content-type'), 'text/x.tlog.size');
    assert.equal(await again.text(), '3\n');
  });
});
