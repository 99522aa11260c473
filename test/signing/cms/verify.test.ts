import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { signDetached, signerFromPem, verifyDetached } from '../../../src/signing/index.js';
import type { CmsVerification } from '../../../src/signing/index.js';
import { OPENSSL_MISSING, mintPki, openssl, opensslSki, randomBytes, tempDir, writeFile, type Pki } from '../helpers.js';
import { testKeysDir } from '../../support/test-keys.js';

function opensslSign(pki: Pki, dir: string, name: string, content: Uint8Array, extra: string[]): Uint8Array {
  const data = writeFile(dir, 'content.bin', content);
  const out = `${dir}/${name}-${extra.join('')}.sig`;
  const r = openssl([
    'cms',
    '-sign',
    '-binary',
    '-outform',
    'DER',
    '-in',
    data,
    '-signer',
    pki.path(`${name}.crt`),
    '-inkey',
    pki.path(`${name}.key`),
    '-out',
    out,
    ...extra,
  ]);
  assert.equal(r.status, 0, r.stderr);
  return new Uint8Array(readFileSync(out));
}

function expectError(v: CmsVerification, code: string): void {
  assert.equal(v.ok, false, 'expected a rejection');
  if (!v.ok) assert.equal(v.error.code, code, v.error.message);
}

const BPFTOOL_FLAGS = ['-nocerts', '-noattr', '-keyid', '-md', 'sha256'];

describe('verifyDetached', { skip: OPENSSL_MISSING }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  const content = randomBytes(2048, 3);

  before(() => {
    pki = mintPki();
    tmp = tempDir('cms-verify');
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  describe('when openssl signed the way bpftool does (-nocerts -noattr -keyid -md sha256)', () => {
    for (const [name, alg] of [
      ['leaf-rsa2048', 'rsa-pkcs1v15-sha256'],
      ['leaf-rsa4096', 'rsa-pkcs1v15-sha256'],
      ['leaf-p256', 'ecdsa-p256-sha256'],
      ['leaf-p384', 'ecdsa-p384-sha256'],
    ] as const) {
      it(`accepts the ${name} signature and names the signer by openssl's SKI`, () => {
        const der = opensslSign(pki, tmp.dir, name, content, BPFTOOL_FLAGS);
        const v = verifyDetached(der, content, [pki.text('leaf-p256.crt'), pki.text(`${name}.crt`), pki.text('inter.crt')]);
        assert.ok(v.ok, v.ok ? '' : v.error.message);
        assert.equal(v.signer.subjectKeyIdentifier, opensslSki(pki.path(`${name}.crt`)));
        assert.equal(v.algorithm, alg);
        assert.equal(v.digestAlgorithm, 'sha256');
        assert.equal(v.signedAttributes, false);
        assert.equal(v.contentDigest, openssl(['dgst', '-sha256', '-r', writeFile(tmp.dir, 'c.bin', content)]).stdout.split(' ')[0]);
      });
    }

    it('returns BADSIG when one content byte changes', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-p256', content, BPFTOOL_FLAGS);
      const tampered = Uint8Array.from(content);
      tampered[0] ^= 0x80;
      expectError(verifyDetached(der, tampered, [pki.text('leaf-p256.crt')]), 'BADSIG');
    });

    it('returns BADSIG when the RSA signature is altered', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-rsa2048', content, BPFTOOL_FLAGS);
      const bad = Uint8Array.from(der);
      bad[bad.length - 5] ^= 1; // inside the 256-byte signature OCTET STRING, the last element
      expectError(verifyDetached(bad, content, [pki.text('leaf-rsa2048.crt')]), 'BADSIG');
    });

    it('returns UNKNOWNKEY when no candidate has the signer SKI, naming the SKI', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-p256', content, BPFTOOL_FLAGS);
      const v = verifyDetached(der, content, [pki.text('other-p256.crt'), pki.text('leaf-p384.crt')]);
      expectError(v, 'UNKNOWNKEY');
      if (!v.ok) assert.equal(v.error.details.subjectKeyIdentifier, opensslSki(pki.path('leaf-p256.crt')));
    });

    it('returns UNKNOWNKEY with no candidates at all', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-p256', content, BPFTOOL_FLAGS);
      expectError(verifyDetached(der, content, []), 'UNKNOWNKEY');
    });
  });

  describe('when openssl signed with the rules the kernel also accepts', () => {
    it('accepts signed attributes (contentType + messageDigest) and reports them', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-p256', content, ['-nocerts', '-keyid', '-md', 'sha256']);
      const v = verifyDetached(der, content, [pki.text('leaf-p256.crt')]);
      assert.ok(v.ok, v.ok ? '' : v.error.message);
      assert.equal(v.signedAttributes, true);
    });

    it('returns BADSIG for signed attributes whose messageDigest does not match the content', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-p256', content, ['-nocerts', '-keyid', '-md', 'sha256']);
      const other = Uint8Array.from(content);
      other[7] ^= 1;
      expectError(verifyDetached(der, other, [pki.text('leaf-p256.crt')]), 'BADSIG');
    });

    it('accepts an issuerAndSerialNumber signer (SignerInfo v1, as sign-file writes)', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-rsa2048', content, ['-nocerts', '-noattr', '-md', 'sha256']);
      const v = verifyDetached(der, content, [pki.text('leaf-rsa2048.crt')]);
      assert.ok(v.ok, v.ok ? '' : v.error.message);
      assert.equal(v.signers[0].sid.$case, 'issuerAndSerialNumber');
    });

    it('accepts a SHA-384 digest and reports it', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-p384', content, ['-nocerts', '-noattr', '-keyid', '-md', 'sha384']);
      const v = verifyDetached(der, content, [pki.text('leaf-p384.crt')]);
      assert.ok(v.ok, v.ok ? '' : v.error.message);
      assert.equal(v.algorithm, 'ecdsa-p384-sha384');
    });
  });

  describe('when the message is not what the kernel accepts', () => {
    it('returns MALFORMED for embedded (non-detached) content', () => {
      const der = opensslSign(pki, tmp.dir, 'leaf-p256', content, ['-nocerts', '-noattr', '-keyid', '-nodetach']);
      expectError(verifyDetached(der, content, [pki.text('leaf-p256.crt')]), 'MALFORMED');
    });

    it('returns MALFORMED for bytes that are not DER', () => {
      expectError(verifyDetached(randomBytes(300, 9), content, [pki.text('leaf-p256.crt')]), 'MALFORMED');
      expectError(verifyDetached(new Uint8Array(0), content, []), 'MALFORMED');
    });

    it('returns MALFORMED for every truncation of a valid signature, never throwing', async () => {
      const signer = await signerFromPem({ privateKey: pki.text('leaf-p256.key'), certificate: pki.text('leaf-p256.crt') });
      const der = await signDetached(content, signer);
      for (let n = 0; n < der.length; n++) {
        const v = verifyDetached(der.subarray(0, n), content, [pki.text('leaf-p256.crt')]);
        assert.equal(v.ok, false, `truncated to ${n}`);
      }
    });

    it('returns UNSUPPORTED for sha256WithRSAEncryption, which the kernel parser refuses (-ENOPKG)', async () => {
      const signer = await signerFromPem({ privateKey: pki.text('leaf-rsa2048.key'), certificate: pki.text('leaf-rsa2048.crt') });
      const der = Buffer.from(await signDetached(content, signer));
      // rsaEncryption 1.2.840.113549.1.1.1 → sha256WithRSAEncryption 1.2.840.113549.1.1.11: same length, last arc differs
      const rsaEncryption = Buffer.from('06092a864886f70d010101', 'hex');
      const at = der.indexOf(rsaEncryption);
      assert.ok(at > 0);
      der[at + rsaEncryption.length - 1] = 11;
      // openssl still accepts this form, the kernel does not
      const sig = writeFile(tmp.dir, 'sha256rsa.sig', der);
      const data = writeFile(tmp.dir, 'sha256rsa.data', content);
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
        '-noverify',
        '-certfile',
        pki.path('leaf-rsa2048.crt'),
        '-out',
        '/dev/null',
      ]);
      assert.equal(r.status, 0, r.stderr);
      expectError(verifyDetached(der, content, [pki.text('leaf-rsa2048.crt')]), 'UNSUPPORTED');
    });
  });

  describe('round trip with our own signer', () => {
    it('verifies what signDetached produced, for every supported key', async () => {
      for (const name of ['leaf-rsa2048', 'leaf-rsa4096', 'leaf-p256', 'leaf-p384']) {
        const signer = await signerFromPem({ privateKey: pki.text(`${name}.key`), certificate: pki.text(`${name}.crt`) });
        const v = verifyDetached(await signDetached(content, signer), content, [pki.read(`${name}.crt`)]);
        assert.ok(v.ok, `${name}: ${v.ok ? '' : v.error.message}`);
        assert.equal(v.signer.certificate.subject, `CN=bpfsign test ${name}`);
      }
    });
  });
});

describe('verifyDetached and SignedData.digestAlgorithms', () => {
  const KEYS = `${testKeysDir()}/`;

  it('refuses a signature whose digestAlgorithms, which no signature covers, was changed', async () => {
    const certificate = readFileSync(`${KEYS}p256.cert.pem`, 'utf8');
    const signer = await signerFromPem({ privateKey: readFileSync(`${KEYS}p256.key.pem`), certificate });
    const content = randomBytes(512, 9);
    const der = await signDetached(content, signer);
    assert.equal(verifyDetached(der, content, [certificate]).ok, true);
    // The first sha256 OID (2.16.840.1.101.3.4.2.1) is the one in digestAlgorithms; turn it into sha384 (…2.2).
    const oid = Buffer.from('0609608648016503040201', 'hex');
    const at = Buffer.from(der).indexOf(oid);
    assert.ok(at > 0 && at < 40, `digestAlgorithms at ${at}`);
    const changed = new Uint8Array(der);
    changed[at + oid.length - 1] = 0x02;
    const v = verifyDetached(changed, content, [certificate]);
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.error.code, 'MALFORMED');
    assert.match(!v.ok ? v.error.message : '', /digestAlgorithms is not exactly the signers' digest algorithms/);
  });
});
