/** The compact range: the same root as the full tree at every size; a malformed range is refused. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompactRange } from '../../../src/signing/tlog/compact.js';
import { MerkleTree, hashLeaf } from '../../../src/signing/tlog/index.js';

const enc = new TextEncoder();

describe('the compact range', () => {
  it('has the root of the Merkle tree of the same leaves, at every size', () => {
    const tree = new MerkleTree();
    const range = new CompactRange();
    for (let i = 0; i < 300; i++) {
      const leaf = hashLeaf(enc.encode(`leaf ${i}`));
      tree.append(leaf);
      range.append(leaf);
      assert.deepEqual(range.root(), tree.root(), `size ${i + 1}`);
      assert.equal(range.nodes.length, (i + 1).toString(2).replaceAll('0', '').length);
    }
  });

  it('refuses a range whose hash count does not match its size', () => {
    assert.throws(() => new CompactRange(3n, [new Uint8Array(32)]), { code: 'TLOG_BAD_HASH' });
  });
});
