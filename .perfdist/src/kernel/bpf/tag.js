/**
 * bpf_prog_calc_tag (kernel/bpf/core.c): a digest of the program's instructions as
 * loaded, with the imm of both halves of every ld_imm64 whose src_reg is
 * BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE zeroed (map fds are unstable). Since
 * 6.18 the digest is SHA-256 and the 8-byte tag is its first 8 bytes; before, the
 * tag was the first 8 bytes of a SHA-1.
 */
import { createHash } from 'node:crypto';
const LD_IMM64 = 0x18;
const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;
/** The instructions with the map fd/value imms zeroed, as the kernel hashes them. */
export function maskMapFds(insns, order) {
    const dst = insns.slice();
    let wasLdMap = false;
    for (let at = 0; at + 8 <= dst.length; at += 8) {
        const src = order === 'le' ? dst[at + 1] >> 4 : dst[at + 1] & 0xf;
        if (!wasLdMap && dst[at] === LD_IMM64 && (src === PSEUDO_MAP_FD || src === PSEUDO_MAP_VALUE)) {
            wasLdMap = true;
            dst.fill(0, at + 4, at + 8);
        }
        else if (wasLdMap && dst[at] === 0 && dst[at + 1] === 0 && dst[at + 2] === 0 && dst[at + 3] === 0) {
            wasLdMap = false;
            dst.fill(0, at + 4, at + 8);
        }
        else {
            wasLdMap = false;
        }
    }
    return dst;
}
export function calcTag(insns, order, algorithm) {
    const digest = new Uint8Array(createHash(algorithm).update(maskMapFds(insns, order)).digest());
    return { digest, tag: digest.slice(0, 8) };
}
//# sourceMappingURL=tag.js.map