/**
 * Low-level layer of the loader generator (libbpf gen_loader.c's static helpers): the
 * instruction stream, the append-only data blob (8-byte aligned items), and the primitive
 * sequences every operation is built from (§3.5 of loader-format.md).
 */
import { LoaderError } from '../errors.js';
import { call, encodeSlots, exit, insn, ldImm64Insn, ldx, mov64, joinImm64, st, stx, jmp, type Insn, type InsnSlot } from '../isa/index.js';
import { HELPER, PSEUDO, type Endian } from '../uapi/index.js';

/** One 8-byte instruction slot of the loader (an ld_imm64 takes two). */
export type Slot = InsnSlot;

export { R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } from '../isa/index.js';
import { R0, R1, R2, R3, R6, R7, R9, R10 } from '../isa/index.js';

type SizeKey = 'b' | 'h' | 'w' | 'dw';
const SIZE_KEY: Readonly<Record<number, SizeKey>> = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' };

function sizeKey(size: number): SizeKey {
  const k = SIZE_KEY[size];
  if (k === undefined)
    throw new LoaderError('INSN_INVALID', `gen: no load/store size for ${size} bytes`, { got: size, want: '1, 2, 4 or 8' });
  return k;
}

export class Emitter {
  readonly order: Endian;
  readonly insns: Slot[] = [];
  #data = new Uint8Array(4096);
  #dataLen = 0;
  /** Instruction index of the cleanup label. */
  cleanupLabel = 0;

  constructor(order: Endian) {
    this.order = order;
  }

  get pc(): number {
    return this.insns.length;
  }
  get dataLength(): number {
    return this.#dataLen;
  }
  data(): Uint8Array {
    return this.#data.slice(0, this.#dataLen);
  }

  /** Appends an instruction built with the isa DSL (both slots of an ld_imm64); returns its slot index. */
  emit(i: Insn): number {
    const at = this.insns.length;
    this.insns.push({ opcode: i.opcode, dst: i.dst, src: i.src, off: i.off, imm: i.imm });
    if (i.width === 2) {
      const n = i.next ?? insn(0, 0, 0, 0, 0);
      this.insns.push({ opcode: n.opcode, dst: n.dst, src: n.src, off: n.off, imm: n.imm });
    }
    return at;
  }

  /** add_data: appends `size` bytes (zeros when bytes is null), padded to 8; returns the offset. */
  addData(bytes: Uint8Array | null, size = bytes?.length ?? 0): number {
    const at = this.#dataLen;
    const size8 = (size + 7) & ~7;
    if (at + size8 > 0x7fffffff) throw new LoaderError('OBJECT_UNSUPPORTED', 'gen: data blob larger than 2 GiB', { field: 'data' });
    if (at + size8 > this.#data.length) {
      let cap = this.#data.length * 2;
      while (cap < at + size8) cap *= 2;
      const n = new Uint8Array(cap);
      n.set(this.#data.subarray(0, this.#dataLen));
      this.#data = n;
    }
    if (bytes) this.#data.set(bytes.subarray(0, size), at);
    this.#dataLen += size8;
    return at;
  }

  // ---- single instructions
  mov64Imm(dst: number, imm: number): void {
    this.emit(mov64.imm(dst, imm));
  }
  mov64Reg(dst: number, src: number): void {
    this.emit(mov64.reg(dst, src));
  }
  ldx(size: number, dst: number, src: number, off: number): void {
    this.emit(ldx[sizeKey(size)](dst, src, off));
  }
  stx(size: number, dst: number, src: number, off: number): void {
    this.emit(stx[sizeKey(size)](dst, off, src));
  }
  st(size: number, dst: number, off: number, imm: number): void {
    this.emit(st[sizeKey(size)](dst, off, imm));
  }
  call(helper: number): void {
    this.emit(call.helper(helper));
  }
  exit(): void {
    this.emit(exit());
  }
  /** ld_imm64 with full control of both slots' imm (low half, high half). */
  ldImm64(dst: number, src: number, imm1: number, imm2: number): void {
    this.emit(ldImm64Insn(dst, joinImm64(imm1, imm2), src));
  }
  /** rD = &blob[off] */
  ldBlob(dst: number, off: number): void {
    this.ldImm64(dst, PSEUDO.MAP_IDX_VALUE, 0, off);
  }

  // ---- primitive sequences
  relStore(off: number, data: number): void {
    this.ldBlob(R0, data);
    this.ldBlob(R1, off);
    this.stx(8, R1, R0, 0);
  }
  blob2blob(off: number, size: number, blobOff: number): void {
    this.ldBlob(R2, blobOff);
    this.ldx(size, R0, R2, 0);
    this.ldBlob(R1, off);
    this.stx(size, R1, R0, 0);
  }
  blob2ctx(ctxOff: number, size: number, blobOff: number): void {
    this.ldBlob(R1, blobOff);
    this.ldx(size, R0, R1, 0);
    this.stx(size, R6, R0, ctxOff);
  }
  ctx2blob(off: number, size: number, ctxOff: number, checkNonZero: boolean): void {
    this.ldx(size, R0, R6, ctxOff);
    if (checkNonZero) this.emit(jmp.jeq.imm(R0, 0, 3));
    this.ldBlob(R1, off);
    this.stx(size, R1, R0, 0);
  }
  stack2blob(off: number, size: number, stackOff: number): void {
    this.ldx(size, R0, R10, stackOff);
    this.ldBlob(R1, off);
    this.stx(size, R1, R0, 0);
  }
  stack2ctx(ctxOff: number, size: number, stackOff: number): void {
    this.ldx(size, R0, R10, stackOff);
    this.stx(size, R6, R0, ctxOff);
  }
  sysBpf(cmd: number, attr: number, attrSize: number): void {
    this.mov64Imm(R1, cmd);
    this.ldBlob(R2, attr);
    this.mov64Imm(R3, attrSize);
    this.call(HELPER.sys_bpf);
    this.mov64Reg(R7, R0);
  }
  /** Offset of a jump emitted next that must land on instruction `target`. */
  jumpTo(target: number): number {
    const off = target - (this.pc + 1);
    if (off < -32768 || off > 32767) {
      throw new LoaderError('OBJECT_UNSUPPORTED', `gen: loader too large: jump from ${this.pc} to ${target} does not fit 16 bits`, {
        pc: this.pc,
        got: off,
      });
    }
    return off;
  }
  /** if r7 s< 0 goto cleanup */
  checkErr(): void {
    this.emit(jmp.jslt.imm(R7, 0, this.jumpTo(this.cleanupLabel)));
  }
  #close(): void {
    this.emit(jmp.jsle.imm(R1, 0, 2));
    this.mov64Reg(R9, R1);
    this.call(HELPER.sys_close);
  }
  closeStack(stackOff: number): void {
    this.ldx(4, R1, R10, stackOff);
    this.#close();
  }
  closeBlob(blobOff: number): void {
    this.ldBlob(R0, blobOff);
    this.ldx(4, R1, R0, 0);
    this.#close();
  }

  /** Loader instructions in the target byte order. */
  encode(): Uint8Array {
    return encodeSlots(this.insns, this.order);
  }
}
