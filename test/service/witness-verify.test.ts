/**
 * A bundle signed by a log with two witnesses carries a cosigned checkpoint, and `bpfsign verify`
 * with a policy requiring both checks the cosignatures offline; a policy naming a witness that
 * did not cosign refuses it (transparencyLog fails).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { buildTestApp, bearer, TOKENS } from '../api/helper.js';
import { Witness } from '../../src/service/witness.js';
import { WitnessClient } from '../../src/service/witness-client.js';
import { startWitnessServer } from '../../src/service/witness-server.js';
import { ed25519Cosigner } from '../../src/signing/tlog/cosignature.js';
import { ed25519VerifierKey } from '../../src/signing/tlog/index.js';
import { FIXTURES } from '../support/objects.js';

const CLI = join(new URL('.', import.meta.url).pathname, '../../src/cli/main.js');
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('verify with a policy that requires witnesses', () => {
  it('passes a bundle whose checkpoint both witnesses cosigned, and refuses one a third witness did not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-wverify-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const { app, log, publicKey, keysDir } = await buildTestApp();
    const logVkey = ed25519VerifierKey('bpfsign.test/log', publicKey);
    const cosigners = ['witness.test/one', 'witness.test/two', 'witness.test/absent'].map((n) => ed25519Cosigner(n, pem()));
    const servers = await Promise.all(
      cosigners
        .slice(0, 2)
        .map((c, i) => startWitnessServer(new Witness(c, [{ origin: 'bpfsign.test/log', keys: [logVkey] }], join(dir, `w${i}.json`)))),
    );
    after(async () => {
      for (const s of servers) await s.close();
    });
    log.cosign = new WitnessClient(
      servers.map((s, i) => ({ url: s.url, key: cosigners[i].vkey })),
      async (a, b) => (await log.consistency(a, b)).hashes,
    ).cosign;

    const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
    const r = await app.inject({
      method: 'POST',
      url: '/v1/loaders?name=xdp_filter',
      headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
      payload: obj,
    });
    assert.equal(r.statusCode, 201, r.body);
    const bundlePath = join(dir, 'xdp_filter.bundle.json');
    writeFileSync(bundlePath, JSON.stringify((r.json() as { bundle: unknown }).bundle));

    const policy = (witnesses: typeof cosigners) => {
      const p = join(dir, `policy-${witnesses.length}.json`);
      writeFileSync(
        p,
        JSON.stringify({
          version: 1,
          name: 'witnessed',
          roots: [readFileSync(join(keysDir, 'ca.pem'), 'utf8')],
          logKeys: [logVkey],
          witnesses: witnesses.map((c) => ({ name: c.name, key: c.vkey })),
          checks: { replay: 'skip', object: 'skip', hardening: 'skip', contents: 'skip', files: 'skip' },
        }),
      );
      return p;
    };
    const verify = (p: string) => spawnSync(process.execPath, [CLI, 'verify', bundlePath, '--policy', p, '--json'], { encoding: 'utf8' });
    const ok = verify(policy(cosigners.slice(0, 2)));
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /cosigned by witness\.test\/one, witness\.test\/two/);
    const refused = verify(policy(cosigners));
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /want 3 of 3 \(missing: witness\.test\/absent\)/);
  });
});
