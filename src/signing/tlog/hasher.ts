/**
 * RFC 6962 §2.1 hashing: leaves are SHA-256(0x00 ‖ data), interior nodes SHA-256(0x01 ‖ left ‖ right),
 * the empty tree is SHA-256("").
 */
import { sha256 as sha256Of } from '../../shared/bytes.js';

export const HASH_SIZE = 32;

/** SHA-256 of the parts joined (shared/bytes' one-shot hash: no Hash object per node of a proof). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  return sha256Of(parts.length === 1 ? parts[0] : Buffer.concat(parts));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

export const emptyRoot = (): Uint8Array => sha256();
export const hashLeaf = (data: Uint8Array): Uint8Array => sha256(LEAF, data);
export const hashChildren = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(NODE, left, right);

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
