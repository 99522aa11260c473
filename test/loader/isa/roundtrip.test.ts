import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  assemble,
  decodeInsns,
  disassemble,
  encodeInsns,
  formatInsn,
  isValidInsn,
  type ByteOrder,
  type Insn,
} from '../../../src/loader/isa/index.js';
import { SHF_EXECINSTR, findObjects, readTestElf } from './elf-test-util.js';

const OBJECT_DIRS = ['/usr/lib/x86_64-linux-gnu/bpf', 'test/fixtures'];

function execSections(path: string): { name: string; bytes: Uint8Array; order: ByteOrder }[] {
  const elf = readTestElf(readFileSync(path));
  return elf.sections
    .filter((s) => (s.flags & BigInt(SHF_EXECINSTR)) !== 0n && s.bytes.length % 8 === 0)
    .map((s) => ({ name: s.name, bytes: s.bytes, order: elf.order }));
}

/** Strips what the assembler does not produce (imm64 is derived) for comparison. */
function norm(i: Insn): Insn {
  return i.width === 2 ? { ...i, imm64: i.imm64 ?? 0n } : i;
}

describe('encodeInsns(decodeInsns(x))', () => {
  const objects = findObjects(OBJECT_DIRS);
  it('finds at least one object', () => assert.ok(objects.length > 0));
  for (const path of objects) {
    it(`reproduces every executable section of ${path} in both byte orders`, () => {
      for (const s of execSections(path)) {
        for (const order of ['le', 'be'] as const) {
          assert.deepEqual(encodeInsns(decodeInsns(s.bytes, order), order), s.bytes, `${s.name} as ${order}`);
        }
        const other: ByteOrder = s.order === 'le' ? 'be' : 'le';
        const converted = encodeInsns(decodeInsns(s.bytes, s.order), other);
        assert.deepEqual(decodeInsns(converted, other), decodeInsns(s.bytes, s.order), `${s.name}: fields survive ${s.order} -> ${other}`);
        assert.deepEqual(encodeInsns(decodeInsns(converted, other), s.order), s.bytes, `${s.name}: ${s.order} -> ${other} -> ${s.order}`);
      }
    });
  }

  it('reproduces random bytes in both byte orders', () => {
    let seed = 12345;
    const bytes = new Uint8Array(8 * 4096);
    for (let k = 0; k < bytes.length; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[k] = seed >>> 24;
    }
    // No ld_imm64 opcode in the last slot, so the stream is complete.
    bytes[bytes.length - 8] = 0x95;
    for (const order of ['le', 'be'] as const) assert.deepEqual(encodeInsns(decodeInsns(bytes, order), order), bytes);
  });

  it('puts registers in the low/high nibble by byte order', () => {
    const [le] = decodeInsns(Uint8Array.of(0xbf, 0x21, 0, 0, 0, 0, 0, 0), 'le');
    const [be] = decodeInsns(Uint8Array.of(0xbf, 0x21, 0, 0, 0, 0, 0, 0), 'be');
    assert.deepEqual([le!.dst, le!.src, be!.dst, be!.src], [1, 2, 2, 1]);
    const [imm] = decodeInsns(Uint8Array.of(0xb7, 0x10, 0xff, 0xfe, 0, 0, 0x01, 0x02), 'be');
    assert.deepEqual([imm!.dst, imm!.off, imm!.imm], [1, -2, 0x102]);
  });
});

describe('assemble(disassemble(x))', () => {
  for (const path of findObjects(OBJECT_DIRS)) {
    it(`gives back the instructions of ${path} (modern syntax, every valid instruction)`, () => {
      for (const s of execSections(path)) {
        const lines = disassemble(s.bytes, s.order, { llvmCompat: false, symbols: [] });
        const decoded = decodeInsns(s.bytes, s.order);
        assert.ok(decoded.every(isValidInsn), `${s.name} has only valid instructions`);
        const text = lines.map((l) => l.text).join('\n');
        assert.deepEqual(assemble(text).map(norm), decoded.map(norm), s.name);
      }
    });

    it(`gives back the instructions of ${path} (LLVM 14 syntax) except documented lossy fields`, () => {
      for (const s of execSections(path)) {
        const decoded = decodeInsns(s.bytes, s.order);
        for (const i of decoded) {
          const text = formatInsn(i);
          if (text === '<unknown>') continue;
          const [back] = assemble(text);
          // LLVM 14 prints bpf-to-bpf and kfunc calls as `call N`, and only the low half of ld_pseudo.
          const lossy = (i.opcode === 0x85 && i.src !== 0) || (i.opcode === 0x18 && i.src !== 0 && (i.next?.imm ?? 0) !== 0);
          if (lossy) continue;
          assert.deepEqual(norm(back!), norm(i), `${s.name}: ${text}`);
        }
      }
    });
  }
});
