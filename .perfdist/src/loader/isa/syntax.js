/** Text pieces shared by the printers and the assembler (LLVM BPF asm syntax). */
export const ALU_SYMBOL = {
    0x00: '+=',
    0x10: '-=',
    0x20: '*=',
    0x30: '/=',
    0x40: '|=',
    0x50: '&=',
    0x60: '<<=',
    0x70: '>>=',
    0x90: '%=',
    0xa0: '^=',
    0xb0: '=',
    0xc0: 's>>=',
};
export const JMP_SYMBOL = {
    0x10: '==',
    0x20: '>',
    0x30: '>=',
    0x40: '&',
    0x50: '!=',
    0x60: 's>',
    0x70: 's>=',
    0xa0: '<',
    0xb0: '<=',
    0xc0: 's<',
    0xd0: 's<=',
};
export const ATOMIC_SYMBOL = {
    0x00: { sym: '+=', name: 'add' },
    0x40: { sym: '|=', name: 'or' },
    0x50: { sym: '&=', name: 'and' },
    0xa0: { sym: '^=', name: 'xor' },
};
/** `u8`..`u64` for a load/store size field. */
export function sizeName(size, signed = false) {
    const bits = [32, 16, 8, 64][(size >> 3) & 3];
    return `${signed ? 's' : 'u'}${bits}`;
}
/** `r1 + 4`, `r10 - 8`, `r1 + 0` — LLVM's memory operand. */
export function memOperand(reg, off) {
    return off < 0 ? `r${reg} - ${-off}` : `r${reg} + ${off}`;
}
/** `+3`, `-2`, `+0` — LLVM's branch target operand. */
export function branchOperand(delta) {
    return delta >= 0 ? `+${delta}` : `${delta}`;
}
//# sourceMappingURL=syntax.js.map