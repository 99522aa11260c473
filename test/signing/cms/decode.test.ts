/**
 * decodeSignedData reads a CMS SignedData straight from its DER. Held against an independent
 * decoding by @peculiar/asn1-cms (an ASN.1 schema library, which bpfsign used before) on
 * signatures from openssl cms in every shape it writes and from signDetached for every key, and
 * on thousands of mutations of them: whatever the hand decoder accepts, the schema library
 * decodes to the same fields; whatever it refuses is a MALFORMED VerificationError, never a
 * crash. Decoding is memoised by the signature's bytes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { decodeSignedData, type DecodedSignedData } from '../../../src/signing/cms/decode.js';
import { signDetached, signerFromPem, webCryptoSigner } from '../../../src/signing/index.js';
import { VerificationError } from '../../../src/signing/errors.js';
import { toHex } from '../../../src/shared/bytes.js';
import { Lru } from '../../../src/shared/lru.js';
import { toPlainJson } from '../../../src/shared/json.js';
import { cons, encode, raw, TAG } from '../../../src/signing/cms/der-writer.js';
import { children, readTlv } from '../../../src/signing/der.js';
import { OPENSSL_MISSING, mintPki, openssl, randomBytes, tempDir, writeFile, type Pki } from '../helpers.js';

/** The reference: the same fields through @peculiar/asn1-cms, as plain data (what decodeSignedData returns). */
function reference(der: Uint8Array): Omit<DecodedSignedData, 'signerInfos'> & { signerInfos: unknown[] } {
  const ci = AsnConvert.parse(der, ContentInfo);
  const sd = AsnConvert.parse(ci.content, SignedData);
  const alg = (a: { algorithm: string; parameters?: ArrayBuffer | null }) => ({
    oid: a.algorithm,
    parameters: a.parameters === undefined ? 'absent' : a.parameters === null ? 'null' : toHex(new Uint8Array(a.parameters)),
  });
  return {
    contentType: ci.contentType,
    version: sd.version,
    digestAlgorithms: Array.from(sd.digestAlgorithms, alg),
    eContentType: sd.encapContentInfo.eContentType,
    eContentPresent: sd.encapContentInfo.eContent !== undefined,
    certificateCount: sd.certificates?.length ?? 0,
    crlCount: sd.crls?.length ?? 0,
    signerInfos: Array.from(sd.signerInfos, (si) => ({
      version: si.version,
      sid: si.sid.subjectKeyIdentifier
        ? { $case: 'subjectKeyIdentifier', keyId: toHex(new Uint8Array(si.sid.subjectKeyIdentifier.buffer)) }
        : {
            $case: 'issuerAndSerialNumber',
            issuer: new Uint8Array(AsnConvert.serialize(si.sid.issuerAndSerialNumber!.issuer)),
            serialNumber: toHex(new Uint8Array(si.sid.issuerAndSerialNumber!.serialNumber)),
          },
      digestAlgorithm: alg(si.digestAlgorithm),
      // The signed attributes as a SET OF (0x31) with the received contents.
      // In their received order (der-writer's setOf would sort them, as DER orders a SET OF).
      signedAttrsDer: si.signedAttrs
        ? encode(
            cons(
              TAG.SET,
              si.signedAttrs.map((a) => raw(new Uint8Array(AsnConvert.serialize(a)))),
            ),
          )
        : undefined,
      signedAttrs: si.signedAttrs?.map((a) => ({ type: a.attrType, values: a.attrValues.map((v) => new Uint8Array(v)) })),
      signatureAlgorithm: alg(si.signatureAlgorithm),
      signature: new Uint8Array(si.signature.buffer),
      hasUnsignedAttrs: (si.unsignedAttrs?.length ?? 0) > 0,
    })),
  };
}

/** Plain JSON (bytes as hex), for deepEqual of two decodings; the members the opaque comparison drops may be deleted. */
type Plain = {
  certificateCount?: number;
  crlCount?: number;
  signerInfos: { signedAttrsDer?: string; signedAttrs?: unknown; sid: { issuer?: string } }[];
};
const plain = (v: unknown) => toPlainJson<Plain>(v);

describe('decodeSignedData', () => {
  describe('against @peculiar/asn1-cms', { skip: OPENSSL_MISSING }, () => {
    let pki: Pki;
    let tmp: ReturnType<typeof tempDir>;
    const content = randomBytes(1024, 5);
    const signatures: { name: string; der: Uint8Array }[] = [];

    before(async () => {
      pki = mintPki();
      tmp = tempDir('cms-decode');
      const data = writeFile(tmp.dir, 'content.bin', content);
      const shapes: [string, string[]][] = [
        ['bpftool (-nocerts -noattr -keyid)', ['-nocerts', '-noattr', '-keyid', '-md', 'sha256']],
        ['signed attributes', ['-nocerts', '-keyid', '-md', 'sha256']],
        ['issuer and serial (sign-file)', ['-nocerts', '-noattr', '-md', 'sha256']],
        ['sha384 with the certificate', ['-noattr', '-keyid', '-md', 'sha384']],
        ['the certificate and its CA', ['-keyid', '-md', 'sha512', '-certfile', pki.path('inter.crt')]],
        ['embedded content', ['-nocerts', '-noattr', '-keyid', '-nodetach']],
      ];
      for (const key of ['leaf-p256', 'leaf-p384', 'leaf-rsa2048']) {
        for (const [shape, flags] of shapes) {
          const out = `${tmp.dir}/${key}-${signatures.length}.sig`;
          const r = openssl([
            'cms',
            '-sign',
            '-binary',
            '-outform',
            'DER',
            '-in',
            data,
            '-signer',
            pki.path(`${key}.crt`),
            '-inkey',
            pki.path(`${key}.key`),
            '-out',
            out,
            ...flags,
          ]);
          assert.equal(r.status, 0, r.stderr);
          signatures.push({ name: `openssl ${key}, ${shape}`, der: new Uint8Array(readFileSync(out)) });
        }
        const signer = await signerFromPem({ privateKey: pki.text(`${key}.key`), certificate: pki.text(`${key}.crt`) });
        signatures.push({ name: `signDetached ${key}`, der: await signDetached(content, signer) });
      }
      // Two signers in one SignedData.
      const out = `${tmp.dir}/two.sig`;
      const r = openssl([
        'cms',
        '-sign',
        '-binary',
        '-outform',
        'DER',
        '-in',
        data,
        '-signer',
        pki.path('leaf-p256.crt'),
        '-inkey',
        pki.path('leaf-p256.key'),
        '-signer',
        pki.path('leaf-p384.crt'),
        '-inkey',
        pki.path('leaf-p384.key'),
        '-nocerts',
        '-keyid',
        '-out',
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      signatures.push({ name: 'openssl, two signers', der: new Uint8Array(readFileSync(out)) });
    });
    after(() => {
      pki?.cleanup();
      tmp?.cleanup();
    });

    it('decodes every shape openssl cms and signDetached write to the same fields', () => {
      assert.equal(signatures.length, 22);
      for (const { name, der } of signatures) assert.deepEqual(plain(decodeSignedData(der)), plain(reference(der)), name);
      const two = decodeSignedData(signatures[signatures.length - 1].der);
      assert.equal(two.signerInfos.length, 2);
      assert.ok(
        signatures.some(({ der }) => decodeSignedData(der).certificateCount === 2),
        'a SignedData carrying two certificates',
      );
    });

    it('on thousands of mutations, refuses with MALFORMED or decodes as the schema library does', (t) => {
      // What the hand decoder takes as opaque bytes, counted or kept but not parsed (as the
      // kernel's PKCS#7 parser skips an ANY by its length): embedded content, the certificate
      // and CRL sets, attribute values and the issuer's Name. The schema library parses them
      // too, so a mutation inside one may be refused there and still decode here.
      const opaque = (der: Uint8Array): [number, number][] => {
        const [, content] = children(der, readTlv(der, 0));
        const sd = children(der, children(der, content)[0]);
        const eContent = children(der, sd[2]).filter((t) => t.tag === 0xa0);
        const raw = [...eContent, ...sd.filter((t) => t.tag === 0xa0 || t.tag === 0xa1)];
        for (const info of children(der, sd[sd.length - 1])) {
          const [, sid, , attrs] = children(der, info);
          if (sid.tag === 0x30) raw.push(children(der, sid)[0]);
          if (attrs.tag === 0xa0) for (const a of children(der, attrs)) raw.push(...children(der, children(der, a)[1]));
        }
        return raw.map((t) => [t.start, t.end]);
      };
      let seed = 0x2545f491;
      const rand = (n: number) => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) % n;
      };
      let decoded = 0,
        refused = 0,
        opaqueOnly = 0;
      for (const { name, der } of signatures) {
        const ranges = opaque(der);
        for (let k = 0; k < 300; k++) {
          const m = Uint8Array.from(der);
          const kind = rand(3);
          let bytes = m,
            at = -1;
          if (kind === 0) m[(at = rand(m.length))] = rand(256);
          else if (kind === 1)
            m[(at = rand(Math.min(m.length, 64)))] ^= 1 << rand(8); // the headers, where lengths and tags are
          else bytes = m.subarray(0, rand(m.length));
          let got: DecodedSignedData;
          try {
            got = decodeSignedData(bytes);
          } catch (e) {
            assert.ok(e instanceof VerificationError && e.code === 'MALFORMED', `${name}: mutation ${k} threw ${String(e)}`);
            refused++;
            continue;
          }
          decoded++;
          const inOpaque = ranges.some(([a, b]) => at >= a && at < b);
          let want: unknown;
          try {
            want = reference(bytes);
          } catch (e) {
            assert.ok(
              inOpaque,
              `${name}: mutation ${k} at ${at} decoded here, but not by the schema library (${String(e)}): ${toHex(bytes)}`,
            );
            opaqueOnly++;
            continue;
          }
          // Inside an opaque value the schema library's re-encoding of the attributes need not be
          // the received bytes (which are what the signature covers); everything else must agree.
          const fields = (d: unknown) => {
            const p = plain(d);
            if (inOpaque) {
              delete p.certificateCount;
              delete p.crlCount;
              for (const si of p.signerInfos) {
                delete si.signedAttrsDer;
                delete si.signedAttrs;
                delete si.sid.issuer;
              }
            }
            return p;
          };
          assert.deepEqual(fields(got), fields(want), `${name}: mutation ${k}`);
        }
      }
      t.diagnostic(`decoded ${decoded} (of which ${opaqueOnly} inside opaque values), refused ${refused}`);
      assert.ok(
        decoded > 1000 && refused > 1000 && opaqueOnly < decoded / 4,
        `decoded ${decoded} (of which ${opaqueOnly} inside opaque values), refused ${refused}`,
      );
    });

    it('refuses bytes after the ContentInfo, indefinite lengths and a wrong tag, naming the field', () => {
      const der = signatures[0].der;
      const refusal = (bytes: Uint8Array) => {
        try {
          decodeSignedData(bytes);
        } catch (e) {
          return (e as VerificationError).message;
        }
        return 'decoded';
      };
      assert.match(refusal(Uint8Array.from([...der, 0])), /ContentInfo: 1 bytes after the ContentInfo/);
      const indefinite = Uint8Array.from(der);
      indefinite[1] = 0x80;
      assert.match(refusal(indefinite), /length/);
      assert.match(refusal(Uint8Array.from([0x31, ...der.subarray(1)])), /ContentInfo: tag 0x31 at offset 0 \(want 0x30\)/);
    });
  });

  it('answers the same bytes with the same frozen decoding from a memo, and other bytes afresh', async () => {
    const { privateKey } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const signer = webCryptoSigner(privateKey, new Uint8Array(20).fill(7));
    const a = await signDetached(new Uint8Array([1, 2, 3]), signer);
    const b = await signDetached(new Uint8Array([4, 5, 6]), signer);
    const memo = new Lru<string, DecodedSignedData>(8);
    const first = decodeSignedData(a, memo);
    assert.equal(decodeSignedData(new Uint8Array(a), memo), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.signerInfos[0]));
    const other = decodeSignedData(b, memo);
    assert.notEqual(other, first);
    assert.notDeepEqual(other.signerInfos[0].signature, first.signerInfos[0].signature);
    assert.deepEqual(memo.summary, { hits: 1, misses: 2, evictions: 0, entries: 2 });
  });

  it('decodes afresh every time without a memo, still frozen', async () => {
    const { privateKey } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const a = await signDetached(new Uint8Array([1, 2, 3]), webCryptoSigner(privateKey, new Uint8Array(20).fill(7)));
    const first = decodeSignedData(a);
    const again = decodeSignedData(a);
    assert.notEqual(again, first);
    assert.deepEqual(again, first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.signerInfos[0]));
  });

  it('refuses bytes that do not parse each time they come', () => {
    const bad = new Uint8Array([0x30, 0x03, 0x02, 0x01]);
    for (let i = 0; i < 2; i++)
      assert.throws(
        () => decodeSignedData(bad),
        (e: Error & { code?: string }) => e.code === 'MALFORMED',
      );
  });
});
