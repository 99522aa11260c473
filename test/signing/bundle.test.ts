import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BundleFormatError, isBase64Text, parseBundle } from '../../src/signing/bundle.js';

const canonical = (s: string) => Buffer.from(s, 'base64').toString('base64') === s;

const HASH = Buffer.alloc(32, 7).toString('base64');
const bundle = {
  mediaType: 'application/vnd.bpfsign.bundle.v1+json',
  scheme: 'linux-6.18',
  loader: { insns: 'AAAA', data: 'AA==' },
  signature: 'MAA=',
  certificates: ['-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n'],
  manifest: { payload: 'e30=', payloadType: 'application/vnd.in-toto+json', signatures: [{ keyid: 'ab', sig: 'MAA=' }] },
  tlog: { logIndex: '3', treeSize: '10', leafHash: HASH, hashes: [HASH, HASH], checkpoint: 'log\n10\nroot\n' },
};

/** The paths parseBundle names for `b`. */
function issues(b: unknown): string[] {
  try {
    parseBundle(b);
    return [];
  } catch (e) {
    assert.ok(e instanceof BundleFormatError);
    return e.issues.map((i) => i.path);
  }
}

describe('isBase64Text', () => {
  it('accepts exactly canonical padded base64: the text its bytes encode to', () => {
    const cases = [
      '',
      'QQ==',
      'QQ',
      'Q',
      'QR==',
      'QUJD',
      'QUJD=',
      'QUJD===',
      'QU=JD',
      'QUJ-',
      'QUJ_',
      ' QUJD',
      'QUJD\n',
      'ü',
      '====',
      'QQ==QQ==',
    ];
    const alphabet = 'AB+/=\n-_z9';
    for (let i = 0; i < 5000; i++) {
      const n = i % 13;
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[(i * 7 + j * 13 + (i >> 3)) % alphabet.length];
      cases.push(
        s,
        randomBytes(i % 40).toString('base64'),
        randomBytes(i % 40)
          .toString('base64')
          .replace(/=+$/, ''),
        randomBytes(i % 40).toString('base64url'),
      );
    }
    for (const s of cases) assert.equal(isBase64Text(s), canonical(s), JSON.stringify(s));
  });

  it('refuses the non-canonical spellings of bytes: no padding, non-zero padding bits, URL-safe letters, whitespace', () => {
    for (const s of ['QQ', 'QR==', 'QUI', 'QUJ-', '-_8', 'QU JD', 'QUJD\n', 'QQ===']) assert.equal(isBase64Text(s), false, s);
  });
});

describe('parseBundle', () => {
  it('accepts a well-formed bundle', () => {
    assert.deepEqual(issues(bundle), []);
    assert.deepEqual(issues({ ...bundle, manifest: null, tlog: null, signature: null, certificates: [] }), []);
  });

  it('refuses non-canonical base64 in every base64 field, naming it', () => {
    assert.deepEqual(issues({ ...bundle, loader: { insns: 'AAAA', data: 'AA' } }), ['loader.data']);
    assert.deepEqual(issues({ ...bundle, loader: { insns: 'AA-A', data: 'AA==' } }), ['loader.insns']);
    assert.deepEqual(issues({ ...bundle, signature: 'MAB=' }), ['signature']);
    assert.deepEqual(issues({ ...bundle, manifest: { ...bundle.manifest, payload: 'e30' } }), ['manifest.payload']);
    assert.deepEqual(issues({ ...bundle, manifest: { ...bundle.manifest, signatures: [{ sig: 'MAA' }] } }), ['manifest.signatures.0.sig']);
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, hashes: [HASH, HASH.replace('=', '')] } }), ['tlog.hashes.1']);
  });

  it('refuses junk in the log proof: non-decimal or oversized indices, hashes of the wrong size, a huge checkpoint', () => {
    for (const logIndex of [
      '-1',
      '01',
      '1e3',
      ' 3',
      '3.0',
      '0x10',
      '',
      '9223372036854775808',
      '99999999999999999999',
      '123456789012345678901',
    ]) {
      assert.deepEqual(
        issues({ ...bundle, tlog: { ...bundle.tlog, logIndex, treeSize: '9223372036854775807' } }),
        ['tlog.logIndex'],
        logIndex,
      );
    }
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, treeSize: '+10' } }), ['tlog.treeSize']);
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, logIndex: '10' } }), ['tlog.logIndex'], 'the index is within the tree');
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, leafHash: Buffer.alloc(31).toString('base64') } }), ['tlog.leafHash']);
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, leafHash: Buffer.alloc(33).toString('base64') } }), ['tlog.leafHash']);
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, hashes: Array(65).fill(HASH) } }), ['tlog.hashes']);
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, checkpoint: 'x'.repeat(20_000) } }), ['tlog.checkpoint']);
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, logIndex: 3 } }), ['tlog.logIndex']);
  });

  it('refuses unknown fields at every level', () => {
    assert.deepEqual(issues({ ...bundle, extra: 1 }), ['']);
    assert.deepEqual(issues({ ...bundle, loader: { ...bundle.loader, extra: 'AA==' } }), ['loader']);
    assert.deepEqual(issues({ ...bundle, manifest: { ...bundle.manifest, extra: 1 } }), ['manifest']);
    assert.deepEqual(issues({ ...bundle, manifest: { ...bundle.manifest, signatures: [{ sig: 'MAA=', extra: 1 }] } }), [
      'manifest.signatures.0',
    ]);
    assert.deepEqual(issues({ ...bundle, tlog: { ...bundle.tlog, extra: 1 } }), ['tlog']);
  });

  it('refuses other payload types, certificates that are not one PEM block, and oversized strings', () => {
    assert.deepEqual(issues({ ...bundle, manifest: { ...bundle.manifest, payloadType: 'application/json' } }), ['manifest.payloadType']);
    assert.deepEqual(issues({ ...bundle, manifest: { ...bundle.manifest, signatures: [] } }), ['manifest.signatures']);
    assert.deepEqual(issues({ ...bundle, certificates: ['not a certificate'] }), ['certificates.0']);
    assert.deepEqual(issues({ ...bundle, certificates: [bundle.certificates[0] + bundle.certificates[0].replace('BEGIN', 'BEGIN')] }), [
      'certificates.0',
    ]);
    assert.deepEqual(
      issues({ ...bundle, certificates: [`-----BEGIN CERTIFICATE-----\n${'A'.repeat(20_000)}\n-----END CERTIFICATE-----\n`] }),
      ['certificates.0'],
    );
    assert.deepEqual(issues({ ...bundle, certificates: Array(9).fill(bundle.certificates[0]) }), ['certificates']);
    assert.deepEqual(issues({ ...bundle, manifest: { ...bundle.manifest, signatures: [{ keyid: 'a'.repeat(200), sig: 'MAA=' }] } }), [
      'manifest.signatures.0.keyid',
    ]);
  });
});
