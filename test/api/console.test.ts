/**
 * The web console's routes (GET / and its files) and its in-browser checks (src/api/console/verify.js),
 * the latter run here under Node's WebCrypto against the service's own tlog, signed-note and DSSE
 * code as the oracle. The page in a real browser: test/e2e/console.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { buildTestApp } from './helper.js';
import { ROOT } from '../support/objects.js';
import { consoleDir, CONSOLE_CSP } from '../../src/api/routes/console.js';
import {
  MerkleTree,
  hashLeaf,
  inclusionProof,
  consistencyProof,
  ed25519Signer,
  ed25519VerifierKey,
  formatCheckpoint,
  signNote,
} from '../../src/signing/tlog/index.js';
import { signEnvelope } from '../../src/signing/dsse.js';
import { activeSigner, createKeyring } from '../../src/service/keys.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const v: Record<string, (...a: any[]) => any> = await import(pathToFileURL(join(ROOT, 'src/api/console/verify.js')).href);
const enc = new TextEncoder();

describe('the console routes', () => {
  it('serves the page at / with a CSP that allows only its own origin', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/html/);
    assert.equal(r.headers['content-security-policy'], CONSOLE_CSP);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(r.body, /<script type="module" src="\/console\/app.js">/);
  });

  it('serves its script and style with their media types, and 304 for a matching ETag', async () => {
    const { app } = await buildTestApp();
    for (const [file, type] of [
      ['app.js', /^text\/javascript/],
      ['verify.js', /^text\/javascript/],
      ['console.css', /^text\/css/],
    ] as const) {
      const r = await app.inject({ method: 'GET', url: `/console/${file}` });
      assert.equal(r.statusCode, 200, file);
      assert.match(r.headers['content-type'] as string, type);
      const again = await app.inject({ method: 'GET', url: `/console/${file}`, headers: { 'if-none-match': r.headers.etag as string } });
      assert.equal(again.statusCode, 304);
    }
  });

  it('answers 404 problem+json for any other file, and keeps the console out of the OpenAPI document', async () => {
    const { app } = await buildTestApp();
    const r = await app.inject({ method: 'GET', url: '/console/..%2Fpackage.json' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().code, 'NOT_FOUND');
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(!('/' in doc.paths) && !Object.keys(doc.paths).some((p) => p.startsWith('/console')), Object.keys(doc.paths).join(' '));
  });

  it('finds its files from the compiled module, from the source module, or says where it looked', () => {
    assert.equal(consoleDir(join(ROOT, 'dist/src/api/routes')), join(ROOT, 'src/api/console'));
    assert.equal(consoleDir(join(ROOT, 'src/api/routes')), join(ROOT, 'src/api/console'));
    assert.throws(() => consoleDir('/'), /no src\/api\/console\/index.html/);
  });
});

describe("the console's checks agree with the service's log code", () => {
  const tree = new MerkleTree();
  const leaves = Array.from({ length: 21 }, (_, i) => enc.encode(`entry ${i}`));
  for (const l of leaves) tree.append(hashLeaf(l));

  it('hashes a leaf as RFC 6962 does', async () => {
    assert.deepEqual(await v.hashLeaf(leaves[3]), hashLeaf(leaves[3]));
  });

  it("computes the tree's root from every inclusion proof in trees of 1 to 21 leaves", async () => {
    for (let size = 1n; size <= 21n; size++) {
      for (let i = 0n; i < size; i++) {
        const root = await v.rootFromInclusion(i, size, tree.leaf(i), inclusionProof(tree, i, size));
        assert.deepEqual(root, tree.root(size), `index ${i} size ${size}`);
      }
    }
  });

  it('refuses an inclusion proof one hash short or with a hash changed', async () => {
    const proof = inclusionProof(tree, 5n, 21n);
    await assert.rejects(v.rootFromInclusion(5n, 21n, tree.leaf(5n), proof.slice(1)), /too short/);
    const bad = proof.map((h) => h.slice());
    bad[0][0] ^= 1;
    assert.notDeepEqual(await v.rootFromInclusion(5n, 21n, tree.leaf(5n), bad), tree.root(21n));
  });

  it('accepts every consistency proof between sizes up to 21 and refuses one for another root', async () => {
    for (let m = 1n; m <= 21n; m++) {
      for (let n = m; n <= 21n; n++) await v.verifyConsistency(m, n, tree.root(m), tree.root(n), consistencyProof(tree, m, n));
    }
    await assert.rejects(v.verifyConsistency(7n, 21n, tree.root(8n), tree.root(21n), consistencyProof(tree, 7n, 21n)), /root/);
  });

  it("verifies a checkpoint signed by the log's signer with WebCrypto Ed25519, and refuses a changed one", async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const raw = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(12);
    const vkey = ed25519VerifierKey('example.test/log', raw);
    const note = signNote(formatCheckpoint({ origin: 'example.test/log', size: 21n, root: tree.root(21n) }), [
      ed25519Signer('example.test/log', pem),
    ]);
    const r = await v.verifyNote(note, vkey);
    assert.equal(r.checkpoint.size, 21n);
    assert.deepEqual(r.checkpoint.root, tree.root(21n));
    await assert.rejects(v.verifyNote(note.replace('\n21\n', '\n22\n'), vkey), /does not verify/);
    const other = generateKeyPairSync('ed25519').publicKey;
    await assert.rejects(
      v.verifyNote(
        note,
        ed25519VerifierKey('example.test/log', new Uint8Array(other.export({ type: 'spki', format: 'der' })).subarray(12)),
      ),
      /no signature by/,
    );
  });

  it("verifies a DSSE envelope against the signer's certificate (keyid = SKI) and refuses a changed payload", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bpfsign-console-')), 'keys');
    await createKeyring(dir, new Date());
    const { signer, certificates } = await activeSigner(dir);
    const env = await signEnvelope(enc.encode('{"a":1}'), 'application/vnd.in-toto+json', signer);
    const cert = await v.verifyEnvelope(env, certificates);
    assert.equal(cert.ski, env.signatures[0].keyid);
    assert.match(cert.subject, /^CN=/);
    await assert.rejects(v.verifyEnvelope({ ...env, payload: Buffer.from('{"a":2}').toString('base64') }, certificates), /does not verify/);
  });
});
