import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { signDetached, signerFromPem } from '../../../src/signing/index.js';
import { algorithmOfKey } from '../../../src/signing/algorithms.js';
import { nativeSignStatus, signPrimitive, type SignPath } from '../../../src/signing/keys/primitive.js';
import { OPENSSL_MISSING, mintPki, openssl, randomBytes, tempDir, writeFile, type Pki } from '../helpers.js';

const native = nativeSignStatus();
const NATIVE_MISSING = native.available ? false : `${native.reason} (run npm run build:native)`;
if (NATIVE_MISSING) console.log(`# native signing tests skipped: ${NATIVE_MISSING}`);

const LEAVES = ['leaf-p256', 'leaf-p384', 'leaf-rsa2048', 'leaf-rsa4096'] as const;
const PATHS: { path: SignPath; skip: string | false }[] = [
  { path: 'native', skip: NATIVE_MISSING },
  { path: 'node', skip: false },
];

describe('signing primitive', { skip: OPENSSL_MISSING }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    pki = mintPki();
    tmp = tempDir('primitive');
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  for (const { path, skip } of PATHS) {
    describe(`on the ${path} path`, { skip }, () => {
      for (const leaf of LEAVES) {
        it(`signs with ${leaf}, and node:crypto verifies the signature over the data`, () => {
          const key = createPrivateKey(pki.text(`${leaf}.key`));
          const alg = algorithmOfKey(key);
          assert.ok(alg.ok);
          const p = signPrimitive(key, alg.algorithm, path);
          assert.equal(p.path, path);
          for (const n of [0, 1, 32, 4096, 70_000]) {
            const data = randomBytes(n, n + 3);
            assert.ok(nodeVerify('sha256', data, { key: createPublicKey(key), dsaEncoding: 'der' }, p.sign(data)), `${leaf} ${n} bytes`);
          }
        });

        it(`makes a CMS with ${leaf} that openssl cms -verify accepts`, async () => {
          const signer = await signerFromPem({ privateKey: pki.read(`${leaf}.key`), certificate: pki.read(`${leaf}.crt`), signPath: path });
          assert.equal(signer.signPath, path);
          const content = randomBytes(4096, 11);
          const sig = writeFile(tmp.dir, `${path}-${leaf}.sig`, await signDetached(content, signer));
          const data = writeFile(tmp.dir, `${path}-${leaf}.data`, content);
          const r = openssl([
            'cms',
            '-verify',
            '-binary',
            '-inform',
            'DER',
            '-in',
            sig,
            '-content',
            data,
            '-CAfile',
            pki.path('chain.pem'),
            '-certfile',
            pki.path(`${leaf}.crt`),
            '-purpose',
            'any',
            '-out',
            '/dev/null',
          ]);
          assert.equal(r.status, 0, r.stderr);
        });
      }

      it('signs a precomputed SHA-256 digest so that it verifies over the data (RSA; EC where the path can)', () => {
        for (const leaf of path === 'native' ? LEAVES : (['leaf-rsa2048'] as const)) {
          const key = createPrivateKey(pki.text(`${leaf}.key`));
          const alg = algorithmOfKey(key);
          assert.ok(alg.ok);
          const data = randomBytes(1000, 9);
          const sig = signPrimitive(key, alg.algorithm, path).signDigest(createHash('sha256').update(data).digest());
          assert.ok(nodeVerify('sha256', data, { key: createPublicKey(key), dsaEncoding: 'der' }, sig), leaf);
        }
      });
    });
  }

  describe('with the native addon', { skip: NATIVE_MISSING }, () => {
    it('runs against the OpenSSL inside node', () => {
      assert.ok(native.available && native.openssl.includes(process.versions.openssl), JSON.stringify(native));
    });

    it('is what auto picks', async () => {
      const signer = await signerFromPem({ privateKey: pki.read('leaf-p256.key'), certificate: pki.read('leaf-p256.crt') });
      assert.equal(signer.signPath, 'native');
    });

    it('gives RSA PKCS#1 v1.5 signatures byte-equal to node:crypto', () => {
      const key = createPrivateKey(pki.text('leaf-rsa2048.key'));
      const data = randomBytes(777, 2);
      const a = signPrimitive(key, 'rsa-pkcs1v15-sha256', 'native').sign(data);
      const b = signPrimitive(key, 'rsa-pkcs1v15-sha256', 'node').sign(data);
      assert.deepEqual(Buffer.from(a), Buffer.from(b));
    });

    it('refuses a digest of the wrong length with ERR_NATIVE_SIGN_DIGEST', () => {
      const key = createPrivateKey(pki.text('leaf-p256.key'));
      const p = signPrimitive(key, 'ecdsa-p256-sha256', 'native');
      assert.throws(() => p.signDigest(new Uint8Array(48)), { code: 'ERR_NATIVE_SIGN_DIGEST', message: /48 bytes \(want 32 for sha256\)/ });
    });
  });

  it('refuses a public key with KEY_INVALID', () => {
    const pub = createPublicKey(createPrivateKey(pki.text('leaf-p256.key')));
    assert.throws(() => signPrimitive(pub, 'ecdsa-p256-sha256'), { code: 'KEY_INVALID' });
  });

  it('node path refuses an ECDSA precomputed digest with SIGN_FAILED', () => {
    const p = signPrimitive(createPrivateKey(pki.text('leaf-p256.key')), 'ecdsa-p256-sha256', 'node');
    assert.throws(() => p.signDigest(new Uint8Array(32)), { code: 'SIGN_FAILED' });
  });
});
