/**
 * Instructions -> bytes; the inverse of decode (see decode.ts for the layout).
 * Fields are written modulo their widths, so any value round-trips bit-exactly
 * once it came from `decodeInsns`. ld_imm64 takes its value from `imm64` when
 * present, else from `imm` and `next.imm`.
 */

import { LoaderError } from '../errors.js';
import { INSN_SIZE } from './opcode.js';
import { splitImm64, type Insn, type InsnSlot } from './instruction.js';
import type { ByteOrder } from './decode.js';
import { regsByte } from './regs.js';

/** Writes one raw slot at byte offset `at` (fields modulo their widths). */
export function writeSlot(out: Uint8Array, view: DataView, at: number, s: InsnSlot, order: ByteOrder): void {
  const le = order === 'le';
  out[at] = s.opcode & 0xff;
  out[at + 1] = regsByte(s.dst, s.src, order);
  view.setInt16(at + 2, (s.off << 16) >> 16, le);
  view.setInt32(at + 4, s.imm | 0, le);
}

/**
 * Raw slots -> bytes, one 8-byte slot per entry (an ld_imm64 is two entries, as the
 * kernel and the loader generator count them).
 */
export function encodeSlots(slots: readonly InsnSlot[], order: ByteOrder): Uint8Array {
  const out = new Uint8Array(slots.length * INSN_SIZE);
  const view = new DataView(out.buffer);
  for (let i = 0; i < slots.length; i++) writeSlot(out, view, i * INSN_SIZE, slots[i]!, order);
  return out;
}

/** Total size in bytes of the instructions. */
export function insnsByteLength(insns: readonly Insn[]): number {
  let n = 0;
  for (const i of insns) n += i.width === 2 ? 2 * INSN_SIZE : INSN_SIZE;
  return n;
}

export function encodeInsns(insns: readonly Insn[], order: ByteOrder): Uint8Array {
  const out = new Uint8Array(insnsByteLength(insns));
  const view = new DataView(out.buffer);
  let at = 0;
  insns.forEach((i, n) => {
    if (i.width !== 1 && i.width !== 2) {
      throw new LoaderError('INSN_INVALID', `insn ${n}: width must be 1 or 2 (got ${String(i.width)})`, {
        pc: at / INSN_SIZE,
        field: 'width',
        got: i.width,
      });
    }
    if (i.width === 1) {
      writeSlot(out, view, at, i, order);
      at += INSN_SIZE;
      return;
    }
    const next: InsnSlot = i.next ?? { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 };
    let lo = i.imm;
    let hi = next.imm;
    if (i.imm64 !== undefined) ({ lo, hi } = splitImm64(i.imm64));
    writeSlot(out, view, at, { ...i, imm: lo }, order);
    writeSlot(out, view, at + INSN_SIZE, { ...next, imm: hi }, order);
    at += 2 * INSN_SIZE;
  });
  return out;
}
