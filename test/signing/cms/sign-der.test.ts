import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  NULL,
  contextConstructed,
  encode,
  implicitPrimitive,
  objectIdentifier,
  octetString,
  prim,
  cons,
  sequence,
  setOf,
  smallInteger,
} from '../../../src/signing/cms/der-writer.js';
import { encodeSignedData } from '../../../src/signing/cms/sign.js';
import { readTlv } from '../../../src/signing/der.js';
import {
  generateKeyPair,
  issueCertificate,
  parseCertificate,
  signDetached,
  signerFromPem,
  SigningError,
  toPem,
  verifyDetached,
  webCryptoSigner,
  type Signer,
  type SignerAlgorithm,
} from '../../../src/signing/index.js';
import { fromHex, toHex } from '../../../src/shared/bytes.js';
import { OPENSSL_MISSING, mintPki, openssl, randomBytes, tempDir, writeFile, type Pki } from '../helpers.js';
import { referenceEncodeSignedData, referenceSignDetached } from './reference-sign.js';

const hex = (b: Uint8Array): string => toHex(b);
const ALGORITHMS: SignerAlgorithm[] = ['rsa-pkcs1v15-sha256', 'ecdsa-p256-sha256', 'ecdsa-p384-sha256'];

/** xorshift PRNG for sizes and bytes, so failures replay */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** A signer that returns a fixed signature, so both builders see the same bytes (ECDSA is randomized). */
function fixedSigner(algorithm: SignerAlgorithm, subjectKeyIdentifier: Uint8Array, signature: Uint8Array): Signer {
  return { algorithm, subjectKeyIdentifier, sign: async () => signature };
}

describe('the DER writer', () => {
  it('writes lengths in the fewest octets at every boundary (X.690 §10.1)', () => {
    const cases: [number, string][] = [
      [0, '0400'],
      [1, '0401'],
      [127, '047f'],
      [128, '048180'],
      [255, '0481ff'],
      [256, '04820100'],
      [65535, '0482ffff'],
      [65536, '0483010000'],
    ];
    for (const [n, head] of cases) {
      const der = encode(octetString(new Uint8Array(n)));
      assert.equal(hex(der.subarray(0, head.length / 2)), head, `length ${n}`);
      assert.equal(der.length, head.length / 2 + n, `length ${n}`);
    }
    assert.equal(hex(encode(octetString(new Uint8Array(0xffffff))).subarray(0, 5)), '0483ffffff', 'length 2^24-1');
    assert.equal(hex(encode(octetString(new Uint8Array(0x1000000))).subarray(0, 6)), '048401000000', 'length 2^24');
  });

  it('writes constructed lengths that count the children’s headers', () => {
    const der = encode(sequence(octetString(new Uint8Array(126)), NULL));
    // 0x30 len(2+126+2=130) → 81 82
    assert.equal(hex(der.subarray(0, 3)), '308182');
    assert.equal(der.length, 3 + 130);
    const t = readTlv(der, 0);
    assert.equal(t.end, der.length);
  });

  it('writes non-negative INTEGERs in the fewest two’s-complement octets', () => {
    const cases: [number, string][] = [
      [0, '020100'],
      [3, '020103'],
      [127, '02017f'],
      [128, '02020080'],
      [255, '020200ff'],
      [256, '02020100'],
      [32768, '0203008000'],
    ];
    for (const [v, want] of cases) assert.equal(hex(encode(smallInteger(v))), want, `INTEGER ${v}`);
  });

  it('refuses negative, fractional and unsafe INTEGERs with RangeError', () => {
    for (const v of [-1, 1.5, 2 ** 53]) assert.throws(() => smallInteger(v), RangeError, `INTEGER ${v}`);
  });

  it('writes OBJECT IDENTIFIERs arc by arc in base 128 (X.690 §8.19)', () => {
    const cases: [string, string][] = [
      ['1.2.840.113549.1.7.2', '06092a864886f70d010702'], // signedData
      ['1.2.840.113549.1.7.1', '06092a864886f70d010701'], // id-data
      ['2.16.840.1.101.3.4.2.1', '0609608648016503040201'], // sha256
      ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'], // ecdsa-with-SHA256
      ['1.2.840.113549.1.1.1', '06092a864886f70d010101'], // rsaEncryption
      ['2.999.3', '0603883703'], // first subidentifier 1079 spans two octets
      ['0.0', '060100'],
    ];
    for (const [oid, want] of cases) assert.equal(hex(encode(objectIdentifier(oid))), want, oid);
  });

  it('refuses malformed OIDs: one arc, leading zeros, empty arcs, first arc > 2, second arc > 39 under 0/1', () => {
    for (const bad of ['1', '1.02.3', '1..2', '3.1', '1.40', '0.40', '1.2.-3', '1.2.x', '']) {
      assert.throws(
        () => objectIdentifier(bad),
        (e: unknown) => e instanceof TypeError || e instanceof RangeError,
        bad,
      );
    }
  });

  it('refuses tags that need the high-tag-number form or do not fit primitive/constructed use', () => {
    assert.throws(() => prim(0x1f, new Uint8Array(0)), RangeError);
    assert.throws(() => prim(0x30, new Uint8Array(0)), RangeError);
    assert.throws(() => cons(0x04, []), RangeError);
    assert.throws(() => prim(0x100, new Uint8Array(0)), RangeError);
    assert.throws(() => implicitPrimitive(31, new Uint8Array(0)), RangeError);
    assert.throws(() => contextConstructed(-1), RangeError);
  });

  it('writes context tags [n] as 0x80|n (primitive) and 0xa0|n (constructed)', () => {
    assert.equal(hex(encode(implicitPrimitive(0, Uint8Array.of(0xab)))), '8001ab');
    assert.equal(hex(encode(contextConstructed(1, NULL))), 'a1020500');
  });

  it('sorts SET OF elements by their encodings (X.690 §11.6)', () => {
    const der = encode(setOf(octetString(Uint8Array.of(2)), octetString(Uint8Array.of(1, 9)), octetString(Uint8Array.of(1))));
    assert.equal(hex(der), '310a' + '040101' + '040102' + '04020109'); // 040102 before 04020109: third octet 01 < 02
  });
});

describe('encodeSignedData against the @peculiar builder it replaces', () => {
  it('is byte-identical for every algorithm over 600 random subjectKeyIdentifier/signature sizes, across the 1/2/3-octet length boundaries', () => {
    const rnd = prng(20240601);
    const skiEdge = [1, 20, 32, 126, 127, 128, 129, 255, 256, 257, 20, 20, 20, 20];
    const sigEdge = [1, 64, 72, 102, 103, 104, 105, 200, 256, 384, 512, 65535 - 200, 65535 - 150, 65536];
    let n = 0;
    for (const alg of ALGORITHMS) {
      for (let i = 0; i < 200; i++) {
        const skiLen = i < skiEdge.length ? skiEdge[i] : 1 + rnd(300);
        const sigLen = i < sigEdge.length ? sigEdge[i] : 1 + rnd(1200);
        const ski = randomBytes(skiLen, 1 + rnd(1e9));
        const sig = randomBytes(sigLen, 1 + rnd(1e9));
        const ours = encodeSignedData(alg, ski, sig);
        const theirs = referenceEncodeSignedData(alg, ski, sig);
        assert.equal(hex(ours), hex(theirs), `${alg} ski ${skiLen} B, signature ${sigLen} B`);
        n++;
      }
    }
    assert.equal(n, 600);
  });

  it('does not alias its inputs: changing them afterwards leaves the output alone', () => {
    const ski = randomBytes(20, 3);
    const sig = randomBytes(72, 4);
    const der = encodeSignedData('ecdsa-p256-sha256', ski, sig);
    const copy = hex(der);
    ski.fill(0);
    sig.fill(0);
    assert.equal(hex(der), copy);
  });
});

describe('signDetached with real keys, against the @peculiar builder', () => {
  const keys: { name: string; alg: SignerAlgorithm; signer: Signer; certPem: string }[] = [];
  let tmp: ReturnType<typeof tempDir>;
  const rnd = prng(77);
  const contents = [
    new Uint8Array(0),
    Uint8Array.of(0),
    randomBytes(4096, 11),
    randomBytes(4096 + 24, 12),
    randomBytes(1 + rnd(20000), 13),
  ];

  before(async () => {
    tmp = tempDir('cms-der');
    const plan: [SignerAlgorithm, number | undefined, number][] = [
      ['rsa-pkcs1v15-sha256', 2048, 2],
      ['rsa-pkcs1v15-sha256', 3072, 1],
      ['rsa-pkcs1v15-sha256', 4096, 1],
      ['ecdsa-p256-sha256', undefined, 3],
      ['ecdsa-p384-sha256', undefined, 3],
    ];
    const now = Date.now();
    for (const [alg, bits, count] of plan) {
      for (let i = 0; i < count; i++) {
        const pair = await generateKeyPair(alg, bits);
        const name = `${bits ? `rsa${bits}` : alg.slice(6, 10)}-${i}`;
        const cert = await issueCertificate({
          subject: `CN=${name}`,
          publicKey: pair.publicKey,
          issuerKey: pair.privateKey,
          notBefore: new Date(now - 3600e3),
          notAfter: new Date(now + 3600e3),
          ca: false,
        });
        const ski = parseCertificate(cert).subjectKeyIdentifier;
        assert.ok(ski, `${name} has an SKI`);
        keys.push({ name, alg, signer: webCryptoSigner(pair.privateKey, fromHex(ski)), certPem: await toPem('CERTIFICATE', cert) });
      }
    }
  });
  after(() => tmp?.cleanup());

  it('gives the same bytes as the old builder for RSA-2048/3072/4096 (PKCS#1 v1.5 is deterministic), content by content', async () => {
    let n = 0;
    for (const k of keys.filter((k) => k.alg === 'rsa-pkcs1v15-sha256')) {
      for (const c of contents) {
        assert.equal(hex(await signDetached(c, k.signer)), hex(await referenceSignDetached(c, k.signer)), `${k.name}, ${c.length} B`);
        n++;
      }
    }
    assert.equal(n, 4 * contents.length);
  });

  it('gives the same bytes as the old builder for P-256/P-384 when both get the same signature', async () => {
    let n = 0;
    for (const k of keys.filter((k) => k.alg !== 'rsa-pkcs1v15-sha256')) {
      for (const c of contents) {
        const fixed = fixedSigner(k.alg, k.signer.subjectKeyIdentifier, await k.signer.sign(c));
        assert.equal(hex(await signDetached(c, fixed)), hex(await referenceSignDetached(c, fixed)), `${k.name}, ${c.length} B`);
        n++;
      }
    }
    assert.equal(n, 6 * contents.length);
  });

  it('verifies with our own verifier against each key’s certificate', async () => {
    for (const k of keys) {
      const c = contents[2];
      const r = verifyDetached(await signDetached(c, k.signer), c, [k.certPem]);
      assert.ok(r.ok, `${k.name}: ${r.ok ? '' : r.error.message}`);
    }
  });

  it('is accepted by openssl cms -verify -noverify for every key and content', { skip: OPENSSL_MISSING }, async () => {
    for (const k of keys) {
      const cert = writeFile(tmp.dir, `${k.name}.pem`, k.certPem);
      for (const [i, c] of contents.entries()) {
        const sig = writeFile(tmp.dir, `${k.name}-${i}.sig`, await signDetached(c, k.signer));
        const data = writeFile(tmp.dir, `${k.name}-${i}.data`, c);
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
          cert,
          '-out',
          '/dev/null',
        ]);
        assert.equal(r.status, 0, `${k.name}, ${c.length} B: ${r.stderr}`);
        assert.match(r.stderr, /Verification successful/);
      }
    }
  });
});

describe('signDetached with the minted PKI, checked by openssl against the CA chain', { skip: OPENSSL_MISSING }, () => {
  let pki: Pki;
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    pki = mintPki();
    tmp = tempDir('cms-der-pki');
  });
  after(() => {
    pki?.cleanup();
    tmp?.cleanup();
  });

  for (const name of ['leaf-rsa2048', 'leaf-rsa4096', 'leaf-p256', 'leaf-p384']) {
    it(`equals the old builder and verifies under chain.pem for ${name}`, async () => {
      const signer = await signerFromPem({ privateKey: pki.text(`${name}.key`), certificate: pki.text(`${name}.crt`) });
      const content = randomBytes(4096, 5);
      const sigBytes = await signer.sign(content);
      const fixed = fixedSigner(signer.algorithm, signer.subjectKeyIdentifier, sigBytes);
      const der = await signDetached(content, fixed);
      assert.equal(hex(der), hex(await referenceSignDetached(content, fixed)));
      const sig = writeFile(tmp.dir, `${name}.sig`, der);
      const data = writeFile(tmp.dir, `${name}.data`, content);
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
        pki.path(`${name}.crt`),
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /Verification successful/);
    });
  }
});

describe('signDetached errors, as before', () => {
  const content = randomBytes(64, 9);

  it('throws CERT_INVALID for an empty subjectKeyIdentifier, like the old builder', async () => {
    const s = fixedSigner('ecdsa-p256-sha256', new Uint8Array(0), Uint8Array.of(1));
    await assert.rejects(signDetached(content, s), { name: 'SigningError', code: 'CERT_INVALID' });
    await assert.rejects(referenceSignDetached(content, s), { name: 'SigningError', code: 'CERT_INVALID' });
  });

  it('throws SIGN_FAILED for an empty or non-byte signature, like the old builder', async () => {
    for (const bad of [new Uint8Array(0), [1, 2, 3] as unknown as Uint8Array]) {
      const s = fixedSigner('rsa-pkcs1v15-sha256', Uint8Array.of(1), bad);
      await assert.rejects(signDetached(content, s), { name: 'SigningError', code: 'SIGN_FAILED' });
      await assert.rejects(referenceSignDetached(content, s), { name: 'SigningError', code: 'SIGN_FAILED' });
    }
  });

  it('passes a SigningError from the signer through unchanged', async () => {
    const s: Signer = {
      algorithm: 'ecdsa-p384-sha256',
      subjectKeyIdentifier: Uint8Array.of(1),
      sign: async () => {
        throw new SigningError('TOKEN_ERROR', 'slot gone');
      },
    };
    await assert.rejects(signDetached(content, s), { name: 'SigningError', code: 'TOKEN_ERROR' });
  });
});
