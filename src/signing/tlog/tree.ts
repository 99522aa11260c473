/**
 * An append-only Merkle tree that keeps every complete, aligned subtree hash (RFC 6962 §2.1):
 * level k holds the MTH of leaves [i·2^k, (i+1)·2^k) for every complete i. Any subtree hash a
 * proof needs is then one lookup or O(log n) of them, so heads and proofs cost O(log² n)
 * instead of rehashing every leaf. Memory: about 2·32 bytes per leaf.
 */
import { emptyRoot, hashChildren, HASH_SIZE } from './hasher.js';
import { splitPoint } from './proof.js';
import { TlogError } from './errors.js';

export class MerkleTree {
  readonly #levels: Uint8Array[][] = [[]];

  get size(): bigint {
    return BigInt(this.#levels[0].length);
  }

  /** Appends one leaf hash and every subtree it completes. */
  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE)
      throw new TlogError('TLOG_BAD_HASH', `leaf hash is ${leafHash.length} bytes`, { got: leafHash.length, want: HASH_SIZE });
    let node = leafHash;
    for (let k = 0; ; k++) {
      const level = this.#levels[k] ?? (this.#levels[k] = []);
      level.push(node);
      if (level.length % 2 === 1) return;
      node = hashChildren(level[level.length - 2], node);
    }
  }

  leaf(index: bigint): Uint8Array {
    if (index < 0n || index >= this.size)
      throw new TlogError('TLOG_INDEX_OUT_OF_RANGE', `leaf ${index} not in tree of size ${this.size}`, {
        got: index.toString(),
        want: `< ${this.size}`,
      });
    return this.#levels[0][Number(index)];
  }

  /** MTH over leaves [lo, hi), hi ≤ size. */
  subtree(lo: bigint, hi: bigint): Uint8Array {
    if (lo < 0n || hi < lo || hi > this.size)
      throw new TlogError('TLOG_INDEX_OUT_OF_RANGE', `subtree [${lo}, ${hi}) of a tree of size ${this.size}`, { got: `${lo},${hi}` });
    const n = hi - lo;
    if (n === 0n) return emptyRoot();
    // A complete, aligned subtree is stored.
    if ((n & (n - 1n)) === 0n && lo % n === 0n) {
      const k = n.toString(2).length - 1;
      return this.#levels[k][Number(lo / n)];
    }
    const k = splitPoint(n);
    return hashChildren(this.subtree(lo, lo + k), this.subtree(lo + k, hi));
  }

  root(size: bigint = this.size): Uint8Array {
    return this.subtree(0n, size);
  }
}
