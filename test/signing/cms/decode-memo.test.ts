/**
 * Decoding a CMS signature is memoised by its bytes: the same bytes give the same (frozen)
 * decoding, other bytes are decoded afresh, and bytes that do not parse are refused every time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { decodeSignedData } from '../../../src/signing/cms/decode.js';
import { signDetached, webCryptoSigner } from '../../../src/signing/index.js';

describe('decodeSignedData', () => {
  it('answers the same bytes with the same frozen decoding, and other bytes afresh', async () => {
    const { privateKey } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const signer = webCryptoSigner(privateKey, new Uint8Array(20).fill(7));
    const a = await signDetached(new Uint8Array([1, 2, 3]), signer);
    const b = await signDetached(new Uint8Array([4, 5, 6]), signer);
    const first = decodeSignedData(a);
    assert.equal(decodeSignedData(new Uint8Array(a)), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.signerInfos[0]));
    const other = decodeSignedData(b);
    assert.notEqual(other, first);
    assert.notDeepEqual(other.signerInfos[0].signature, first.signerInfos[0].signature);
  });

  it('refuses bytes that do not parse each time they come', () => {
    const bad = new Uint8Array([0x30, 0x03, 0x02, 0x01]);
    for (let i = 0; i < 2; i++) assert.throws(() => decodeSignedData(bad), (e: Error & { code?: string }) => e.code === 'MALFORMED');
  });
});
