/** Cosignatures (c2sp.org/tlog-cosignature v1, Ed25519): what they sign, and the key type. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { ed25519Cosigner, noteCosignatures, parseCosignerKey } from '../../../src/signing/tlog/cosignature.js';
import { ed25519VerifierKey } from '../../../src/signing/tlog/index.js';

const ORIGIN = 'bpfsign.test/cosigned-log';
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const logVkey = () =>
  ed25519VerifierKey(ORIGIN, new Uint8Array(createPublicKey(pem()).export({ type: 'spki', format: 'der' })).subarray(12));

describe('cosignatures (tlog-cosignature v1, Ed25519)', () => {
  it('verify over "cosignature/v1", the time and the checkpoint, and fail when any of them changes', () => {
    const c = ed25519Cosigner('witness.test/a', pem());
    const v = parseCosignerKey(c.vkey);
    const text = `${ORIGIN}\n5\n${Buffer.alloc(32, 1).toString('base64')}\n`;
    const note = `${text}\n` + c.cosign(text, 1_700_000_000n);
    assert.deepEqual(noteCosignatures(note, [v]), [{ name: 'witness.test/a', timestamp: 1_700_000_000n }]);
    assert.throws(() => noteCosignatures(note.replace('\n5\n', '\n6\n'), [v]), { code: 'TLOG_CHECKPOINT_SIGNATURE' });
    // The key's type byte is 0x04: a checkpoint (0x01) key is not a cosigner key.
    assert.throws(() => parseCosignerKey(logVkey()), /0x04/);
  });
});
