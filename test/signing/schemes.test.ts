import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { schemeAttrs, signedContent } from '../../src/signing/index.js';
import { randomBytes } from './helpers.js';

/** sha256sum as an independent oracle */
function sha256sum(bytes: Uint8Array): string {
  const r = spawnSync('sha256sum', [], { input: bytes });
  return r.stdout.toString().split(' ')[0];
}
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

describe('signedContent', () => {
  const insns = randomBytes(8 * 300, 1);
  const data = randomBytes(1280 + 8 * 40, 2);

  describe('for linux-6.18', () => {
    it('is the instructions only, byte for byte', () => {
      assert.deepEqual(signedContent('linux-6.18', insns, data), insns);
    });
  });

  describe('for linux-load-time', () => {
    it('is insns ‖ data', () => {
      const c = signedContent('linux-load-time', insns, data);
      assert.equal(c.length, insns.length + data.length);
      assert.deepEqual(c.subarray(0, insns.length), insns);
      assert.deepEqual(c.subarray(insns.length), data);
    });
  });

  it('throws SCHEME_UNSUPPORTED for an unknown scheme', () => {
    // Called as JavaScript would, with any string: the type allows only known schemes.
    const fromJs = signedContent as (scheme: string, insns: Uint8Array, data: Uint8Array) => Uint8Array;
    assert.throws(() => fromJs('linux-7.0', insns, data), { name: 'SigningError', code: 'SCHEME_UNSUPPORTED' });
  });
});

describe('schemeAttrs', () => {
  const insns = randomBytes(8 * 77, 3);
  const data = randomBytes(2000, 4);

  describe('for linux-6.18', () => {
    const a = schemeAttrs('linux-6.18', insns, data);
    it('sets excl_prog_hash = SHA-256(insns)', () => assert.equal(hex(a.exclProgHash), sha256sum(insns)));
    it('leaves fd_array_cnt = 0 (lazy binding of the metadata map)', () => assert.equal(a.fdArrayCnt, 0));
    it('gives SHA-256(data) for the in-loader metadata check', () => assert.equal(hex(a.inLoaderMetadataHash), sha256sum(data)));
  });

  describe('for linux-load-time', () => {
    const a = schemeAttrs('linux-load-time', insns, data);
    it('sets excl_prog_hash = SHA-256(insns)', () => assert.equal(hex(a.exclProgHash), sha256sum(insns)));
    it('sets fd_array_cnt = 1 so the kernel folds the metadata map into the signed buffer', () => assert.equal(a.fdArrayCnt, 1));
    it('has no in-loader metadata check', () => assert.equal(a.inLoaderMetadataHash, undefined));
  });

  describe('for unsigned', () => {
    it('sets no exclusive-map hash', () => {
      const a = schemeAttrs('unsigned', insns, data);
      assert.equal(a.exclProgHash, undefined);
      assert.equal(a.fdArrayCnt, 0);
    });
  });
});
