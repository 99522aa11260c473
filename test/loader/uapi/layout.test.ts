import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BPF_ATTR, UAPI_STRUCT, endOf, readStruct, structReader, writeStruct } from '../../../src/loader/uapi/index.js';

const insn = UAPI_STRUCT.bpf_insn;

describe('struct layouts', () => {
  it("read bpf_insn's register bitfields in the low nibble first on little-endian, high nibble first on big-endian", () => {
    // mov64 r1, r2 style byte 1 = 0x21: dst 1, src 2 (le); the same registers are 0x12 on be.
    const le = Uint8Array.of(0xbf, 0x21, 0xfe, 0xff, 0x07, 0x00, 0x00, 0x00);
    assert.deepEqual(readStruct(insn, le, 'le'), { code: 0xbf, dst_reg: 1, src_reg: 2, off: -2, imm: 7 });
    const be = Uint8Array.of(0xbf, 0x12, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x07);
    assert.deepEqual(readStruct(insn, be, 'be'), { code: 0xbf, dst_reg: 1, src_reg: 2, off: -2, imm: 7 });
    assert.equal(structReader(insn, be, 'be').u32('src_reg'), 2);
  });

  it('write a bitfield without touching its neighbour, and round-trip through read', () => {
    const values = { code: 0x85, dst_reg: 10, src_reg: 1, off: -1, imm: -8 };
    for (const order of ['le', 'be'] as const) {
      const bytes = writeStruct(insn, values, order);
      assert.deepEqual(readStruct(insn, bytes, order), values);
      writeStruct(insn, { dst_reg: 3 }, order, bytes);
      assert.deepEqual(readStruct(insn, bytes, order), { ...values, dst_reg: 3 });
    }
    assert.equal(writeStruct(insn, values, 'le')[1], 0x1a);
  });

  it('read non-char arrays as hex and write them back', () => {
    const info = UAPI_STRUCT.bpf_prog_info;
    const bytes = writeStruct(info, { tag: '0102030405060708', name: 'prog' }, 'le');
    const read = readStruct(info, bytes, 'le');
    assert.equal(read.tag, '0102030405060708');
    assert.equal(read.name, 'prog');
    assert.throws(() => writeStruct(info, { tag: 'zz' }, 'le'), /tag wants at most 8 bytes as hex/);
  });

  it('give offsetofend of a field', () => {
    assert.equal(endOf(BPF_ATTR.PROG_LOAD, 'core_relo_rec_size'), 140);
    assert.equal(endOf(BPF_ATTR.MAP_CREATE, 'map_name'), 44);
  });
});
