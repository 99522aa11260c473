import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fromHex, sha256Hex, toHex } from '../../src/shared/bytes.js';

describe('toHex', () => {
  it('writes lower-case hex of every length, views into larger buffers included, and fromHex reads it back', () => {
    const backing = new Uint8Array(randomBytes(9000));
    for (const n of [0, 1, 31, 48, 49, 64, 600, 8192]) {
      for (const offset of [0, 3]) {
        const view = backing.subarray(offset, offset + n);
        const want = Array.from(view, (b) => b.toString(16).padStart(2, '0')).join('');
        assert.equal(toHex(view), want, `${n} bytes at ${offset}`);
        assert.deepEqual(fromHex(want), view);
      }
    }
    assert.equal(sha256Hex(new Uint8Array()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
