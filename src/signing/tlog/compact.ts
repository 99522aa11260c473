/**
 * A compact range over the leaves [0, size): the hashes of the perfect subtrees that cover them,
 * largest (leftmost) first — at most one per bit of `size`. Appending a leaf merges equal-sized
 * subtrees; the root of the tree of `size` leaves (RFC 6962 MTH) folds them right to left.
 *
 * An auditor that keeps this range (≤ 64 hashes) can take a log's entries in order, from any
 * point it reached before, and check that they build the signed root: no proof needed, and the
 * range is small enough to save after every tile.
 */
import { emptyRoot, hashChildren, HASH_SIZE } from './hasher.js';
import { TlogError } from './errors.js';

export class CompactRange {
  #size: bigint;
  readonly #nodes: Uint8Array[];

  /** The range of `size` leaves given by its subtree hashes (one per set bit of size, largest first). */
  constructor(size = 0n, nodes: Uint8Array[] = []) {
    let bits = 0;
    for (let s = size; s > 0n; s >>= 1n) if (s & 1n) bits++;
    if (size < 0n || nodes.length !== bits)
      throw new TlogError('TLOG_BAD_HASH', `compact range of size ${size} holds ${nodes.length} hashes, want ${bits}`, {
        got: nodes.length,
        want: bits,
      });
    for (const n of nodes)
      if (n.length !== HASH_SIZE)
        throw new TlogError('TLOG_BAD_HASH', `compact range hash is ${n.length} bytes`, { got: n.length, want: HASH_SIZE });
    this.#size = size;
    this.#nodes = [...nodes];
  }

  get size(): bigint {
    return this.#size;
  }

  /** The subtree hashes, largest first (a copy). */
  get nodes(): Uint8Array[] {
    return [...this.#nodes];
  }

  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE)
      throw new TlogError('TLOG_BAD_HASH', `leaf hash is ${leafHash.length} bytes`, { got: leafHash.length, want: HASH_SIZE });
    let node = leafHash;
    // Each trailing 1 bit of the size is a subtree of the same size as the one being carried.
    for (let s = this.#size; s & 1n; s >>= 1n) node = hashChildren(this.#nodes.pop()!, node);
    this.#nodes.push(node);
    this.#size++;
  }

  root(): Uint8Array {
    if (this.#nodes.length === 0) return emptyRoot();
    let r = this.#nodes[this.#nodes.length - 1];
    for (let i = this.#nodes.length - 2; i >= 0; i--) r = hashChildren(this.#nodes[i], r);
    return r;
  }
}
