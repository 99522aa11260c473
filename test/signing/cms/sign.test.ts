import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { signDetached, decodeSignedData, signerFromPem, OID } from '../../../src/signing/index.js';
import type { Signer } from '../../../src/signing/index.js';
import { OPENSSL_MISSING, mintPki, openssl, opensslSki, randomBytes, tempDir, writeFile, type Pki } from '../helpers.js';

/**
 * The CMS bpftool writes (kernel-signing.md §2.2), as `openssl asn1parse -i` prints it:
 * depth, kind, and for OBJECT/INTEGER the value. Derived from the design note, not from our output.
 */
function bpftoolShape(signatureOid: 'rsaEncryption' | 'ecdsa-with-SHA256'): string[] {
  return [
    '0 SEQUENCE',
    '1 OBJECT :pkcs7-signedData',
    '1 cont [ 0 ]',
    '2 SEQUENCE',
    '3 INTEGER :03', // SignedData version 3 (SKID signer)
    '3 SET', // digestAlgorithms
    '4 SEQUENCE',
    '5 OBJECT :sha256', // no parameters
    '3 SEQUENCE', // encapContentInfo, no eContent
    '4 OBJECT :pkcs7-data',
    // no [0] certificates, no [1] crls
    '3 SET', // signerInfos
    '4 SEQUENCE',
    '5 INTEGER :03', // SignerInfo version 3
    '5 cont [ 0 ]', // sid = [0] subjectKeyIdentifier
    '5 SEQUENCE',
    '6 OBJECT :sha256',
    // no [0] signedAttrs
    '5 SEQUENCE',
    `6 OBJECT :${signatureOid}`,
    ...(signatureOid === 'rsaEncryption' ? ['6 NULL'] : []),
    '5 OCTET STRING',
  ];
}

function asn1Shape(der: Uint8Array, dir: string): string[] {
  const f = writeFile(dir, 'shape.der', der);
  const r = openssl(['asn1parse', '-inform', 'DER', '-in', f]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const m = /d=(\d+)\s+hl=\d+\s+l=\s*\d+\s+(?:cons|prim):\s*(.*)$/.exec(line);
      assert.ok(m, `unparsed asn1parse line: ${line}`);
      const body = m[2].replace(/\s+/g, ' ').replace(/ :/, ' :').trim();
      const kind = body.startsWith('OCTET STRING') ? 'OCTET STRING' : body.replace(/\s*$/, '');
      return `${m[1]} ${kind.replace(/^(OBJECT|INTEGER)\s+:/, '$1 :')}`;
    });
}

const KEYS = [
  { name: 'leaf-rsa2048', sigOid: 'rsaEncryption' as const, alg: 'rsa-pkcs1v15-sha256' },
  { name: 'leaf-rsa4096', sigOid: 'rsaEncryption' as const, alg: 'rsa-pkcs1v15-sha256' },
  { name: 'leaf-p256', sigOid: 'ecdsa-with-SHA256' as const, alg: 'ecdsa-p256-sha256' },
  { name: 'leaf-p384', sigOid: 'ecdsa-with-SHA256' as const, alg: 'ecdsa-p384-sha256' },
];

describe('signDetached', { skip: OPENSSL_MISSING }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  const signers = new Map<string, Signer>();
  const content = randomBytes(4096 + 24, 7); // a loader-sized instruction buffer

  before(async () => {
    pki = mintPki();
    tmp = tempDir('cms-sign');
    for (const k of KEYS) {
      signers.set(k.name, await signerFromPem({ privateKey: pki.text(`${k.name}.key`), certificate: pki.text(`${k.name}.crt`) }));
    }
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  for (const k of KEYS) {
    describe(`with a ${k.name} key`, () => {
      it(`reports algorithm ${k.alg}`, () => {
        assert.equal(signers.get(k.name)!.algorithm, k.alg);
      });

      it('emits the ASN.1 structure bpftool emits, element by element (openssl asn1parse)', async () => {
        const der = await signDetached(content, signers.get(k.name)!);
        assert.deepEqual(asn1Shape(der, tmp.dir), bpftoolShape(k.sigOid));
      });

      it('decodes to version 3, sha256 without parameters, detached id-data, no certs/crls/attrs, sid = the certificate SKI', async () => {
        const der = await signDetached(content, signers.get(k.name)!);
        const sd = decodeSignedData(der);
        assert.equal(sd.contentType, OID.signedData);
        assert.equal(sd.version, 3);
        assert.deepEqual(sd.digestAlgorithms, [{ oid: OID.sha256, parameters: 'absent' }]);
        assert.equal(sd.eContentType, OID.data);
        assert.equal(sd.eContentPresent, false);
        assert.equal(sd.certificateCount, 0);
        assert.equal(sd.crlCount, 0);
        assert.equal(sd.signerInfos.length, 1);
        const si = sd.signerInfos[0];
        assert.equal(si.version, 3);
        assert.deepEqual(si.sid, { $case: 'subjectKeyIdentifier', keyId: opensslSki(pki.path(`${k.name}.crt`)) });
        assert.deepEqual(si.digestAlgorithm, { oid: OID.sha256, parameters: 'absent' });
        assert.equal(si.signedAttrs, undefined);
        assert.equal(si.hasUnsignedAttrs, false);
        assert.deepEqual(
          si.signatureAlgorithm,
          k.sigOid === 'rsaEncryption'
            ? { oid: OID.rsaEncryption, parameters: 'null' }
            : { oid: OID.ecdsaWithSHA256, parameters: 'absent' },
        );
      });

      it('is accepted by openssl cms -verify against the test CA chain', async () => {
        const der = await signDetached(content, signers.get(k.name)!);
        const sig = writeFile(tmp.dir, `${k.name}.sig`, der);
        const data = writeFile(tmp.dir, `${k.name}.data`, content);
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
          pki.path(`${k.name}.crt`),
          '-purpose',
          'any',
          '-out',
          '/dev/null',
        ]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /Verification successful/);
      });

      it('is rejected by openssl when one content byte changes', async () => {
        const der = await signDetached(content, signers.get(k.name)!);
        const tampered = Uint8Array.from(content);
        tampered[100] ^= 1;
        const sig = writeFile(tmp.dir, `${k.name}.t.sig`, der);
        const data = writeFile(tmp.dir, `${k.name}.t.data`, tampered);
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
          pki.path(`${k.name}.crt`),
          '-out',
          '/dev/null',
        ]);
        assert.notEqual(r.status, 0);
      });
    });
  }

  for (const name of ['leaf-rsa2048', 'leaf-rsa4096']) {
    it(`produces the same bytes as openssl cms -sign -noattr -keyid -nocerts for ${name} (PKCS#1 v1.5 is deterministic)`, async () => {
      const data = writeFile(tmp.dir, 'same.data', content);
      const out = `${tmp.dir}/same-${name}.sig`;
      const r = openssl([
        'cms',
        '-sign',
        '-binary',
        '-nocerts',
        '-noattr',
        '-keyid',
        '-outform',
        'DER',
        '-md',
        'sha256',
        '-in',
        data,
        '-signer',
        pki.path(`${name}.crt`),
        '-inkey',
        pki.path(`${name}.key`),
        '-out',
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const ours = await signDetached(content, signers.get(name)!);
      assert.equal(Buffer.from(ours).toString('hex'), readFileSync(out).toString('hex'));
    });
  }

  it('signs empty content', async () => {
    const der = await signDetached(new Uint8Array(0), signers.get('leaf-p256')!);
    const sig = writeFile(tmp.dir, 'empty.sig', der);
    const data = writeFile(tmp.dir, 'empty.data', new Uint8Array(0));
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
      pki.path('leaf-p256.crt'),
      '-out',
      '/dev/null',
    ]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('fits bpftool’s 4096-byte signature buffer even for RSA-4096', async () => {
    const der = await signDetached(content, signers.get('leaf-rsa4096')!);
    assert.ok(der.length < 4096, `${der.length} bytes`);
  });

  it('throws SIGN_FAILED when the signer fails', async () => {
    const broken: Signer = {
      algorithm: 'ecdsa-p256-sha256',
      subjectKeyIdentifier: new Uint8Array([1]),
      sign: async () => {
        throw new Error('token unplugged');
      },
    };
    await assert.rejects(signDetached(content, broken), { name: 'SigningError', code: 'SIGN_FAILED' });
  });
});
