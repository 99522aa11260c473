import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BtfBuilder, parseBtf, type Btf, type BtfType, type ByteOrder } from '../../../src/loader/btf/index.js';
import { btfSections } from './elf-sections.js';
import {
  assertSameLines,
  bpftoolRawDump,
  compileKindsObjects,
  HAVE_CLANG,
  HAVE_VMLINUX,
  moduleBtfFiles,
  NO_BPFTOOL,
  objectFiles,
  readBytes,
  tempDir,
  VMLINUX,
  writeTemp,
} from './helpers.js';

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: first differing byte at offset ${i}: ${actual[i]} != ${expected[i]}`);
  }
}

const NO_VMLINUX = HAVE_VMLINUX ? false : 'no /sys/kernel/btf/vmlinux';

describe('Btf.toBytes', () => {
  it('re-encodes vmlinux BTF byte for byte', { skip: NO_VMLINUX }, () => {
    const bytes = readBytes(VMLINUX);
    const out = parseBtf(bytes).toBytes();
    assert.notEqual(out.buffer, bytes.buffer);
    assertSameBytes(out, bytes, VMLINUX);
  });

  it(
    're-encodes every module BTF (split over vmlinux) byte for byte',
    { skip: moduleBtfFiles().length === 0 ? 'no module BTF in /sys/kernel/btf' : false },
    () => {
      const base = parseBtf(readBytes(VMLINUX));
      for (const m of moduleBtfFiles()) {
        const bytes = readBytes(m);
        assertSameBytes(parseBtf(bytes, { base }).toBytes(), bytes, m);
      }
    },
  );

  it('re-encodes the .BTF section of every object byte for byte', () => {
    let n = 0;
    for (const path of objectFiles()) {
      const secs = btfSections(readBytes(path));
      if (!secs.btf) continue;
      assertSameBytes(parseBtf(secs.btf).toBytes(), secs.btf, path);
      n++;
    }
    assert.ok(n > 0, 'at least one object with .BTF found');
  });

  it('re-encodes big-endian BTF compiled with -target bpfeb byte for byte', { skip: HAVE_CLANG ? false : 'clang not installed' }, () => {
    const { eb } = compileKindsObjects(tempDir());
    const btf = btfSections(readBytes(eb)).btf!;
    const parsed = parseBtf(btf);
    assert.equal(parsed.byteOrder, 'big');
    assertSameBytes(parsed.toBytes(), btf, eb);
  });
});

/** Types of a sample exercising every kind, including ENUM64 and signed enums (clang 14 emits neither). */
function buildAllKinds(b: BtfBuilder): void {
  const int = b.add({ kind: 'INT', name: 'int', size: 4, encoding: 1 });
  const u8 = b.add({ kind: 'INT', name: 'unsigned char', size: 1 });
  const bool = b.add({ kind: 'INT', name: '_Bool', size: 1, encoding: 4 });
  const chr = b.add({ kind: 'INT', name: 'char', size: 1, encoding: 2 });
  const ptr = b.add({ kind: 'PTR', type: 0 });
  const fwd = b.add({ kind: 'FWD', name: 'later', fwdKind: 'union' });
  const cint = b.add({ kind: 'CONST', type: int });
  const vint = b.add({ kind: 'VOLATILE', type: cint });
  const rptr = b.add({ kind: 'RESTRICT', type: ptr });
  const tdef = b.add({ kind: 'TYPEDEF', name: 'my_int', type: vint });
  const ttag = b.add({ kind: 'TYPE_TAG', name: 'user', type: int });
  const arr = b.add({ kind: 'ARRAY', elemType: u8, indexType: int, nelems: 6 });
  const e32 = b.add({
    kind: 'ENUM',
    name: 'e_signed',
    size: 4,
    enumerators: [
      { name: 'NEG', value: -3 },
      { name: 'POS', value: 9 },
    ],
  });
  b.add({ kind: 'ENUM', name: 'e_unsigned', size: 4, enumerators: [{ name: 'BIG', value: 0xfffffff0 }] });
  const e64 = b.add({
    kind: 'ENUM64',
    name: 'e64',
    enumerators: [
      { name: 'HUGE', value: 0xfedcba9876543210n },
      { name: 'ONE', value: 1n },
    ],
  });
  b.add({ kind: 'ENUM64', name: 's64', signed: true, enumerators: [{ name: 'MIN', value: -(1n << 63n) }] });
  const flt = b.add({ kind: 'FLOAT', name: 'double', size: 8 });
  const st = b.add({
    kind: 'STRUCT',
    name: 'sample',
    size: 40,
    members: [
      { name: 'a', type: int, bitOffset: 0, bitfieldSize: 3 },
      { name: 'b', type: int, bitOffset: 3, bitfieldSize: 13 },
      { name: 'mac', type: arr, bitOffset: 16 },
      { name: 'p', type: rptr, bitOffset: 64 },
      { name: 'e', type: e32, bitOffset: 128 },
      { name: 'flag', type: bool, bitOffset: 160 },
      { name: 'c', type: chr, bitOffset: 168 },
      { type: tdef, bitOffset: 192 },
      { name: 'big', type: e64, bitOffset: 256 },
    ],
  });
  const un = b.add({
    kind: 'UNION',
    name: 'later',
    size: 8,
    members: [
      { name: 'd', type: flt, bitOffset: 0 },
      { name: 't', type: ttag, bitOffset: 0 },
    ],
  });
  const proto = b.add({ kind: 'FUNC_PROTO', type: int, params: [{ name: 's', type: st }, { name: 'u', type: un }, { type: fwd }] });
  const fn = b.add({ kind: 'FUNC', name: 'do_it', type: proto, linkage: 1 });
  b.add({ kind: 'FUNC', name: 'ext_fn', type: proto, linkage: 2 });
  b.add({ kind: 'DECL_TAG', name: 'kfunc', type: fn });
  b.add({ kind: 'DECL_TAG', name: 'arg_tag', type: fn, componentIdx: 1 });
  const v1 = b.add({ kind: 'VAR', name: 'counter', type: int, linkage: 1 });
  const v2 = b.add({ kind: 'VAR', name: 'cfg', type: st, linkage: 0 });
  b.add({
    kind: 'DATASEC',
    name: '.data',
    size: 48,
    vars: [
      { type: v1, offset: 0, size: 4 },
      { type: v2, offset: 8, size: 40 },
    ],
  });
}

function ownTypes(btf: Btf): BtfType[] {
  return [...btf.types()];
}

describe('BtfBuilder', () => {
  for (const order of ['little', 'big'] as ByteOrder[]) {
    describe(`when building every kind in ${order}-endian`, () => {
      const b = new BtfBuilder();
      buildAllKinds(b);
      const bytes = b.toBytes({ byteOrder: order });

      it('parses back to the same types', () => {
        const btf = parseBtf(bytes);
        assert.equal(btf.byteOrder, order);
        assert.equal(btf.typeCount, b.typeCount);
        assert.deepEqual(
          ownTypes(btf),
          Array.from({ length: b.typeCount }, (_, i) => b.get(i + 1)),
        );
        assert.equal(btf.sizeOf(btf.getByName('sample', 'STRUCT')), 40);
        assert.equal(btf.findByName('later', 'UNION'), btf.findAllByName('later')[1]);
      });

      it('re-encodes the parsed result byte for byte', () => {
        assertSameBytes(parseBtf(bytes).toBytes(), bytes, 'builder output');
      });

      it('is accepted by bpftool, which prints the same raw dump', { skip: NO_BPFTOOL }, () => {
        const path = writeTemp(tempDir(), `all-kinds-${order}.btf`, bytes);
        assertSameLines(parseBtf(bytes).rawDump(), bpftoolRawDump(path), path);
      });
    });
  }

  describe('when copying every type of a BPF object with addCopy', () => {
    it('produces BTF with an identical raw dump', () => {
      const path = objectFiles().find((p) => btfSections(readBytes(p)).btf);
      assert.ok(path, 'an object with .BTF exists');
      const src = parseBtf(btfSections(readBytes(path)).btf!);
      const b = new BtfBuilder();
      for (const t of src.types()) b.addCopy(t, (id) => id);
      const copy = b.build({ byteOrder: 'big' });
      assert.equal(copy.byteOrder, 'big');
      assert.equal(copy.rawDump(), src.rawDump());
    });
  });

  describe('when building split BTF over vmlinux', { skip: NO_VMLINUX }, () => {
    it('numbers types after vmlinux, resolves base names, and bpftool -B agrees', { skip: NO_BPFTOOL }, () => {
      const base = parseBtf(readBytes(VMLINUX));
      const b = new BtfBuilder({ base });
      assert.equal(b.startId, base.totalCount);
      const task = base.getByName('task_struct', 'STRUCT');
      const u32 = base.getByName('u32', 'TYPEDEF');
      const p = b.add({ kind: 'PTR', type: task });
      const st = b.add({
        kind: 'STRUCT',
        name: 'my_mod_state',
        size: 16,
        members: [
          { name: 'owner', type: p, bitOffset: 0 },
          { name: 'refs', type: u32, bitOffset: 64 },
        ],
      });
      b.add({ kind: 'VAR', name: 'u32', type: st, linkage: 1 });
      const bytes = b.toBytes();
      const split = parseBtf(bytes, { base });
      assert.equal(split.startId, base.totalCount);
      assert.equal(split.typeCount, 3);
      assert.equal(split.name(u32), 'u32');
      assert.equal(split.name(st), 'my_mod_state');
      assert.equal(split.sizeOf(split.getByName('my_mod_state')), 16);
      assert.deepEqual(split.findAllByName('u32'), [u32, st + 1]);
      assert.equal(split.memberOffset(st, 'refs').byteOffset, 8);
      assertSameBytes(split.toBytes(), bytes, 'split BTF');
      const path = writeTemp(tempDir(), 'split.btf', bytes);
      assertSameLines(split.rawDump(), bpftoolRawDump(path, VMLINUX), path);
    });
  });
});
