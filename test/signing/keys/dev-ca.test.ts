import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDevelopmentCa, signDetached, toPem, validateChain, verifyDetached, parseCertificate } from '../../../src/signing/index.js';
import type { DevelopmentCa } from '../../../src/signing/index.js';
import { OPENSSL_MISSING, openssl, randomBytes, tempDir, writeFile } from '../helpers.js';

describe('createDevelopmentCa', { skip: OPENSSL_MISSING }, () => {
  const now = new Date('2026-03-01T12:00:00Z');
  let ca: DevelopmentCa;
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    let counter = 0;
    ca = await createDevelopmentCa({ now, random: (n) => new Uint8Array(n).fill(++counter) });
    tmp = tempDir('devca');
  });
  after(() => tmp?.cleanup());

  it('issues a signing certificate openssl chains to the CA (at the given time)', async () => {
    const caPem = writeFile(tmp.dir, 'ca.pem', await toPem('CERTIFICATE', ca.caCert));
    const leafPem = writeFile(tmp.dir, 'leaf.pem', await toPem('CERTIFICATE', ca.signingCert));
    const at = String(Math.floor(now.getTime() / 1000) + 3600);
    const r = openssl(['verify', '-attime', at, '-CAfile', caPem, leafPem]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('gives the signing certificate keyUsage digitalSignature, EKU codeSigning and an SKI (openssl -text)', async () => {
    const leafPem = writeFile(tmp.dir, 'leaf2.pem', await toPem('CERTIFICATE', ca.signingCert));
    const text = openssl(['x509', '-in', leafPem, '-noout', '-text']).stdout;
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\s/);
    assert.match(text, /X509v3 Extended Key Usage:\s+Code Signing\s/);
    assert.match(text, /X509v3 Subject Key Identifier:\s+[0-9A-F:]{59}\s/);
    assert.match(text, /CA:FALSE/);
  });

  it('makes the CA a CA with keyCertSign', async () => {
    const caPem = writeFile(tmp.dir, 'ca2.pem', await toPem('CERTIFICATE', ca.caCert));
    const text = openssl(['x509', '-in', caPem, '-noout', '-text']).stdout;
    assert.match(text, /CA:TRUE/);
    assert.match(text, /Certificate Sign, CRL Sign/);
  });

  it('takes serial numbers from the random source', () => {
    // first draw (CA) is sixteen 0x01 bytes; second (leaf) sixteen 0x02 bytes with the low bit of byte 0 set
    assert.equal(parseCertificate(ca.caCert).serialNumber, '01'.repeat(16));
    assert.equal(parseCertificate(ca.signingCert).serialNumber, '03' + '02'.repeat(15));
  });

  it('starts validity at the given time, not the wall clock', () => {
    const leaf = parseCertificate(ca.signingCert);
    assert.ok(Math.abs(leaf.notBefore.getTime() - now.getTime()) <= 120_000, leaf.notBefore.toISOString());
  });

  it('returns a signer whose CMS openssl verifies against the CA, and which our chain check trusts', async () => {
    const content = randomBytes(800, 11);
    const der = await signDetached(content, ca.signer);
    const caPem = writeFile(tmp.dir, 'ca3.pem', await toPem('CERTIFICATE', ca.caCert));
    const leafPem = writeFile(tmp.dir, 'leaf3.pem', await toPem('CERTIFICATE', ca.signingCert));
    const r = openssl([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      writeFile(tmp.dir, 's.sig', der),
      '-content',
      writeFile(tmp.dir, 's.bin', content),
      '-CAfile',
      caPem,
      '-certfile',
      leafPem,
      '-purpose',
      'any',
      '-attime',
      String(Math.floor(now.getTime() / 1000) + 60),
      '-out',
      '/dev/null',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const v = verifyDetached(der, content, [ca.signingCert]);
    assert.ok(v.ok);
    assert.ok(validateChain(v.signer.certificate, { roots: [ca.caCert] }, { at: now }).ok);
  });

  it('exports the signing key as PKCS#8 PEM that openssl reads', async () => {
    const keyPem = writeFile(tmp.dir, 'k.pem', await toPem('PRIVATE KEY', ca.signingKey));
    const r = openssl(['pkey', '-in', keyPem, '-noout', '-text']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /NIST CURVE: P-256/);
  });
});
