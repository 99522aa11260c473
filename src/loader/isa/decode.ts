/**
 * Bytes -> instructions. Total: every 8-byte slot decodes to raw fields, with
 * no normalisation, so `encodeInsns(decodeInsns(x))` reproduces x exactly.
 * Whether the result is a defined instruction is `validateInsn`'s business.
 *
 * Byte layout of a slot: opcode, registers (packed as regs.ts says), off
 * (2 bytes), imm (4 bytes); off and imm in the target byte order.
 */

import { LoaderError } from '../errors.js';
import { INSN_SIZE, OP_LD_IMM64 } from './opcode.js';
import { joinImm64, type Insn, type InsnSlot } from './instruction.js';
import { regDst, regSrc } from './regs.js';

export type ByteOrder = 'le' | 'be';

/** Decodes the slot at byte offset `at`; the caller guarantees 8 bytes are there. */
export function decodeSlot(bytes: Uint8Array, at: number, order: ByteOrder): InsnSlot {
  const b = bytes;
  const regs = b[at + 1]!;
  if (order === 'le') {
    return {
      opcode: b[at]!,
      dst: regDst(regs, order),
      src: regSrc(regs, order),
      off: ((b[at + 2]! | (b[at + 3]! << 8)) << 16) >> 16,
      imm: b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24),
    };
  }
  return {
    opcode: b[at]!,
    dst: regDst(regs, order),
    src: regSrc(regs, order),
    off: (((b[at + 2]! << 8) | b[at + 3]!) << 16) >> 16,
    imm: (b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!,
  };
}

/**
 * Decodes the instruction starting at byte offset `at`, or returns null when
 * it is an ld_imm64 whose second slot is missing (fewer than 16 bytes left).
 */
export function decodeAt(bytes: Uint8Array, at: number, order: ByteOrder): Insn | null {
  // One allocation per ordinary instruction: fields are read straight from the bytes (this is
  // the hot loop of object parsing). Object literals with one fixed shape per width keep
  // property access monomorphic (no spreads).
  const b = bytes;
  const opcode = b[at]!;
  const regs = b[at + 1]!;
  const le = order === 'le';
  const dst = regDst(regs, order);
  const src = regSrc(regs, order);
  const off = le ? ((b[at + 2]! | (b[at + 3]! << 8)) << 16) >> 16 : (((b[at + 2]! << 8) | b[at + 3]!) << 16) >> 16;
  const imm = le
    ? b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)
    : (b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!;
  if (opcode !== OP_LD_IMM64) return { opcode, dst, src, off, imm, width: 1 };
  if (at + 2 * INSN_SIZE > bytes.length) return null;
  const next = decodeSlot(bytes, at + INSN_SIZE, order);
  return { opcode, dst, src, off, imm, width: 2, imm64: joinImm64(imm, next.imm), next };
}

/**
 * Decodes a whole instruction stream. Throws INSN_INVALID (with the byte
 * offset) when the length is not a multiple of 8 or the stream ends inside an
 * ld_imm64.
 */
export function decodeInsns(bytes: Uint8Array, order: ByteOrder): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    const offset = bytes.length - (bytes.length % INSN_SIZE);
    throw new LoaderError('INSN_INVALID', `insn: length ${bytes.length} is not a multiple of ${INSN_SIZE}`, {
      offset,
      got: bytes.length,
      want: 'multiple of 8',
    });
  }
  const out: Insn[] = [];
  for (let at = 0; at < bytes.length;) {
    const i = decodeAt(bytes, at, order);
    if (i === null) {
      throw new LoaderError('INSN_INVALID', `insn ${at / INSN_SIZE}: ld_imm64 at offset ${at} is truncated (second slot missing)`, {
        offset: at,
        pc: at / INSN_SIZE,
        field: 'ld_imm64',
      });
    }
    out.push(i);
    at += i.width * INSN_SIZE;
  }
  return out;
}
