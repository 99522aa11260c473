/**
 * Merkle tree heads and proofs over an in-memory list of leaf hashes (RFC 6962 §2.1, RFC 9162 §2.1).
 * Sizes and indices are bigint: JS bitwise operators truncate to 32 bits.
 *
 * The tree of n leaves splits at k, the largest power of two smaller than n:
 *   MTH(D[n]) = HASH(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))
 */
import { emptyRoot, hashChildren } from './hasher.js';
import { TlogError } from './errors.js';

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: bigint): bigint {
  let k = 1n;
  while (k << 1n < n) k <<= 1n;
  return k;
}

/** A source of leaf hashes: index → 32-byte hash. Storage decides where they live. */
export type LeafSource = (index: bigint) => Uint8Array;
/** Leaf hashes, or a tree that answers subtree hashes directly (see MerkleTree). */
export type HashSource = LeafSource | { subtree(lo: bigint, hi: bigint): Uint8Array };

const subtreeOf = (src: HashSource) =>
  typeof src === 'function' ? (lo: bigint, hi: bigint) => subtreeHash(src, lo, hi) : (lo: bigint, hi: bigint) => src.subtree(lo, hi);

/** MTH over leaves [lo, hi). */
export function subtreeHash(leaf: LeafSource, lo: bigint, hi: bigint): Uint8Array {
  const n = hi - lo;
  if (n === 0n) return emptyRoot();
  if (n === 1n) return leaf(lo);
  const k = splitPoint(n);
  return hashChildren(subtreeHash(leaf, lo, lo + k), subtreeHash(leaf, lo + k, hi));
}

export function rootHash(src: HashSource, size: bigint): Uint8Array {
  return subtreeOf(src)(0n, size);
}

/** Audit path for leaf `index` in the tree of `size` leaves. Requires 0 ≤ index < size. */
export function inclusionProof(src: HashSource, index: bigint, size: bigint): Uint8Array[] {
  const subtree = subtreeOf(src);
  if (index < 0n || index >= size)
    throw new TlogError('TLOG_INDEX_OUT_OF_RANGE', `index ${index} not in tree of size ${size}`, {
      got: index.toString(),
      want: `< ${size}`,
    });
  const path: Uint8Array[] = [];
  const walk = (m: bigint, lo: bigint, hi: bigint): void => {
    const n = hi - lo;
    if (n <= 1n) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(subtree(lo + k, hi));
    } else {
      walk(m - k, lo + k, hi);
      path.push(subtree(lo, lo + k));
    }
  };
  walk(index, 0n, size);
  return path;
}

/** Consistency proof between sizes m and n. Requires 0 < m ≤ n. */
export function consistencyProof(src: HashSource, m: bigint, n: bigint): Uint8Array[] {
  const subtree = subtreeOf(src);
  if (m <= 0n || m > n)
    throw new TlogError('TLOG_INDEX_OUT_OF_RANGE', `consistency between ${m} and ${n}: want 0 < m <= n`, { got: `${m},${n}` });
  const proof: Uint8Array[] = [];
  // RFC 6962 §2.1.2 SUBPROOF(m, D[lo:hi], b)
  const sub = (mm: bigint, lo: bigint, hi: bigint, complete: boolean): void => {
    const n2 = hi - lo;
    if (mm === n2) {
      if (!complete) proof.push(subtree(lo, hi));
      return;
    }
    const k = splitPoint(n2);
    if (mm <= k) {
      sub(mm, lo, lo + k, complete);
      proof.push(subtree(lo + k, hi));
    } else {
      sub(mm - k, lo + k, hi, false);
      proof.push(subtree(lo, lo + k));
    }
  };
  if (m < n) sub(m, 0n, n, true);
  return proof;
}
