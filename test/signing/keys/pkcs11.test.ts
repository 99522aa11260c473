import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pkcs11Signer, signDetached, verifyDetached } from '../../../src/signing/index.js';
import { OPENSSL_MISSING, hasTool, mintPki, openssl, randomBytes, tempDir, writeFile, type Pki } from '../helpers.js';

const MODULE = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
].find((p) => existsSync(p));
const SKIP = OPENSSL_MISSING || (!hasTool('softhsm2-util') || !MODULE ? 'softhsm2 is not installed (apt-get install softhsm2)' : false);
const TOKEN = 'bpfsign-test';
const PIN = '123456';

function softhsm(args: string[]): void {
  const r = spawnSync('softhsm2-util', args, { env: process.env });
  assert.equal(r.status, 0, `softhsm2-util ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

describe('pkcs11Signer (SoftHSM2)', { skip: SKIP }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    pki = mintPki();
    tmp = tempDir('softhsm');
    const conf = join(tmp.dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${tmp.dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
    spawnSync('mkdir', ['-p', `${tmp.dir}/tokens`]);
    process.env.SOFTHSM2_CONF = conf; // read by the module at C_Initialize
    softhsm(['--init-token', '--free', '--label', TOKEN, '--pin', PIN, '--so-pin', '87654321']);
    softhsm(['--import', pki.path('leaf-p256.key'), '--token', TOKEN, '--label', 'signer-ec', '--id', '01', '--pin', PIN]);
    softhsm(['--import', pki.path('leaf-rsa2048.key'), '--token', TOKEN, '--label', 'signer-rsa', '--id', '02', '--pin', PIN]);
    softhsm(['--import', pki.path('leaf-p384.key'), '--token', TOKEN, '--label', 'signer-p384', '--id', '03', '--pin', PIN]);
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  for (const [label, name, alg] of [
    ['signer-ec', 'leaf-p256', 'ecdsa-p256-sha256'],
    ['signer-rsa', 'leaf-rsa2048', 'rsa-pkcs1v15-sha256'],
    ['signer-p384', 'leaf-p384', 'ecdsa-p384-sha256'],
  ] as const) {
    it(`signs inside the token with ${label} (${alg}); openssl and verifyDetached accept the CMS`, async () => {
      const signer = await pkcs11Signer({
        module: MODULE!,
        tokenLabel: TOKEN,
        pin: PIN,
        keyLabel: label,
        certificate: pki.text(`${name}.crt`),
      });
      try {
        assert.equal(signer.algorithm, alg);
        const content = randomBytes(1500, 21);
        const der = await signDetached(content, signer);
        const r = openssl([
          'cms',
          '-verify',
          '-binary',
          '-inform',
          'DER',
          '-in',
          writeFile(tmp.dir, `${label}.sig`, der),
          '-content',
          writeFile(tmp.dir, `${label}.bin`, content),
          '-CAfile',
          pki.path('chain.pem'),
          '-certfile',
          pki.path(`${name}.crt`),
          '-purpose',
          'any',
          '-out',
          '/dev/null',
        ]);
        assert.equal(r.status, 0, r.stderr);
        assert.ok(verifyDetached(der, content, [pki.text(`${name}.crt`)]).ok);
      } finally {
        signer.close();
      }
    });
  }

  it('finds the key by CKA_ID as well', async () => {
    const signer = await pkcs11Signer({
      module: MODULE!,
      tokenLabel: TOKEN,
      pin: PIN,
      keyId: '02',
      certificate: pki.text('leaf-rsa2048.crt'),
    });
    signer.close();
    assert.equal(signer.algorithm, 'rsa-pkcs1v15-sha256');
  });

  it('throws TOKEN_ERROR for a wrong PIN', async () => {
    await assert.rejects(
      pkcs11Signer({ module: MODULE!, tokenLabel: TOKEN, pin: '000000', keyLabel: 'signer-ec', certificate: pki.text('leaf-p256.crt') }),
      {
        code: 'TOKEN_ERROR',
        message: /login failed/,
      },
    );
  });

  it('throws TOKEN_ERROR naming a key label that is not on the token', async () => {
    await assert.rejects(
      pkcs11Signer({ module: MODULE!, tokenLabel: TOKEN, pin: PIN, keyLabel: 'nope', certificate: pki.text('leaf-p256.crt') }),
      {
        code: 'TOKEN_ERROR',
        message: /label "nope"/,
      },
    );
  });

  it('throws TOKEN_ERROR for an unknown token', async () => {
    await assert.rejects(
      pkcs11Signer({ module: MODULE!, tokenLabel: 'absent', pin: PIN, keyLabel: 'signer-ec', certificate: pki.text('leaf-p256.crt') }),
      {
        code: 'TOKEN_ERROR',
      },
    );
  });

  it('refuses to sign after close()', async () => {
    const signer = await pkcs11Signer({
      module: MODULE!,
      tokenLabel: TOKEN,
      pin: PIN,
      keyLabel: 'signer-ec',
      certificate: pki.text('leaf-p256.crt'),
    });
    signer.close();
    await assert.rejects(signer.sign(new Uint8Array(4)), { code: 'TOKEN_ERROR' });
  });
});
