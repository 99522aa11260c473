import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { disassemble, encodeInsns, insn, type ByteOrder, type DisasmLine } from '../../../src/loader/isa/index.js';
import { SHF_EXECINSTR, findObjects, hasTool, objdumpListing, readTestElf, type ObjdumpLine } from './elf-test-util.js';
import { byteLine, llvmMcObject } from './mc-test-util.js';

const HAVE_OBJDUMP = hasTool('llvm-objdump') && hasTool('llvm-mc');
const SKIP = HAVE_OBJDUMP ? false : 'llvm-objdump/llvm-mc not installed';
const OBJECT_DIRS = ['/usr/lib/x86_64-linux-gnu/bpf', 'test/fixtures'];

function ours(lines: DisasmLine[]): ObjdumpLine[] {
  return lines.map((l) =>
    l.kind === 'skip'
      ? { index: null, text: '...' }
      : l.kind === 'data'
        ? { index: null, text: `data@${l.offset}:${l.text}` }
        : { index: l.index, text: l.text },
  );
}

/** Compares our listing of every executable section with llvm-objdump's; returns the number of lines compared. */
function compareObject(path: string): number {
  const elf = readTestElf(readFileSync(path));
  const listing = objdumpListing(path);
  let n = 0;
  for (const s of elf.sections) {
    if ((s.flags & BigInt(SHF_EXECINSTR)) === 0n || s.bytes.length === 0) continue;
    const want = listing.get(s.name) ?? [];
    const got = ours(disassemble(s.bytes, elf.order, { symbols: s.symbols, sectionName: s.name }));
    assert.deepEqual(got, want, `${path} section ${s.name}`);
    n += want.length;
  }
  return n;
}

function probeObject(insnBytes: Uint8Array[], order: ByteOrder, labels: Map<number, string> = new Map()): string {
  const lines = ['\t.section xdp,"ax",@progbits', '\t.globl f', 'f:'];
  insnBytes.forEach((b, k) => {
    const l = labels.get(k);
    if (l) lines.push(l);
    lines.push(byteLine(b));
  });
  return llvmMcObject(lines.join('\n') + '\n', order === 'le' ? 'bpfel' : 'bpfeb', []);
}

/** Every opcode with register, offset and immediate patterns that exercise what LLVM 14 checks. */
function probeInsns(order: ByteOrder): Uint8Array[] {
  const out: Uint8Array[] = [];
  const imms = [0, 1, -1, 5, 16, 32, 64, 0x40, 0x41, 0x51, 0xa1, 0xe1, 0xf1, 0x100, 0x110, 0x8, 0x12, 0x7fffffff];
  const offs = [0, 1, -1, 8, 16, 32, 0x7fff, -0x8000];
  // xorshift PRNG with a fixed seed so failures reproduce.
  let seed = 0x2545f491;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  for (let opcode = 0; opcode < 256; opcode++) {
    for (let r = 0; r < 16; r++) out.push(encodeInsns([insn(opcode, r, (r * 7) % 16, 0, 16)], order));
    for (const imm of imms) out.push(encodeInsns([insn(opcode, 1, 2, 0, imm)], order));
    for (const off of offs) out.push(encodeInsns([insn(opcode, 3, 4, off, 32)], order));
    for (let k = 0; k < 12; k++) out.push(encodeInsns([insn(opcode, rnd(16), rnd(16), rnd(65536), rnd(0x100000000))], order));
  }
  return out;
}

describe('disassemble', () => {
  describe('on every BPF object on the system and in test/fixtures', () => {
    const objects = findObjects(OBJECT_DIRS);
    it('finds at least one object', () => assert.ok(objects.length > 0, `no .o under ${OBJECT_DIRS.join(', ')}`));
    for (const path of objects) {
      it(`prints ${path} exactly like llvm-objdump -d --no-show-raw-insn`, { skip: SKIP }, () => {
        compareObject(path);
      });
    }
  });

  describe('on every opcode with many field patterns', () => {
    for (const order of ['le', 'be'] as const) {
      it(`matches llvm-objdump line for line (${order})`, { skip: SKIP }, () => {
        const n = compareObject(probeObject(probeInsns(order), order));
        assert.ok(n > 256 * 40, `only ${n} lines compared`);
      });
    }
  });

  describe('on layout corner cases', () => {
    const le = (op: number, dst: number, src: number, off: number, imm: number) => encodeInsns([insn(op, dst, src, off, imm)], 'le');
    const zero = new Uint8Array(8);
    it(
      'matches llvm-objdump for zero runs, misaligned skips, straddling ld_imm64, shared and object symbols and truncation',
      { skip: SKIP },
      () => {
        const body = [
          le(0x18, 1, 0, 0, -1),
          le(0, 0, 0, 0, -1), // ld_imm64 -1
          le(0x05, 0, 0, -100, 0), // branch before the section: wraps
          le(0xb7, 1, 0, 0, 0),
          zero,
          zero, // zero run
          le(0xb7, 1, 0, 0, 0),
          zero,
          Uint8Array.of(0, 0, 0, 0, 0x05, 0, 0, 0),
          zero, // 12 zero bytes then a misaligned goto
          le(0x18, 1, 2, 0, 7), // ld_imm64 straddling the next symbol
          le(0xb7, 2, 0, 0, 9),
          le(0x15, 1, 0, -3, 0),
          le(0xb7, 3, 0, 0, 1),
          le(0x05, 0, 0, 1, 0),
          le(0x18, 1, 0, 0, 5), // truncated at the section end
        ];
        const labels = new Map<number, string>([
          [11, '\t.globl g\ng:'],
          [12, '\t.globl h\nh:'],
          [13, '\t.globl zz\nzz:\n\t.globl aa\naa:\n\t.local mm\nmm:'],
          [14, '\t.type obj,@object\nobj:'],
          [15, '\t.type fn,@function\nfn:'],
        ]);
        compareObject(probeObject(body, 'le', labels));
      },
    );

    it('labels branches with section-relative symbols passed as a slot map', () => {
      const bytes = encodeInsns([insn(0x05, 0, 0, 1, 0), insn(0xb7, 0, 0, 0, 0), insn(0x95, 0, 0, 0, 0)], 'le');
      const lines = disassemble(bytes, 'le', {
        symbols: new Map([
          [0, 'prog'],
          [2, 'LBB0_2'],
        ]),
      });
      assert.deepEqual(
        lines.map((l) => l.text),
        ['goto +1 <LBB0_2>', 'r0 = 0', 'exit'],
      );
    });

    it('names the section for targets when no symbol sits at offset 0', () => {
      const bytes = encodeInsns([insn(0x05, 0, 0, 0, 0), insn(0x95, 0, 0, 0, 0)], 'le');
      assert.equal(disassemble(bytes, 'le', { sectionName: 'xdp' })[0]!.text, 'goto +0 <xdp+0x8>');
    });
  });

  describe('in modern mode', () => {
    it('prints v4 instructions in modern syntax with labels', () => {
      const bytes = encodeInsns([insn(0x06, 0, 0, 0, 1), insn(0xbf, 1, 2, 8, 0), insn(0x95, 0, 0, 0, 0)], 'le');
      const lines = disassemble(bytes, 'le', { llvmCompat: false, symbols: [{ name: 'p', value: 0, type: 2 }] });
      assert.deepEqual(
        lines.map((l) => l.text),
        ['gotol +1 <p+0x10>', 'r1 = (s8)r2', 'exit'],
      );
    });
  });
});
