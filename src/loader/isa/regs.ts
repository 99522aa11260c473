/**
 * The register byte of an instruction slot (byte 1): the one place its packing is written down.
 * In little-endian BPF it is `src << 4 | dst`; in big-endian BPF the nibbles are swapped
 * (`dst << 4 | src`), matching the bitfield order of `struct bpf_insn` on each.
 */
type ByteOrder = 'le' | 'be';

/** Packs dst and src (each taken modulo 16) into the register byte. */
export function regsByte(dst: number, src: number, order: ByteOrder): number {
  return order === 'le' ? ((src & 0xf) << 4) | (dst & 0xf) : ((dst & 0xf) << 4) | (src & 0xf);
}

/** The destination register of a register byte. */
export function regDst(regs: number, order: ByteOrder): number {
  return order === 'le' ? regs & 0xf : regs >> 4;
}

/** The source register of a register byte. */
export function regSrc(regs: number, order: ByteOrder): number {
  return order === 'le' ? regs >> 4 : regs & 0xf;
}
