/**
 * Log entries (src/signing/tlog/entry.ts): made from a bundle alone, canonical and small; read
 * back strictly (one spelling per entry), refusing every other shape with a typed error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  LOADER_ENTRY_KIND,
  MAX_ENTRY_BYTES,
  loaderEntryBytes,
  loaderEntryFromBundle,
  parseLoaderEntry,
  type EntrySource,
} from '../../../src/signing/tlog/index.js';
import { canonicalBytes, type JsonValue } from '../../../src/signing/canonical.js';

const hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const der = new Uint8Array(Buffer.from('3082 not a real certificate, only its bytes'));
const objectSha = 'ab'.repeat(32);
const envelope = {
  payload: Buffer.from(JSON.stringify({ predicate: { object: { sha256: objectSha } } })).toString('base64'),
  payloadType: 'application/vnd.in-toto+json',
  signatures: [{ sig: 'AAAA' }],
};
const bundle: EntrySource = {
  scheme: 'linux-6.18',
  loader: { insns: Buffer.from('insns').toString('base64'), data: Buffer.from('data').toString('base64') },
  signature: Buffer.alloc(300, 7).toString('base64'),
  certificates: [`-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`],
  manifest: envelope,
};

describe('a log entry', () => {
  it("is made from the bundle alone: the manifest's digest, the signature, the signer certificate's digest, the scheme and the digests", () => {
    const e = loaderEntryFromBundle(bundle);
    assert.deepEqual(e, {
      kind: LOADER_ENTRY_KIND,
      manifestSha256: hex(canonicalBytes(envelope as unknown as JsonValue)),
      loaderSignature: bundle.signature,
      signerCertSha256: hex(der),
      scheme: 'linux-6.18',
      insnsSha256: hex('insns'),
      dataSha256: hex('data'),
      objectSha256: objectSha,
    });
    const bytes = loaderEntryBytes(e);
    assert.ok(bytes.length < 1024 && bytes.length < MAX_ENTRY_BYTES, `${bytes.length} bytes`);
    assert.deepEqual(parseLoaderEntry(bytes), e);
  });

  it('cannot be made from an unsigned bundle or one without a manifest', () => {
    assert.throws(() => loaderEntryFromBundle({ ...bundle, signature: null }), { code: 'TLOG_ENTRY_MALFORMED' });
    assert.throws(() => loaderEntryFromBundle({ ...bundle, manifest: null }), { code: 'TLOG_ENTRY_MALFORMED' });
    assert.throws(() => loaderEntryFromBundle({ ...bundle, scheme: 'unsigned' }), { code: 'TLOG_ENTRY_MALFORMED' });
  });

  it('is read strictly: another field, another kind, a bad digest, non-canonical bytes are refused', () => {
    const e = loaderEntryFromBundle(bundle);
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const bad = (v: Uint8Array, field: string) =>
      assert.throws(
        () => parseLoaderEntry(v),
        (err: { code: string; details: { field: string } }) => err.code === 'TLOG_ENTRY_MALFORMED' && err.details.field === field,
      );
    bad(canonicalBytes({ ...e, extra: 'x' }), 'extra');
    bad(canonicalBytes({ ...e, kind: 'bpfsign/loader/v2' }), 'kind');
    bad(canonicalBytes({ ...e, manifestSha256: 'AB'.repeat(32) }), 'manifestSha256');
    bad(canonicalBytes({ ...e, loaderSignature: 'AAB=' }), 'loaderSignature');
    bad(enc(e), '(entry)'); // JSON.stringify's member order is not RFC 8785's
    bad(new Uint8Array([0xff, 0xfe]), '(entry)');
    bad(new Uint8Array(MAX_ENTRY_BYTES + 1), '(entry)');
  });
});
