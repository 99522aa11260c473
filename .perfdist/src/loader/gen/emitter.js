/**
 * Low-level layer of the loader generator (libbpf gen_loader.c's static helpers): the
 * instruction stream, the append-only data blob (8-byte aligned items), and the primitive
 * sequences every operation is built from (§3.5 of loader-format.md).
 */
import { LoaderError } from '../errors.js';
import { HELPER, PSEUDO } from '../uapi/index.js';
const SIZE_BITS = { 8: 0x18, 4: 0x00, 2: 0x08, 1: 0x10 };
export const OP = {
    MOV64_K: 0xb7, MOV64_X: 0xbf, ADD64_K: 0x07, RSH64_K: 0x77, AND32_K: 0x54, LD_IMM64: 0x18, CALL: 0x85, EXIT: 0x95,
    JA: 0x05, JEQ_K: 0x15, JNE_K: 0x55, JNE_X: 0x5d, JSET_K: 0x45, JSGE_K: 0x75, JSLT_K: 0xc5, JSLE_K: 0xd5,
};
export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;
function sizeBits(size) {
    const b = SIZE_BITS[size];
    if (b === undefined)
        throw new LoaderError('INSN_INVALID', `gen: no load/store size for ${size} bytes`, { got: size, want: '1, 2, 4 or 8' });
    return b;
}
export class Emitter {
    order;
    insns = [];
    #data = new Uint8Array(4096);
    #dataLen = 0;
    /** Instruction index of the cleanup label. */
    cleanupLabel = 0;
    constructor(order) { this.order = order; }
    get pc() { return this.insns.length; }
    get dataLength() { return this.#dataLen; }
    data() { return this.#data.slice(0, this.#dataLen); }
    emit(code, dst, src, off, imm) {
        this.insns.push({ code, dst, src, off: (off << 16) >> 16, imm: imm | 0 });
        return this.insns.length - 1;
    }
    /** add_data: appends `size` bytes (zeros when bytes is null), padded to 8; returns the offset. */
    addData(bytes, size = bytes?.length ?? 0) {
        const at = this.#dataLen;
        const size8 = (size + 7) & ~7;
        if (at + size8 > 0x7fffffff)
            throw new LoaderError('OBJECT_UNSUPPORTED', 'gen: data blob larger than 2 GiB', { field: 'data' });
        if (at + size8 > this.#data.length) {
            let cap = this.#data.length * 2;
            while (cap < at + size8)
                cap *= 2;
            const n = new Uint8Array(cap);
            n.set(this.#data.subarray(0, this.#dataLen));
            this.#data = n;
        }
        if (bytes)
            this.#data.set(bytes.subarray(0, size), at);
        this.#dataLen += size8;
        return at;
    }
    // ---- single instructions
    mov64Imm(dst, imm) { this.emit(OP.MOV64_K, dst, 0, 0, imm); }
    mov64Reg(dst, src) { this.emit(OP.MOV64_X, dst, src, 0, 0); }
    ldx(size, dst, src, off) { this.emit(0x61 | sizeBits(size), dst, src, off, 0); }
    stx(size, dst, src, off) { this.emit(0x63 | sizeBits(size), dst, src, off, 0); }
    st(size, dst, off, imm) { this.emit(0x62 | sizeBits(size), dst, 0, off, imm); }
    call(helper) { this.emit(OP.CALL, 0, 0, 0, helper); }
    jmpImm(code, dst, imm, off) { this.emit(code, dst, 0, off, imm); }
    exit() { this.emit(OP.EXIT, 0, 0, 0, 0); }
    /** ld_imm64 with full control of both slots. */
    ldImm64(dst, src, imm1, imm2) {
        this.emit(OP.LD_IMM64, dst, src, 0, imm1);
        this.emit(0, 0, 0, 0, imm2);
    }
    /** rD = &blob[off] */
    ldBlob(dst, off) { this.ldImm64(dst, PSEUDO.MAP_IDX_VALUE, 0, off); }
    // ---- primitive sequences
    relStore(off, data) {
        this.ldBlob(R0, data);
        this.ldBlob(R1, off);
        this.stx(8, R1, R0, 0);
    }
    blob2blob(off, size, blobOff) {
        this.ldBlob(R2, blobOff);
        this.ldx(size, R0, R2, 0);
        this.ldBlob(R1, off);
        this.stx(size, R1, R0, 0);
    }
    blob2ctx(ctxOff, size, blobOff) {
        this.ldBlob(R1, blobOff);
        this.ldx(size, R0, R1, 0);
        this.stx(size, R6, R0, ctxOff);
    }
    ctx2blob(off, size, ctxOff, checkNonZero) {
        this.ldx(size, R0, R6, ctxOff);
        if (checkNonZero)
            this.jmpImm(OP.JEQ_K, R0, 0, 3);
        this.ldBlob(R1, off);
        this.stx(size, R1, R0, 0);
    }
    stack2blob(off, size, stackOff) {
        this.ldx(size, R0, R10, stackOff);
        this.ldBlob(R1, off);
        this.stx(size, R1, R0, 0);
    }
    stack2ctx(ctxOff, size, stackOff) {
        this.ldx(size, R0, R10, stackOff);
        this.stx(size, R6, R0, ctxOff);
    }
    sysBpf(cmd, attr, attrSize) {
        this.mov64Imm(R1, cmd);
        this.ldBlob(R2, attr);
        this.mov64Imm(R3, attrSize);
        this.call(HELPER.sys_bpf);
        this.mov64Reg(R7, R0);
    }
    /** Offset of a jump emitted next that must land on instruction `target`. */
    jumpTo(target) {
        const off = target - (this.pc + 1);
        if (off < -32768 || off > 32767) {
            throw new LoaderError('OBJECT_UNSUPPORTED', `gen: loader too large: jump from ${this.pc} to ${target} does not fit 16 bits`, { pc: this.pc, got: off });
        }
        return off;
    }
    /** if r7 s< 0 goto cleanup */
    checkErr() { this.jmpImm(OP.JSLT_K, R7, 0, this.jumpTo(this.cleanupLabel)); }
    #close() {
        this.jmpImm(OP.JSLE_K, R1, 0, 2);
        this.mov64Reg(R9, R1);
        this.call(HELPER.sys_close);
    }
    closeStack(stackOff) {
        this.ldx(4, R1, R10, stackOff);
        this.#close();
    }
    closeBlob(blobOff) {
        this.ldBlob(R0, blobOff);
        this.ldx(4, R1, R0, 0);
        this.#close();
    }
    /** Loader instructions in the target byte order. */
    encode() {
        const out = new Uint8Array(this.insns.length * 8);
        const dv = new DataView(out.buffer);
        const le = this.order === 'le';
        this.insns.forEach((s, i) => {
            out[i * 8] = s.code;
            out[i * 8 + 1] = le ? (s.dst & 0xf) | ((s.src & 0xf) << 4) : ((s.dst & 0xf) << 4) | (s.src & 0xf);
            dv.setInt16(i * 8 + 2, s.off, le);
            dv.setInt32(i * 8 + 4, s.imm, le);
        });
        return out;
    }
}
//# sourceMappingURL=emitter.js.map