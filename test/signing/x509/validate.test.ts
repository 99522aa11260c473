import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { generateKeyPair, issueCertificate, issueCrl, parseCertificate, toPem, validateChain } from '../../../src/signing/index.js';
import type { ChainValidation } from '../../../src/signing/index.js';
import { OPENSSL_MISSING, mintPki, openssl, tempDir, writeFile, type Pki } from '../helpers.js';

function reason(v: ChainValidation): string | undefined {
  return v.ok ? undefined : `${v.error.code}/${v.error.details.reason}`;
}

describe('validateChain', { skip: OPENSSL_MISSING }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  let now: Date;
  before(() => {
    pki = mintPki();
    now = new Date(Date.now() + 5_000); // certificates start at minting time (second granularity)
    tmp = tempDir('x509');
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  /** openssl verify as the oracle: same inputs, same yes/no. */
  function opensslVerify(leaf: string, opts: { crl?: boolean; attime?: Date; purpose?: string } = {}): boolean {
    const args = ['verify', '-CAfile', pki.path('root.crt'), '-untrusted', pki.path('inter.crt')];
    if (opts.crl) args.push('-crl_check', '-CRLfile', pki.path('inter.crl'));
    if (opts.attime) args.push('-attime', String(Math.floor(opts.attime.getTime() / 1000)));
    if (opts.purpose) args.push('-purpose', opts.purpose);
    return openssl([...args, pki.path(leaf)]).status === 0;
  }

  describe('for a code-signing leaf under the test intermediate', () => {
    for (const leaf of ['leaf-rsa2048.crt', 'leaf-p256.crt', 'leaf-p384.crt']) {
      it(`trusts ${leaf} now, as openssl verify does, with path leaf → inter → root`, () => {
        assert.equal(opensslVerify(leaf), true);
        const v = validateChain(pki.text(leaf), { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')] }, { at: now });
        assert.ok(v.ok, reason(v));
        assert.deepEqual(
          v.path.map((c) => c.subject),
          [`CN=bpfsign test ${leaf.replace('.crt', '')}`, 'CN=bpfsign test intermediate', 'CN=bpfsign test root'],
        );
        assert.deepEqual(v.revocation, ['unknown', 'unknown']);
      });
    }

    it('reports revocation "good" when the intermediate CRL does not list the leaf (openssl -crl_check agrees)', () => {
      assert.equal(opensslVerify('leaf-p256.crt', { crl: true }), true);
      const v = validateChain(
        pki.read('leaf-p256.crt'),
        { roots: [pki.read('root.crt')], intermediates: [pki.read('inter.crt')], crls: [pki.read('inter.crl')] },
        { at: now },
      );
      assert.ok(v.ok, reason(v));
      assert.equal(v.revocation[0], 'good');
    });
  });

  it('returns UNTRUSTED/EXPIRED after notAfter (openssl -attime agrees)', () => {
    const later = new Date(now.getTime() + 60 * 86_400_000);
    assert.equal(opensslVerify('leaf-p256.crt', { attime: later }), false);
    const v = validateChain(
      pki.text('leaf-p256.crt'),
      { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')] },
      { at: later },
    );
    assert.equal(reason(v), 'UNTRUSTED/EXPIRED');
  });

  it('returns UNTRUSTED/NOT_YET_VALID before notBefore', () => {
    const earlier = new Date(now.getTime() - 2 * 86_400_000);
    assert.equal(opensslVerify('leaf-p256.crt', { attime: earlier }), false);
    const v = validateChain(
      pki.text('leaf-p256.crt'),
      { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')] },
      { at: earlier },
    );
    assert.equal(reason(v), 'UNTRUSTED/NOT_YET_VALID');
  });

  it('returns UNTRUSTED/EXTENDED_KEY_USAGE for a serverAuth-only leaf, with got/want', () => {
    const v = validateChain(
      pki.text('leaf-serverauth.crt'),
      { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')] },
      { at: now },
    );
    assert.equal(reason(v), 'UNTRUSTED/EXTENDED_KEY_USAGE');
    if (!v.ok) {
      assert.deepEqual(v.error.details.got, ['1.3.6.1.5.5.7.3.1']);
      assert.equal(v.error.details.want, '1.3.6.1.5.5.7.3.3');
    }
    // with the EKU check turned off by policy it chains fine
    assert.ok(
      validateChain(
        pki.text('leaf-serverauth.crt'),
        { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')] },
        { at: now, extendedKeyUsage: null },
      ).ok,
    );
  });

  it('returns UNTRUSTED/REVOKED for a leaf listed in the CRL (openssl -crl_check agrees)', () => {
    assert.equal(opensslVerify('leaf-revoked.crt', { crl: true }), false);
    assert.equal(opensslVerify('leaf-revoked.crt'), true);
    const trust = { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')], crls: [pki.text('inter.crl')] };
    assert.equal(reason(validateChain(pki.text('leaf-revoked.crt'), trust, { at: now })), 'UNTRUSTED/REVOKED');
  });

  it('returns UNTRUSTED/CRL_INVALID when the CRL is past nextUpdate', () => {
    const trust = { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')], crls: [pki.text('inter.crl')] };
    assert.equal(
      reason(validateChain(pki.text('leaf-p256.crt'), trust, { at: new Date(now.getTime() + 8 * 86_400_000) })),
      'UNTRUSTED/CRL_INVALID',
    );
  });

  it('returns UNTRUSTED/REVOCATION_UNKNOWN when the policy requires a CRL and none is given', () => {
    const trust = { roots: [pki.text('root.crt')], intermediates: [pki.text('inter.crt')] };
    assert.equal(
      reason(validateChain(pki.text('leaf-p256.crt'), trust, { at: now, requireRevocationCheck: true })),
      'UNTRUSTED/REVOCATION_UNKNOWN',
    );
  });

  it('returns UNTRUSTED/NO_CHAIN without the intermediate, or with an unrelated root', () => {
    assert.equal(reason(validateChain(pki.text('leaf-p256.crt'), { roots: [pki.text('root.crt')] }, { at: now })), 'UNTRUSTED/NO_CHAIN');
    assert.equal(
      reason(
        validateChain(
          pki.text('leaf-p256.crt'),
          { roots: [pki.text('other-p256.crt')], intermediates: [pki.text('inter.crt')] },
          { at: now },
        ),
      ),
      'UNTRUSTED/NO_CHAIN',
    );
  });

  it('returns MALFORMED for a root that is not a certificate', () => {
    const v = validateChain(pki.text('leaf-p256.crt'), { roots: [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])] }, { at: now });
    assert.equal(v.ok ? undefined : v.error.code, 'MALFORMED');
  });

  describe('with certificates issued by @peculiar/x509 (dev CA helpers)', () => {
    const at = new Date('2026-05-01T00:00:00Z');
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2027-01-01T00:00:00Z');

    async function root() {
      const keys = await generateKeyPair('ecdsa-p256-sha256');
      const cert = await issueCertificate({
        subject: 'CN=t root',
        publicKey: keys.publicKey,
        issuerKey: keys.privateKey,
        notBefore: from,
        notAfter: to,
        ca: true,
      });
      return { keys, cert };
    }

    it('returns UNTRUSTED/NOT_CA when the leaf was issued by an end-entity certificate (openssl agrees)', async () => {
      const r = await root();
      const mid = await generateKeyPair('ecdsa-p256-sha256');
      const midCert = await issueCertificate({
        subject: 'CN=t not a ca',
        publicKey: mid.publicKey,
        issuerCert: r.cert,
        issuerKey: r.keys.privateKey,
        notBefore: from,
        notAfter: to,
        ca: false,
      });
      const leaf = await generateKeyPair('ecdsa-p256-sha256');
      const leafCert = await issueCertificate({
        subject: 'CN=t leaf',
        publicKey: leaf.publicKey,
        issuerCert: midCert,
        issuerKey: mid.privateKey,
        notBefore: from,
        notAfter: to,
        ca: false,
      });
      const v = validateChain(leafCert, { roots: [r.cert], intermediates: [midCert] }, { at });
      assert.equal(reason(v), 'UNTRUSTED/NOT_CA');
      const rootPem = writeFile(tmp.dir, 'nca-root.pem', await toPem('CERTIFICATE', r.cert));
      const midPem = writeFile(tmp.dir, 'nca-mid.pem', await toPem('CERTIFICATE', midCert));
      const leafPem = writeFile(tmp.dir, 'nca-leaf.pem', await toPem('CERTIFICATE', leafCert));
      assert.notEqual(
        openssl(['verify', '-attime', String(at.getTime() / 1000), '-CAfile', rootPem, '-untrusted', midPem, leafPem]).status,
        0,
      );
    });

    it('returns UNTRUSTED/BAD_CERT_SIGNATURE for a leaf whose issuer name and AKI match but another key signed it', async () => {
      const r = await root();
      const impostor = await generateKeyPair('ecdsa-p256-sha256');
      const leaf = await generateKeyPair('ecdsa-p256-sha256');
      // issuerCert gives the name and AKI of the real root; the signature comes from the impostor key
      const forged = await issueCertificate({
        subject: 'CN=t forged',
        publicKey: leaf.publicKey,
        issuerCert: r.cert,
        issuerKey: impostor.privateKey,
        notBefore: from,
        notAfter: to,
        ca: false,
      });
      assert.equal(reason(validateChain(forged, { roots: [r.cert] }, { at })), 'UNTRUSTED/BAD_CERT_SIGNATURE');
    });

    it('returns UNTRUSTED/KEY_USAGE for a leaf without digitalSignature', async () => {
      const r = await root();
      const leaf = await generateKeyPair('ecdsa-p256-sha256');
      const cert = await issueCertificate({
        subject: 'CN=t keyenc',
        publicKey: leaf.publicKey,
        issuerCert: r.cert,
        issuerKey: r.keys.privateKey,
        notBefore: from,
        notAfter: to,
        ca: false,
        keyUsage: 4,
      });
      assert.equal(reason(validateChain(cert, { roots: [r.cert] }, { at })), 'UNTRUSTED/KEY_USAGE');
    });

    it('returns UNTRUSTED/REVOKED from a CRL made by issueCrl, and CRL_INVALID when another key signed the CRL', async () => {
      const r = await root();
      const leaf = await generateKeyPair('rsa-pkcs1v15-sha256', 2048);
      const cert = await issueCertificate({
        subject: 'CN=t rsa leaf',
        publicKey: leaf.publicKey,
        issuerCert: r.cert,
        issuerKey: r.keys.privateKey,
        notBefore: from,
        notAfter: to,
        ca: false,
      });
      const serialNumber = parseCertificate(cert).serialNumber;
      const crl = await issueCrl({
        issuerCert: r.cert,
        issuerKey: r.keys.privateKey,
        thisUpdate: from,
        nextUpdate: to,
        revoked: [{ serialNumber, date: from }],
      });
      assert.equal(reason(validateChain(cert, { roots: [r.cert], crls: [crl] }, { at })), 'UNTRUSTED/REVOKED');
      const other = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair;
      const badCrl = await issueCrl({ issuerCert: r.cert, issuerKey: other.privateKey, thisUpdate: from, nextUpdate: to, revoked: [] });
      assert.equal(reason(validateChain(cert, { roots: [r.cert], crls: [badCrl] }, { at })), 'UNTRUSTED/CRL_INVALID');
    });

    it('trusts a leaf that is itself a configured root (a key placed directly in the keyring)', async () => {
      const keys = await generateKeyPair('ecdsa-p384-sha256');
      const self = await issueCertificate({
        subject: 'CN=t self',
        publicKey: keys.publicKey,
        issuerKey: keys.privateKey,
        notBefore: from,
        notAfter: to,
        ca: false,
      });
      const v = validateChain(self, { roots: [self] }, { at });
      assert.ok(v.ok, reason(v));
      assert.equal(v.path.length, 1);
    });
  });
});
