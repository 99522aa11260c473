/**
 * Arithmetic, comparisons and byte swaps on u64 register values (bigint in
 * [0, 2^64)). Results may be outside that range; storing them in the
 * BigUint64Array register file reduces them mod 2^64. 32-bit operations
 * return zero-extended values.
 *
 * Division follows the kernel (RFC 9669 §4.1 and the verifier's runtime
 * fix-ups of BPF_DIV/BPF_MOD): x / 0 = 0, x % 0 = x (for 32-bit ops: the low
 * 32 bits of x, zero-extended), signed MIN / -1 = MIN, signed x % -1 = 0.
 * Signed division truncates towards zero and the remainder takes the sign of
 * the dividend. Shift counts are masked to 63 (64-bit) or 31 (32-bit).
 */
const M32 = 0xffffffffn;
const s64 = (x) => BigInt.asIntN(64, x);
const s32 = (x) => BigInt.asIntN(32, x);
/** 64-bit ALU operation on a and b; `signed` selects sdiv/smod; `movsx` is mov's source width. */
export function alu64(op, a, b, signed, movsx) {
    switch (op) {
        case 'add':
            return a + b;
        case 'sub':
            return a - b;
        case 'mul':
            return a * b;
        case 'div':
            if (b === 0n)
                return 0n;
            if (!signed)
                return a / b;
            return s64(b) === -1n ? -s64(a) : s64(a) / s64(b);
        case 'mod':
            if (b === 0n)
                return a;
            if (!signed)
                return a % b;
            return s64(b) === -1n ? 0n : s64(a) % s64(b);
        case 'or':
            return a | b;
        case 'and':
            return a & b;
        case 'xor':
            return a ^ b;
        case 'lsh':
            return a << (b & 63n);
        case 'rsh':
            return a >> (b & 63n);
        case 'arsh':
            return s64(a) >> (b & 63n);
        case 'mov':
            return movsx === undefined ? b : BigInt.asIntN(movsx, b);
    }
}
/** 32-bit ALU operation on the low halves of a and b; the result is zero-extended. */
export function alu32(op, a64, b64, signed, movsx) {
    const a = a64 & M32;
    const b = b64 & M32;
    let r;
    switch (op) {
        case 'add':
            r = a + b;
            break;
        case 'sub':
            r = a - b;
            break;
        case 'mul':
            r = a * b;
            break;
        case 'div':
            if (b === 0n)
                r = 0n;
            else if (!signed)
                r = a / b;
            else
                r = s32(b) === -1n ? -s32(a) : s32(a) / s32(b);
            break;
        case 'mod':
            if (b === 0n)
                r = a;
            else if (!signed)
                r = a % b;
            else
                r = s32(b) === -1n ? 0n : s32(a) % s32(b);
            break;
        case 'or':
            r = a | b;
            break;
        case 'and':
            r = a & b;
            break;
        case 'xor':
            r = a ^ b;
            break;
        case 'lsh':
            r = a << (b & 31n);
            break;
        case 'rsh':
            r = a >> (b & 31n);
            break;
        case 'arsh':
            r = s32(a) >> (b & 31n);
            break;
        case 'mov':
            r = movsx === undefined ? b : BigInt.asIntN(movsx, b);
            break;
    }
    return r & M32;
}
/** Swaps the low `bits` bits of x byte by byte; the result has only those bits. */
export function bswap(x, bits) {
    let r = 0n;
    for (let i = 0n; i < BigInt(bits); i += 8n)
        r = (r << 8n) | ((x >> i) & 0xffn);
    return r;
}
/**
 * BPF_END: `to` 'le'/'be' converts between host and that byte order (a swap
 * only when they differ; otherwise truncation to `bits`); 'swap' always swaps.
 */
export function endian(x, bits, to, hostLittle) {
    const swap = to === 'swap' || (to === 'be') === hostLittle;
    return swap ? bswap(x, bits) : BigInt.asUintN(bits, x);
}
/** The condition of a conditional jump; a and b are u64 (JMP32 compares the low halves). */
export function condition(op, a64, b64, is32) {
    const a = is32 ? a64 & M32 : a64;
    const b = is32 ? b64 & M32 : b64;
    const sa = () => (is32 ? s32(a) : s64(a));
    const sb = () => (is32 ? s32(b) : s64(b));
    switch (op) {
        case 'jeq':
            return a === b;
        case 'jne':
            return a !== b;
        case 'jgt':
            return a > b;
        case 'jge':
            return a >= b;
        case 'jlt':
            return a < b;
        case 'jle':
            return a <= b;
        case 'jset':
            return (a & b) !== 0n;
        case 'jsgt':
            return sa() > sb();
        case 'jsge':
            return sa() >= sb();
        case 'jslt':
            return sa() < sb();
        case 'jsle':
            return sa() <= sb();
    }
}
//# sourceMappingURL=alu.js.map