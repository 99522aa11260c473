import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import {
  canonicalize,
  makeStatement,
  pae,
  signEnvelope,
  signStatement,
  signerFromPem,
  verifyEnvelope,
  verifyStatement,
} from '../../src/signing/index.js';
import { Lru } from '../../src/shared/lru.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { envelopeSha256, preparePayload } from '../../src/signing/dsse.js';
import type { Statement } from '../../src/signing/statement.js';
import type { Certificate } from '../../src/signing/x509/certificate.js';
import { isDeepFrozen } from '../../src/shared/freeze.js';
import type { Signer } from '../../src/signing/index.js';
import { OPENSSL_MISSING, mintPki, openssl, tempDir, writeFile, type Pki } from './helpers.js';

describe('pae', () => {
  it('encodes the DSSE v1 example as "DSSEv1 29 http://example.com/HelloWorld 11 hello world"', () => {
    const out = pae('http://example.com/HelloWorld', new TextEncoder().encode('hello world'));
    assert.equal(new TextDecoder().decode(out), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts bytes, not characters', () => {
    assert.equal(new TextDecoder().decode(pae('t/€', new Uint8Array([0xff]))), 'DSSEv1 5 t/€ 1 \ufffd');
  });
});

describe('preparePayload', () => {
  it("gives the payload's base64 and that string's JSON text, and PAE over the payload", () => {
    const payload = new TextEncoder().encode('{"_type":"x","é":"\u2028"}');
    const p = preparePayload(payload, 'application/vnd.in-toto+json');
    assert.equal(p.base64, Buffer.from(payload).toString('base64'));
    assert.deepEqual(p.json, Buffer.from(JSON.stringify(p.base64), 'utf8'));
    assert.deepEqual(p.pae, pae('application/vnd.in-toto+json', payload));
  });
});

describe('envelopeSha256', () => {
  const payload = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 131) & 0xff)).toString('base64');
  const sigs = [{ keyid: 'ab', sig: 'MEUCIQ==' }];
  const digest = (e: unknown) => createHash('sha256').update(canonicalBytes(e)).digest('hex');

  it("gives the SHA-256 of the envelope's canonical bytes, hashed in parts or whole", () => {
    const cases: unknown[] = [
      { payload, payloadType: 'application/vnd.in-toto+json', signatures: sigs },
      { signatures: sigs, payloadType: 'application/vnd.in-toto+json', payload }, // members in another order
      { payload, payloadType: 't/\u00e9\u2028"\\', signatures: [{ keyid: '\u{1f600}', sig: 'x' }] },
      { payload, payloadType: 'x', signatures: [] },
      { payload: '', payloadType: 'x', signatures: sigs },
      { payload: payload.slice(0, -2), payloadType: 'x', signatures: sigs }, // not canonical base64
      { payload: 'a"b\n', payloadType: 'x', signatures: sigs },
      { payload, payloadType: 'x', signatures: sigs, extra: 1 },
      { payload, signatures: sigs },
      { payload, payloadType: 7, signatures: sigs },
      { payload, payloadType: 'x', signatures: { b: 1, a: [2, { d: 1, c: 2 }] } },
    ];
    for (const e of cases) assert.equal(envelopeSha256(e as object), digest(e), JSON.stringify(e).slice(0, 80));
  });

  it('refuses what is not canonical JSON as canonicalBytes does', () => {
    const e = { payload, payloadType: 'x', signatures: [{ keyid: '\ud800', sig: 'x' }] };
    assert.throws(() => canonicalBytes(e));
    assert.throws(() => envelopeSha256(e));
  });
});

describe('DSSE envelopes', { skip: OPENSSL_MISSING }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  const signers: Record<string, Signer> = {};
  before(async () => {
    pki = mintPki();
    tmp = tempDir('dsse');
    for (const n of ['leaf-p256', 'leaf-rsa2048', 'leaf-p384'])
      signers[n] = await signerFromPem({ privateKey: pki.text(`${n}.key`), certificate: pki.text(`${n}.crt`) });
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  for (const name of ['leaf-p256', 'leaf-rsa2048', 'leaf-p384']) {
    it(`signs PAE(type, payload) with ${name} so that openssl dgst -sha256 -verify accepts it`, async () => {
      const payload = new TextEncoder().encode('{"hello":"world"}');
      const env = await signEnvelope(payload, 'application/json', signers[name]);
      const pub = openssl(['x509', '-in', pki.path(`${name}.crt`), '-pubkey', '-noout']).stdout;
      const r = openssl([
        'dgst',
        '-sha256',
        '-verify',
        writeFile(tmp.dir, `${name}.pub`, pub),
        '-signature',
        writeFile(tmp.dir, `${name}.dsig`, Buffer.from(env.signatures[0].sig, 'base64')),
        writeFile(tmp.dir, `${name}.pae`, pae('application/json', payload)),
      ]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.ok(verifyEnvelope(env, [pki.text(`${name}.crt`)]).ok);
    });
  }

  it('returns BADSIG when the payload is swapped', async () => {
    const env = await signEnvelope(new TextEncoder().encode('a'), 'text/plain', signers['leaf-p256']);
    const v = verifyEnvelope({ ...env, payload: Buffer.from('b').toString('base64') }, [pki.text('leaf-p256.crt')]);
    assert.equal(v.ok ? 'ok' : v.error.code, 'BADSIG');
  });

  it("verifies a repeated envelope again through the caller's memos, and refuses any changed text", async () => {
    const payload = new TextEncoder().encode('{"memo":"repeat"}');
    const env = await signEnvelope(payload, 'application/json', signers['leaf-p256']);
    const cert = [pki.text('leaf-p256.crt')];
    const caches = { certificates: new Lru<string, Certificate>(8), signatures: new Lru<string, true>(8) };
    const first = verifyEnvelope(env, cert, caches);
    const again = verifyEnvelope(structuredClone(env), cert, caches);
    assert.ok(first.ok && again.ok);
    assert.deepEqual(again.payload, payload);
    assert.equal(again.signers[0], first.signers[0]);
    assert.deepEqual([caches.certificates.stats.hits, caches.signatures.stats.hits], [1, 1]);
    const other = await signEnvelope(new TextEncoder().encode('{"memo":"other"}'), 'application/json', signers['leaf-p256']);
    const code = (v: ReturnType<typeof verifyEnvelope>) => (v.ok ? 'ok' : v.error.code);
    assert.equal(code(verifyEnvelope({ ...env, signatures: other.signatures }, cert, caches)), 'BADSIG', "another payload's signature");
    assert.equal(code(verifyEnvelope({ ...env, payload: other.payload }, cert, caches)), 'BADSIG', 'another payload under this signature');
    assert.equal(code(verifyEnvelope({ ...env, payloadType: 'application/jso' }, cert, caches)), 'BADSIG', 'a shorter type');
    // Moving characters between type, signature and payload is another message.
    const sig = env.signatures[0].sig;
    assert.equal(
      code(
        verifyEnvelope(
          {
            payloadType: env.payloadType + sig.slice(0, 4),
            payload: env.payload,
            signatures: [{ ...env.signatures[0], sig: sig.slice(4) }],
          },
          cert,
          caches,
        ),
      ),
      'BADSIG',
    );
    assert.equal(code(verifyEnvelope({ ...env, payload: `${env.payload}!` }, cert, caches)), 'MALFORMED');
  });

  it('returns BADSIG when the payloadType is changed (it is signed too)', async () => {
    const env = await signEnvelope(new TextEncoder().encode('a'), 'text/plain', signers['leaf-p256']);
    const v = verifyEnvelope({ ...env, payloadType: 'text/html' }, [pki.text('leaf-p256.crt')]);
    assert.equal(v.ok ? 'ok' : v.error.code, 'BADSIG');
  });

  it('returns UNKNOWNKEY when no candidate has the keyid', async () => {
    const env = await signEnvelope(new TextEncoder().encode('a'), 'text/plain', signers['leaf-p256']);
    const v = verifyEnvelope(env, [pki.text('leaf-p384.crt')]);
    assert.equal(v.ok ? 'ok' : v.error.code, 'UNKNOWNKEY');
  });

  it('returns MALFORMED for an envelope without signatures or with bad base64', () => {
    const a = verifyEnvelope({ payload: '', payloadType: 'x', signatures: [] }, []);
    const b = verifyEnvelope({ payload: '***', payloadType: 'x', signatures: [{ keyid: '', sig: 'AA==' }] }, [pki.text('leaf-p256.crt')]);
    assert.deepEqual([a.ok ? 'ok' : a.error.code, b.ok ? 'ok' : b.error.code], ['MALFORMED', 'MALFORMED']);
  });

  describe('holding an in-toto Statement v1', () => {
    const digest = 'a'.repeat(64);
    it('round-trips, with the canonical JSON as payload', async () => {
      const st = makeStatement([{ name: 'loader.insns', digest: { sha256: digest } }], 'https://bpfsign.dev/loader/v1', {
        scheme: 'linux-6.18',
        n: 1,
      });
      const env = await signStatement(st, signers['leaf-p256']);
      assert.equal(env.payloadType, 'application/vnd.in-toto+json');
      assert.equal(Buffer.from(env.payload, 'base64').toString('utf8'), canonicalize(st));
      assert.match(Buffer.from(env.payload, 'base64').toString('utf8'), /^\{"_type":"https:\/\/in-toto.io\/Statement\/v1","predicate":/);
      const v = verifyStatement(env, [pki.text('leaf-p256.crt')]);
      assert.ok(v.ok);
      assert.deepEqual(v.statement, st);
    });

    it('reads a repeated payload once with a statements memo and shares the statement frozen, while every signature is still checked', async () => {
      const st = makeStatement([{ name: 'loader.insns', digest: { sha256: digest } }], 'https://bpfsign.dev/loader/v1', {
        scheme: 'linux-6.18',
        n: 2,
      });
      const env = await signStatement(st, signers['leaf-p256']);
      const caches = { statements: new Lru<string, Statement>(64, 32 << 20), signatures: new Lru<string, true>(64) };
      const a = verifyStatement(env, [pki.text('leaf-p256.crt')], caches);
      const b = verifyStatement(structuredClone(env), [pki.text('leaf-p256.crt')], caches);
      assert.ok(a.ok && b.ok);
      assert.equal(b.statement, a.statement);
      assert.equal(caches.statements.stats.hits, 1);
      assert.ok(Object.isFrozen(a.statement) && Object.isFrozen(a.statement.subject[0].digest) && Object.isFrozen(a.statement.predicate));
      assert.ok(isDeepFrozen(a.statement.predicate), 'recorded as shared: memos may key on its identity');
      const sig = Buffer.from(env.signatures[0].sig, 'base64');
      sig[sig.length - 1] ^= 1;
      const forged = verifyStatement(
        { ...env, signatures: [{ ...env.signatures[0], sig: sig.toString('base64') }] },
        [pki.text('leaf-p256.crt')],
        caches,
      );
      assert.equal(forged.ok ? 'ok' : forged.error.code, 'BADSIG');
    });

    it('reads every payload afresh without a statements memo, still returning it frozen but unshared', async () => {
      const st = makeStatement([{ name: 'loader.insns', digest: { sha256: digest } }], 'https://bpfsign.dev/loader/v1', {
        scheme: 'linux-6.18',
        n: 3,
      });
      const env = await signStatement(st, signers['leaf-p256']);
      const a = verifyStatement(env, [pki.text('leaf-p256.crt')]);
      const b = verifyStatement(env, [pki.text('leaf-p256.crt')]);
      assert.ok(a.ok && b.ok);
      assert.notEqual(b.statement, a.statement);
      assert.deepEqual(b.statement, st);
      assert.ok(Object.isFrozen(a.statement.predicate));
      assert.ok(!isDeepFrozen(a.statement.predicate), 'not recorded as shared: the replay cache hashes its plan each time');
    });

    it('rejects a statement with a bad subject digest, naming every bad field', () => {
      assert.throws(
        () => makeStatement([{ name: 'x', digest: { sha256: 'XYZ' } }], '', {}),
        (e: Error & { details?: { fields?: string[] } }) => {
          assert.deepEqual(e.details?.fields, ['subject[0].digest.sha256', 'predicateType']);
          return true;
        },
      );
    });

    it('returns MALFORMED for a verified envelope of another payloadType', async () => {
      const env = await signEnvelope(new TextEncoder().encode('{}'), 'application/json', signers['leaf-p256']);
      const v = verifyStatement(env, [pki.text('leaf-p256.crt')]);
      assert.equal(v.ok ? 'ok' : v.error.code, 'MALFORMED');
    });
  });
});

describe('decodeBase64', () => {
  it('takes canonical padded base64 and canonical unpadded URL-safe base64', async () => {
    const { decodeBase64 } = await import('../../src/signing/dsse.js');
    assert.deepEqual([...decodeBase64('QUJD', 'f')], [0x41, 0x42, 0x43]);
    assert.deepEqual([...decodeBase64('QQ==', 'f')], [0x41]);
    assert.deepEqual([...decodeBase64('-_8', 'f')], [0xfb, 0xff]);
    assert.deepEqual([...decodeBase64('+/8=', 'f')], [0xfb, 0xff]);
    assert.deepEqual([...decodeBase64('QQ', 'f')], [0x41], 'unpadded: the URL-safe spelling');
    assert.deepEqual([...decodeBase64('', 'f')], []);
  });

  it('refuses every other spelling of the same bytes, naming the field', async () => {
    const { decodeBase64 } = await import('../../src/signing/dsse.js');
    const other = [
      'QR==', // non-zero padding bits
      'QR', // unpadded (read as URL-safe) with non-zero padding bits
      '+/8', // standard alphabet without its padding
      '-_8=', // URL-safe with padding
      '+_8=',
      '-/8', // alphabets mixed
      'QU JD',
      'QUJD\n',
      ' QUJD', // whitespace
      'QQ===',
      'QQ==QQ==',
      '=',
      'QUJD!',
      'Q',
      'QUJDQ',
    ];
    for (const s of other) {
      assert.throws(
        () => decodeBase64(s, 'payload'),
        (e: Error & { code?: string; details?: { field?: string } }) => e.code === 'MALFORMED' && e.details?.field === 'payload',
        JSON.stringify(s),
      );
    }
  });
});
