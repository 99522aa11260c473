/**
 * Instruction -> text in LLVM's BPF assembly syntax.
 *
 * Two modes:
 * - `llvmCompat: true` (default): exactly what Debian's LLVM 14.0.6
 *   llvm-objdump prints (see format-llvm14.ts), `<unknown>` for what LLVM 14
 *   cannot decode, including every CPU v4 instruction.
 * - `llvmCompat: false`: modern syntax for every defined instruction
 *   (`r1 = (s8)r2`, `r1 s/= r2`, `gotol +5`, `r1 = bswap16 r1`,
 *   `*(u32 *)(r1 + 0) = 5`, `w0 = load_acquire((u8 *)(r1 + 0))`, ...),
 *   `<unknown>` for encodings `validateInsn` rejects. Calls print as
 *   `call N` (helper), `call pc+N` (bpf-to-bpf) and `call kfunc N`, and
 *   `ld_pseudo` prints the full 64-bit immediate, so that this mode is
 *   lossless: assemble(format(x)) == x for every valid x.
 */
import * as op from './opcode.js';
import { imm64Of } from './instruction.js';
import { validateInsn } from './validate.js';
import { llvm14Decode } from './format-llvm14.js';
import { ALU_SYMBOL, ATOMIC_SYMBOL, JMP_SYMBOL, branchOperand, memOperand, sizeName } from './syntax.js';
export const UNKNOWN_TEXT = '<unknown>';
function aluText(i) {
    const is64 = op.opClass(i.opcode) === op.BPF_ALU64;
    const p = is64 ? 'r' : 'w';
    const code = op.opCode(i.opcode);
    const isX = op.opSrc(i.opcode) === op.BPF_X;
    if (code === op.BPF_NEG)
        return `${p}${i.dst} = -${p}${i.dst}`;
    if (code === op.BPF_END) {
        const kind = is64 ? 'bswap' : isX ? 'be' : 'le';
        return `r${i.dst} = ${kind}${i.imm} r${i.dst}`;
    }
    if (code === op.BPF_MOV && isX && i.off !== 0)
        return `${p}${i.dst} = (s${i.off})${p}${i.src}`;
    const sym = (i.off === 1 && (code === op.BPF_DIV || code === op.BPF_MOD) ? 's' : '') + ALU_SYMBOL[code];
    return `${p}${i.dst} ${sym} ${isX ? `${p}${i.src}` : i.imm}`;
}
function jmpText(i) {
    const is32 = op.opClass(i.opcode) === op.BPF_JMP32;
    const code = op.opCode(i.opcode);
    if (i.opcode === op.OP_JA)
        return `goto ${branchOperand(i.off)}`;
    if (i.opcode === op.OP_JA32)
        return `gotol ${branchOperand(i.imm)}`;
    if (i.opcode === op.OP_CALLX)
        return `callx r${i.dst}`;
    if (i.opcode === op.OP_EXIT)
        return 'exit';
    if (i.opcode === op.OP_CALL) {
        if (i.src === op.BPF_PSEUDO_CALL)
            return `call pc${branchOperand(i.imm)}`;
        if (i.src === op.BPF_PSEUDO_KFUNC_CALL)
            return `call kfunc ${i.imm}`;
        return `call ${i.imm}`;
    }
    const p = is32 ? 'w' : 'r';
    const rhs = op.opSrc(i.opcode) === op.BPF_X ? `${p}${i.src}` : `${i.imm}`;
    return `if ${p}${i.dst} ${JMP_SYMBOL[code]} ${rhs} goto ${branchOperand(i.off)}`;
}
function ldText(i) {
    const mode = op.opMode(i.opcode);
    const u = sizeName(op.opSize(i.opcode));
    if (mode === op.BPF_ABS)
        return `r0 = *(${u} *)skb[${i.imm}]`;
    if (mode === op.BPF_IND)
        return `r0 = *(${u} *)skb[r${i.src}]`;
    const value = imm64Of(i);
    if (i.src !== 0)
        return `ld_pseudo\tr${i.dst}, ${i.src}, ${value}`;
    return `r${i.dst} = ${BigInt.asIntN(64, value)} ll`;
}
function atomicText(i) {
    const size = op.opSize(i.opcode);
    const u = sizeName(size);
    const p = size === op.BPF_DW ? 'r' : 'w';
    const addr = memOperand(i.dst, i.off);
    if (i.imm === op.BPF_LOAD_ACQ)
        return `${p}${i.dst} = load_acquire((${u} *)(${memOperand(i.src, i.off)}))`;
    if (i.imm === op.BPF_STORE_REL)
        return `store_release((${u} *)(${addr}), ${p}${i.src})`;
    const suffix = size === op.BPF_DW ? '_64' : '32_32';
    if (i.imm === op.BPF_XCHG)
        return `${p}${i.src} = xchg${suffix}(${addr}, ${p}${i.src})`;
    if (i.imm === op.BPF_CMPXCHG)
        return `${p}0 = cmpxchg${suffix}(${addr}, ${p}0, ${p}${i.src})`;
    const a = ATOMIC_SYMBOL[i.imm & 0xf0];
    if (i.imm & op.BPF_FETCH)
        return `${p}${i.src} = atomic_fetch_${a.name}((${u} *)(${addr}), ${p}${i.src})`;
    return `lock *(${u} *)(${addr}) ${a.sym} ${p}${i.src}`;
}
function memText(i) {
    const cls = op.opClass(i.opcode);
    const mode = op.opMode(i.opcode);
    const size = op.opSize(i.opcode);
    if (cls === op.BPF_LDX)
        return `r${i.dst} = *(${sizeName(size, mode === op.BPF_MEMSX)} *)(${memOperand(i.src, i.off)})`;
    if (cls === op.BPF_ST)
        return `*(${sizeName(size)} *)(${memOperand(i.dst, i.off)}) = ${i.imm}`;
    if (mode === op.BPF_MEM)
        return `*(${sizeName(size)} *)(${memOperand(i.dst, i.off)}) = r${i.src}`;
    return atomicText(i);
}
/** Modern syntax for a valid instruction, `<unknown>` otherwise. */
export function formatModern(i) {
    if (validateInsn(i) !== null)
        return UNKNOWN_TEXT;
    switch (op.opClass(i.opcode)) {
        case op.BPF_ALU:
        case op.BPF_ALU64:
            return aluText(i);
        case op.BPF_JMP:
        case op.BPF_JMP32:
            return jmpText(i);
        case op.BPF_LD:
            return ldText(i);
        default:
            return memText(i);
    }
}
/** LLVM 14 llvm-objdump text of one instruction, `<unknown>` if it cannot decode it. */
export function formatLlvm14(i) {
    const second = i.width === 2 ? (i.next ?? { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 }) : null;
    const hi = i.width === 2 ? Number((imm64Of(i) >> 32n) & 0xffffffffn) | 0 : 0;
    const lo = i.width === 2 ? Number(imm64Of(i) & 0xffffffffn) | 0 : i.imm;
    const r = llvm14Decode({ ...i, imm: lo }, second && { ...second, imm: hi });
    return r.ok ? r.text : UNKNOWN_TEXT;
}
/** Text of one instruction (without a branch-target label). */
export function formatInsn(i, options = {}) {
    return options.llvmCompat === false ? formatModern(i) : formatLlvm14(i);
}
/**
 * The branch displacement in slots that a printer would annotate with a
 * target label, or null when the printed text has no branch target.
 */
export function branchDelta(i, options = {}) {
    const cls = op.opClass(i.opcode);
    if (cls !== op.BPF_JMP && cls !== op.BPF_JMP32)
        return null;
    const text = formatInsn(i, options);
    if (text === UNKNOWN_TEXT)
        return null;
    if (i.opcode === op.OP_JA32)
        return i.imm;
    if (text.startsWith('goto ') || text.startsWith('if '))
        return i.off;
    return null;
}
//# sourceMappingURL=format.js.map