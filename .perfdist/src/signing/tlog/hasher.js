/**
 * RFC 6962 §2.1 hashing: leaves are SHA-256(0x00 ‖ data), interior nodes SHA-256(0x01 ‖ left ‖ right),
 * the empty tree is SHA-256("").
 */
import { createHash } from 'node:crypto';
export const HASH_SIZE = 32;
export function sha256(...parts) {
    const h = createHash('sha256');
    for (const p of parts)
        h.update(p);
    return new Uint8Array(h.digest());
}
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
export const emptyRoot = () => sha256();
export const hashLeaf = (data) => sha256(LEAF, data);
export const hashChildren = (left, right) => sha256(NODE, left, right);
export function equalBytes(a, b) {
    if (a.length !== b.length)
        return false;
    let d = 0;
    for (let i = 0; i < a.length; i++)
        d |= a[i] ^ b[i];
    return d === 0;
}
//# sourceMappingURL=hasher.js.map