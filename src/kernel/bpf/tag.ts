/**
 * bpf_prog_calc_tag (kernel/bpf/core.c): a digest of the program's instructions as
 * loaded, with the imm of both halves of every ld_imm64 whose src_reg is
 * BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE zeroed (map fds are unstable). Since
 * 6.18 the digest is SHA-256 and the 8-byte tag is its first 8 bytes; before, the
 * tag was the first 8 bytes of a SHA-1.
 */
import { createHash } from 'node:crypto';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, INSN_SIZE, OP_LD_IMM64, regSrc } from '../../loader/isa/index.js';

export interface ProgDigest {
  /** SHA-256 (6.18+) or SHA-1 of the masked instructions. */
  digest: Uint8Array;
  /** The 8-byte tag bpftool and BPF_OBJ_GET_INFO_BY_FD show. */
  tag: Uint8Array;
}

/** The instructions with the map fd/value imms zeroed, as the kernel hashes them. */
export function maskMapFds(insns: Uint8Array, order: 'le' | 'be'): Uint8Array {
  const dst = insns.slice();
  let wasLdMap = false;
  for (let at = 0; at + INSN_SIZE <= dst.length; at += INSN_SIZE) {
    const src = regSrc(dst[at + 1]!, order);
    if (!wasLdMap && dst[at] === OP_LD_IMM64 && (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE)) {
      wasLdMap = true;
      dst.fill(0, at + 4, at + 8);
    } else if (wasLdMap && dst[at] === 0 && dst[at + 1] === 0 && dst[at + 2] === 0 && dst[at + 3] === 0) {
      wasLdMap = false;
      dst.fill(0, at + 4, at + 8);
    } else {
      wasLdMap = false;
    }
  }
  return dst;
}

export function calcTag(insns: Uint8Array, order: 'le' | 'be', algorithm: 'sha1' | 'sha256'): ProgDigest {
  const digest = new Uint8Array(createHash(algorithm).update(maskMapFds(insns, order)).digest());
  return { digest, tag: digest.slice(0, 8) };
}
