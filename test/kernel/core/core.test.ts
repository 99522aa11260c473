import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BtfBuilder, type Btf } from '../../../src/loader/btf/index.js';
import { assemble } from '../../../src/loader/isa/index.js';
import { applyCoreRelocations, CORE_KIND, CORE_POISON_IMM, essentialName } from '../../../src/kernel/core/index.js';
import { KernelError } from '../../../src/kernel/errors.js';

describe('essentialName', () => {
  it('drops the last ___flavor suffix', () => {
    assert.equal(essentialName('task_struct___pre514'), 'task_struct');
    assert.equal(essentialName('a___b___c'), 'a___b');
  });
  it('keeps names whose ___ is not between non-underscores', () => {
    assert.equal(essentialName('____x'), '____x');
    assert.equal(essentialName('x___'), 'x___');
  });
});

/** struct s { u32 a; u64 b; } with `b` at `bOff` bytes; local and target differ only there. */
function btfWith(name: string, bOff: number, bSize = 8, signed = false): Btf {
  const b = new BtfBuilder();
  const u32 = b.add({ kind: 'INT', name: 'u32', size: 4 });
  const tb = b.add({ kind: 'INT', name: bSize === 8 ? 'u64' : 'u32x', size: bSize, encoding: signed ? 1 : 0 });
  b.add({
    kind: 'STRUCT',
    name,
    size: bOff + bSize,
    members: [
      { name: 'a', type: u32, bitOffset: 0 },
      { name: 'b', type: tb, bitOffset: bOff * 8 },
    ],
  });
  return b.build();
}

describe('applyCoreRelocations', () => {
  const local = btfWith('s___local', 8);
  const sId = 3;
  it('moves a field offset to the target layout and reports both specs', () => {
    const target = btfWith('s', 16);
    const r = applyCoreRelocations(
      assemble('r0 = *(u64 *)(r1 + 8)\nexit'),
      [{ insn: 0, typeId: sId, accessStr: '0:1', kind: CORE_KIND.FIELD_BYTE_OFFSET }],
      local,
      { vmlinux: target },
    );
    assert.equal(r.insns[0].off, 16);
    assert.equal(r.reports[0].oldValue, 8n);
    assert.equal(r.reports[0].newValue, 16n);
    assert.equal(r.reports[0].target?.path, '.b');
    assert.equal(r.reports[0].poisoned, false);
  });
  it('shrinks an unsigned load when the target field is smaller', () => {
    const target = btfWith('s', 4, 4);
    const r = applyCoreRelocations(
      assemble('r0 = *(u64 *)(r1 + 8)\nexit'),
      [{ insn: 0, typeId: sId, accessStr: '0:1', kind: CORE_KIND.FIELD_BYTE_OFFSET }],
      local,
      { vmlinux: target },
    );
    assert.equal(r.insns[0].opcode, 0x61, 'ldxdw became ldxw');
    assert.deepEqual(r.reports[0].memSize, { from: 8, to: 4 });
  });
  it('poisons a load whose size would change for a signed field', () => {
    const target = btfWith('s', 4, 4, true);
    const r = applyCoreRelocations(
      assemble('r0 = *(u64 *)(r1 + 8)\nexit'),
      [{ insn: 0, typeId: sId, accessStr: '0:1', kind: CORE_KIND.FIELD_BYTE_OFFSET }],
      local,
      { vmlinux: target },
    );
    assert.equal(r.insns[0].imm, CORE_POISON_IMM);
    assert.equal(r.reports[0].poisoned, true);
  });
  it('poisons both slots of an ld_imm64 when no candidate has the field', () => {
    const b = new BtfBuilder();
    b.add({
      kind: 'STRUCT',
      name: 's',
      size: 4,
      members: [{ name: 'a', type: b.add({ kind: 'INT', name: 'u32', size: 4 }), bitOffset: 0 }],
    });
    const r = applyCoreRelocations(
      assemble('r0 = 8 ll\nexit'),
      [{ insn: 0, typeId: sId, accessStr: '0:1', kind: CORE_KIND.FIELD_BYTE_OFFSET }],
      local,
      { vmlinux: b.build() },
    );
    assert.deepEqual(
      r.insns.slice(0, 2).map((i) => [i.opcode, i.imm]),
      [
        [0x85, CORE_POISON_IMM],
        [0x85, CORE_POISON_IMM],
      ],
    );
    assert.equal(r.insns.length, 3);
  });
  it('answers 0 for field existence without poisoning', () => {
    const b = new BtfBuilder();
    b.add({
      kind: 'STRUCT',
      name: 's',
      size: 4,
      members: [{ name: 'a', type: b.add({ kind: 'INT', name: 'u32', size: 4 }), bitOffset: 0 }],
    });
    const r = applyCoreRelocations(
      assemble('r0 = 1\nexit'),
      [{ insn: 0, typeId: sId, accessStr: '0:1', kind: CORE_KIND.FIELD_EXISTS }],
      local,
      { vmlinux: b.build() },
    );
    assert.equal(r.insns[0].imm, 0);
    assert.equal(r.reports[0].target, null);
  });
  it('throws when the instruction does not hold the value the local BTF implies', () => {
    assert.throws(
      () =>
        applyCoreRelocations(
          assemble('r0 = *(u64 *)(r1 + 12)\nexit'),
          [{ insn: 0, typeId: sId, accessStr: '0:1', kind: CORE_KIND.FIELD_BYTE_OFFSET }],
          local,
          { vmlinux: btfWith('s', 16) },
        ),
      (e) => e instanceof KernelError && e.details.pc === 0,
    );
  });
  it('searches module BTF only when vmlinux has no candidate', () => {
    const vmlinux = btfWith('other', 8);
    const mb = new BtfBuilder({ base: vmlinux });
    const u64 = mb.add({ kind: 'INT', name: 'u64', size: 8 });
    mb.add({
      kind: 'STRUCT',
      name: 's',
      size: 32,
      members: [
        { name: 'a', type: u64, bitOffset: 0 },
        { name: 'b', type: u64, bitOffset: 192 },
      ],
    });
    const r = applyCoreRelocations(
      assemble('r0 = *(u64 *)(r1 + 8)\nexit'),
      [{ insn: 0, typeId: sId, accessStr: '0:1', kind: CORE_KIND.FIELD_BYTE_OFFSET }],
      local,
      { vmlinux, modules: [{ name: 'mod', btf: mb.build() }] },
    );
    assert.equal(r.insns[0].off, 24);
    assert.equal(r.reports[0].target?.btf, 'mod');
  });
});
