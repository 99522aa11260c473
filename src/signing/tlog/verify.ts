/**
 * Offline proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2). Sizes and indices arrive from
 * untrusted bundles: parse defensively, check preconditions first, report got/want.
 */
import { equalBytes, hashChildren, HASH_SIZE } from './hasher.js';
import { TlogError } from './errors.js';
import { toHex as hex } from '../../shared/bytes.js';

function checkHashes(what: string, hashes: Uint8Array[], code: 'TLOG_INCLUSION_PROOF_ERROR' | 'TLOG_CONSISTENCY_PROOF_ERROR'): void {
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE)
      throw new TlogError(code, `${what}[${i}] is ${h.length} bytes, want ${HASH_SIZE}`, { got: h.length, want: HASH_SIZE });
  });
}

/** Root implied by an inclusion proof. Requires 0 ≤ index < size. */
export function rootFromInclusionProof(index: bigint, size: bigint, leafHash: Uint8Array, proof: Uint8Array[]): Uint8Array {
  const code = 'TLOG_INCLUSION_PROOF_ERROR';
  if (index < 0n || index >= size)
    throw new TlogError(code, `index ${index} is beyond tree size ${size}`, { got: index.toString(), want: `< ${size}` });
  checkHashes('proof', [leafHash, ...proof], code);
  let fn = index,
    sn = size - 1n,
    r = leafHash;
  for (const p of proof) {
    if (sn === 0n)
      throw new TlogError(code, `wrong proof size ${proof.length}, too long for index ${index} in size ${size}`, { got: proof.length });
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      if ((fn & 1n) === 0n)
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n)
    throw new TlogError(code, `wrong proof size ${proof.length}, too short for index ${index} in size ${size}`, { got: proof.length });
  return r;
}

export function verifyInclusion(index: bigint, size: bigint, leafHash: Uint8Array, proof: Uint8Array[], root: Uint8Array): void {
  const calc = rootFromInclusionProof(index, size, leafHash, proof);
  if (!equalBytes(calc, root)) {
    throw new TlogError('TLOG_INCLUSION_PROOF_ERROR', `calculated root ${hex(calc)}, want ${hex(root)}`, {
      got: hex(calc),
      want: hex(root),
    });
  }
}

/** Checks that the tree of size `size2` with root2 extends the tree of size `size1` with root1. */
export function verifyConsistency(size1: bigint, size2: bigint, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]): void {
  const code = 'TLOG_CONSISTENCY_PROOF_ERROR';
  checkHashes('proof', [root1, root2, ...proof], code);
  if (size1 < 0n || size2 < size1)
    throw new TlogError(code, `sizes ${size1} → ${size2}: want 0 <= size1 <= size2`, { got: `${size1},${size2}` });
  if (size1 === size2) {
    if (proof.length !== 0)
      throw new TlogError(code, `wrong proof size ${proof.length}, want 0 for equal sizes`, { got: proof.length, want: 0 });
    if (!equalBytes(root1, root2)) throw new TlogError(code, 'equal sizes with different roots', { got: hex(root2), want: hex(root1) });
    return;
  }
  if (size1 === 0n) {
    if (proof.length !== 0)
      throw new TlogError(code, `wrong proof size ${proof.length}, want 0 from the empty tree`, { got: proof.length, want: 0 });
    return;
  }
  if (proof.length === 0) throw new TlogError(code, 'empty proof', { got: 0 });
  const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : proof;
  let fn = size1 - 1n,
    sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0],
    sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new TlogError(code, `wrong proof size ${proof.length}: too long`, { got: proof.length });
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if ((fn & 1n) === 0n)
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new TlogError(code, `wrong proof size ${proof.length}: too short`, { got: proof.length });
  if (!equalBytes(fr, root1))
    throw new TlogError(code, `calculated old root ${hex(fr)}, want ${hex(root1)}`, { got: hex(fr), want: hex(root1) });
  if (!equalBytes(sr, root2))
    throw new TlogError(code, `calculated new root ${hex(sr)}, want ${hex(root2)}`, { got: hex(sr), want: hex(root2) });
}
