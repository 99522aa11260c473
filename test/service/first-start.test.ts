/** First-start keys: one keyring, one log key and one token whoever publishes first; production tells development keys apart. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataFolder, developmentKeys, ensureDevToken, ensureKeyring, ensureLogKey, writeOnce } from '../../src/service/first-start.js';
import { listKeys } from '../../src/service/keys.js';
import { createDevelopmentCa, toPem } from '../../src/signing/index.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'bpfsign-first-start-'));

describe('first start', () => {
  it('ends with one keyring when several are made at once, and leaves no temporary folder', async () => {
    const dir = fresh();
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureKeyring(join(dir, 'keys'), new Date())));
    const winners = results.filter((r) => r.created !== null);
    assert.equal(winners.length, 1, 'exactly one keyring was published');
    const keys = listKeys(join(dir, 'keys')).keys;
    assert.deepEqual(
      keys.map((k) => k.id),
      [winners[0]!.created!.id],
    );
    assert.deepEqual(readdirSync(dir), ['keys']);
  });

  it('reads the file another replica published between its check and its publication', () => {
    const dir = fresh();
    const path = join(dir, 'dev-token');
    const r = writeOnce(
      path,
      () => 'mine',
      () => writeFileSync(path, 'theirs'),
    );
    assert.deepEqual(r, { value: 'theirs', created: false });
    assert.deepEqual(readdirSync(dir), ['dev-token'], 'the private copy is gone');
  });

  it('makes the log key and the token once and reads them afterwards', () => {
    const folder = dataFolder(fresh());
    const first = ensureLogKey(folder);
    assert.equal(first.created, true);
    assert.deepEqual(ensureLogKey(folder), { pem: first.pem, created: false });
    const token = ensureDevToken(folder);
    assert.deepEqual(ensureDevToken(folder), { token: token.token, created: false });
  });

  it('names missing keys and generated ones as development keys', async () => {
    const folder = dataFolder(fresh());
    assert.deepEqual(
      developmentKeys(folder).map((s) => s.split(' (')[0]),
      ['no log key', 'no signing keys'],
    );
    ensureLogKey(folder);
    await ensureKeyring(folder.keysDir, new Date());
    assert.deepEqual(
      developmentKeys(folder).map((s) => s.split(' (')[0]),
      ['a generated log key', 'the development CA'],
    );
  });

  it("accepts an operator's log key and a keyring under another CA", async () => {
    const folder = dataFolder(fresh());
    writeFileSync(folder.logKeyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    ensureLogKey(dataFolder(fresh())); // a generated key elsewhere is no business of this folder
    const ca = await createDevelopmentCa({ now: new Date(), name: 'Example Corp release' });
    mkdirSync(folder.keysDir);
    writeFileSync(join(folder.keysDir, 'ca.pem'), await toPem('CERTIFICATE', ca.caCert));
    writeFileSync(join(folder.keysDir, 'keys.json'), JSON.stringify({ ca: 'ca.pem', caKey: 'none', keys: [] }));
    assert.deepEqual(developmentKeys(folder), []);
    assert.equal(readFileSync(folder.logKeyPath, 'utf8').includes('PRIVATE KEY'), true);
  });
});
