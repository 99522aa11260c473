import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, decodeInsns, encodeInsns, formatInsn, isValidInsn } from '../../../src/loader/isa/index.js';
import { hasTool } from './elf-test-util.js';
import { hex, llvmMcObject, sectionBytes } from './mc-test-util.js';

const SKIP = hasTool('llvm-mc') ? false : 'llvm-mc not installed';

/** Instructions Debian's LLVM 14 llvm-mc assembles (-mcpu=v3 -mattr=+alu32); expected bytes come from llvm-mc. */
const LLVM14_TEXT = `
r1 = 0 ll
r2 = -1 ll
r3 = 81985529216486895 ll
r0 = *(u32 *)skb[5]
r0 = *(u16 *)skb[-3]
r0 = *(u8 *)skb[0]
r0 = *(u32 *)skb[r2]
r0 = *(u16 *)skb[r2]
r0 = *(u8 *)skb[r9]
r1 = *(u8 *)(r2 + 4)
r1 = *(u16 *)(r2 - 4)
r1 = *(u32 *)(r10 - 8)
r1 = *(u64 *)(r2 + 32767)
r1 = *(u64 *)(r2 - 32768)
*(u8 *)(r1 + 0) = r2
*(u16 *)(r1 + 2) = r2
*(u32 *)(r1 - 4) = r2
*(u64 *)(r10 - 8) = r1
lock *(u32 *)(r1 + 0) += r2
lock *(u64 *)(r10 - 8) += r1
lock *(u64 *)(r1 + 0) |= r2
lock *(u64 *)(r1 + 0) &= r2
lock *(u64 *)(r1 + 0) ^= r2
w1 += 5
w1 -= -5
w1 *= w2
w1 /= 7
w1 |= w2
w1 &= 255
w1 <<= 3
w1 >>= w2
w1 ^= w2
w1 = 2147483647
w1 = w2
w1 s>>= 1
w1 = -w1
r1 += 5
r1 -= r2
r1 *= -1
r1 /= r2
r1 |= 1
r1 &= r2
r1 <<= 32
r1 >>= r2
r1 ^= -2147483648
r1 = 0
r1 = r10
r1 s>>= r2
r1 = -r1
r1 = le16 r1
r1 = le32 r1
r1 = le64 r1
r1 = be16 r1
r1 = be32 r1
r1 = be64 r1
goto +3
goto -1
goto +0
if r1 == 0 goto +1
if r1 == r2 goto +1
if r1 > 5 goto -2
if r1 > r2 goto +1
if r1 >= 5 goto +1
if r1 >= r2 goto +1
if r1 != -1 goto +1
if r1 != r2 goto +1
if r1 s> 5 goto +1
if r1 s> r2 goto +1
if r1 s>= 5 goto +1
if r1 s>= r2 goto +1
if r1 < 5 goto +1
if r1 < r2 goto +1
if r1 <= 5 goto +1
if r1 <= r2 goto +1
if r1 s< 5 goto +1
if r1 s< r2 goto +1
if r1 s<= 5 goto +1
if r1 s<= r2 goto +1
if w1 == 0 goto +1
if w1 == w2 goto +1
if w1 > 5 goto +1
if w1 > w2 goto +1
if w1 >= 5 goto +1
if w1 >= w2 goto +1
if w1 != 5 goto +1
if w1 != w2 goto +1
if w1 s> 5 goto +1
if w1 s> w2 goto +1
if w1 s>= 5 goto +1
if w1 s>= w2 goto +1
if w1 < 5 goto +1
if w1 < w2 goto +1
if w1 <= 5 goto +1
if w1 <= w2 goto +1
if w1 s< 5 goto +1
if w1 s< w2 goto +1
if w1 s<= 5 goto +1
if w1 s<= w2 goto +32767
call 1
call -1
exit
w1 = *(u32 *)(r2 + 4)
*(u32 *)(r1 + 0) = w2
w1 = *(u8 *)(r2 + 4)
`
  .trim()
  .split('\n');

/**
 * Instructions LLVM 14 cannot assemble; bytes written by hand from RFC 9669's
 * tables (little-endian: opcode, src<<4|dst, off16, imm32).
 */
const HAND_ENCODED: [string, string][] = [
  ['r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)', 'db 21 0000 01000000'],
  ['r2 = atomic_fetch_or((u64 *)(r1 + 8), r2)', 'db 21 0800 41000000'],
  ['r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)', 'db 21 0000 51000000'],
  ['r2 = atomic_fetch_xor((u64 *)(r1 - 8), r2)', 'db 21 f8ff a1000000'],
  ['r2 = xchg_64(r1 + 0, r2)', 'db 21 0000 e1000000'],
  ['r0 = cmpxchg_64(r1 + 16, r0, r2)', 'db 21 1000 f1000000'],
  ['r1 = (s8)r2', 'bf 21 0800 00000000'],
  ['w1 = (s16)w2', 'bc 21 1000 00000000'],
  ['r1 = (s32)r2', 'bf 21 2000 00000000'],
  ['r1 s/= r2', '3f 21 0100 00000000'],
  ['w1 s/= 5', '34 01 0100 05000000'],
  ['r1 s%= r2', '9f 21 0100 00000000'],
  ['r1 %= r2', '9f 21 0000 00000000'],
  ['w1 %= 3', '94 01 0000 03000000'],
  ['r1 = bswap16 r1', 'd7 01 0000 10000000'],
  ['r1 = bswap64 r1', 'd7 01 0000 40000000'],
  ['gotol +5', '06 00 0000 05000000'],
  ['gotol -2', '06 00 0000 feffffff'],
  ['if r1 & r2 goto +3', '4d 21 0300 00000000'],
  ['if w1 & 8 goto -1', '46 01 ffff 08000000'],
  ['r1 = *(s8 *)(r2 + 4)', '91 21 0400 00000000'],
  ['r1 = *(s16 *)(r2 - 2)', '89 21 feff 00000000'],
  ['r1 = *(s32 *)(r2 + 0)', '81 21 0000 00000000'],
  ['*(u32 *)(r1 + 8) = 5', '62 01 0800 05000000'],
  ['*(u64 *)(r10 - 8) = -1', '7a 0a f8ff ffffffff'],
  ['*(u8 *)(r1 + 0) = 7', '72 01 0000 07000000'],
  ['w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)', 'c3 21 0000 01000000'],
  ['w2 = xchg32_32(r1 + 4, w2)', 'c3 21 0400 e1000000'],
  ['w0 = cmpxchg32_32(r1 + 0, w0, w2)', 'c3 21 0000 f1000000'],
  ['lock *(u32 *)(r1 + 0) |= w2', 'c3 21 0000 40000000'],
  ['r0 = load_acquire((u64 *)(r1 + 0))', 'db 10 0000 00010000'],
  ['w0 = load_acquire((u8 *)(r1 + 2))', 'd3 10 0200 00010000'],
  ['store_release((u64 *)(r1 + 0), r2)', 'db 21 0000 10010000'],
  ['store_release((u16 *)(r1 + 0), w2)', 'cb 21 0000 10010000'],
  ['call pc+3', '85 10 0000 03000000'],
  ['call kfunc 1234', '85 20 0000 d2040000'],
  ['callx r1', '8d 01 0000 00000000'],
  ['ld_pseudo\tr1, 2, 4294967296', '18 21 0000 00000000 00 00 0000 01000000'],
  ['ld_pseudo\tr3, 1, 7', '18 13 0000 07000000 00 00 0000 00000000'],
  ['r1 = -2 ll', '18 01 0000 feffffff 00 00 0000 ffffffff'],
];

describe('assemble', () => {
  describe('on every instruction LLVM 14 supports', () => {
    it('produces the bytes llvm-mc produces', { skip: SKIP }, () => {
      const path = llvmMcObject(`\t.text\n${LLVM14_TEXT.map((l) => `\t${l}`).join('\n')}\n`);
      const want = sectionBytes(path, '.text');
      const got = encodeInsns(assemble(LLVM14_TEXT.join('\n')), 'le');
      assert.equal(got.length, want.length);
      const lines = decodeInsns(want, 'le');
      let at = 0;
      lines.forEach((insn, k) => {
        const n = insn.width * 8;
        assert.deepEqual(got.subarray(at, at + n), want.subarray(at, at + n), `line ${k + 1}: ${LLVM14_TEXT[k]}`);
        at += n;
      });
    });

    it('prints them back in the form they were written (where the form is canonical)', () => {
      for (const line of LLVM14_TEXT) {
        const [insn] = assemble(line);
        const printed = formatInsn(insn!);
        if (line.startsWith('w1 = *(u') || line.startsWith('*(u32 *)(r1 + 0) = w2') || line.startsWith('lock *(u32 *)(r1 + 0) += w2'))
          continue; // alu32 spellings
        assert.equal(printed, line);
      }
    });
  });

  describe('on instructions LLVM 14 does not know (CPU v4, v6.x atomics, our call spellings)', () => {
    for (const [text, bytes] of HAND_ENCODED) {
      it(`encodes '${text}' as RFC 9669 says`, () => {
        const insns = assemble(text);
        assert.deepEqual(encodeInsns(insns, 'le'), hex(bytes));
        assert.ok(insns.every(isValidInsn), 'valid');
        assert.equal(formatInsn(insns[0]!, { llvmCompat: false }), text, 'modern syntax prints it back');
      });
    }
  });

  describe('with labels', () => {
    it('accepts +N, +N <label> and label names', () => {
      const a = assemble('goto +2\ngoto +1 <LBB0_2>\nr1 = 0 ll\nLBB0_2:\nif r1 == 0 goto LBB0_2\ngotol top\ntop:\nexit');
      assert.deepEqual(
        a.map((i) => [i.off, i.imm]),
        [
          [2, 0],
          [1, 0],
          [0, 0],
          [-1, 0],
          [0, 0],
          [0, 0],
        ],
      );
      assert.deepEqual(
        assemble('back:\nr0 = 0\ngoto back ; loop\n# comment').map((i) => i.off),
        [0, -2],
      );
    });
  });
});
