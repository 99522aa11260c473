import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signDetached, signerFromPem } from '../../../src/signing/index.js';
import { OPENSSL_MISSING, mintPki, openssl, randomBytes, tempDir, writeFile, type Pki } from '../helpers.js';

describe('signerFromPem', { skip: OPENSSL_MISSING }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    pki = mintPki();
    tmp = tempDir('pem');
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  describe('when the key is encrypted PKCS#8', () => {
    it('signs with the right passphrase, and openssl verifies the CMS', async () => {
      const signer = await signerFromPem({
        privateKey: pki.read('leaf-p256.enc.pem'),
        passphrase: 'correct horse',
        certificate: pki.read('leaf-p256.crt'),
      });
      const content = randomBytes(512, 5);
      const sig = writeFile(tmp.dir, 'enc.sig', await signDetached(content, signer));
      const data = writeFile(tmp.dir, 'enc.data', content);
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
        pki.path('leaf-p256.crt'),
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ]);
      assert.equal(r.status, 0, r.stderr);
    });

    it('throws KEY_PASSPHRASE with a wrong passphrase', async () => {
      await assert.rejects(
        signerFromPem({ privateKey: pki.text('leaf-p256.enc.pem'), passphrase: 'battery staple', certificate: pki.text('leaf-p256.crt') }),
        {
          code: 'KEY_PASSPHRASE',
        },
      );
    });

    it('throws KEY_PASSPHRASE without a passphrase', async () => {
      await assert.rejects(signerFromPem({ privateKey: pki.text('leaf-p256.enc.pem'), certificate: pki.text('leaf-p256.crt') }), {
        code: 'KEY_PASSPHRASE',
      });
    });
  });

  it('throws KEY_INVALID when the key does not belong to the certificate', async () => {
    await assert.rejects(signerFromPem({ privateKey: pki.text('leaf-p384.key'), certificate: pki.text('leaf-p256.crt') }), {
      code: 'KEY_INVALID',
    });
  });

  it('throws KEY_INVALID for text that is no key', async () => {
    await assert.rejects(
      signerFromPem({
        privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
        certificate: pki.text('leaf-p256.crt'),
      }),
      {
        code: 'KEY_INVALID',
      },
    );
  });

  it('throws CERT_INVALID when the certificate has no subjectKeyIdentifier (the kernel could not find the key)', async () => {
    await assert.rejects(signerFromPem({ privateKey: pki.text('leaf-noski.key'), certificate: pki.text('leaf-noski.crt') }), {
      code: 'CERT_INVALID',
      details: { field: 'subjectKeyIdentifier' },
    });
  });

  for (const [name, why] of [
    ['rsa1024', /1024 bits/],
    ['p521', /secp521r1/],
    ['ed25519', /ed25519/],
  ] as const) {
    it(`throws KEY_UNSUPPORTED for a ${name} key`, async () => {
      await assert.rejects(
        signerFromPem({ privateKey: pki.text(`${name}.key`), certificate: pki.text('leaf-p256.crt') }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'KEY_UNSUPPORTED');
          assert.match(e.message, why);
          return true;
        },
      );
    });
  }
});
