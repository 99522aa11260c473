import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  R0,
  R1,
  R2,
  R10,
  alu32,
  alu64,
  atomic,
  call,
  classify,
  encodeInsns,
  endian,
  exit,
  gotol,
  jmp,
  jmp32,
  ldAbs,
  ldImm64,
  ldInd,
  ldMapValue,
  ldx,
  ldxsx,
  mov64,
  st,
  stx,
  validateInsn,
  formatInsn,
  insn,
  BPF_PSEUDO_MAP_FD,
} from '../../../src/loader/isa/index.js';
import { hex } from './mc-test-util.js';

describe('the builder DSL', () => {
  it('builds the encodings RFC 9669 defines', () => {
    const prog = [
      alu64.add.imm(R1, 22), // 07 01 0000 16000000
      mov64.reg(R0, R1), // bf 10 0000 00000000
      ldx.w(R0, R1, 4), // 61 10 0400 00000000
      jmp.jeq.imm(R1, 0, 3), // 15 01 0300 00000000
      call.helper(1), // 85 00 0000 01000000
      ldImm64(R1, 0x100000002n, BPF_PSEUDO_MAP_FD), // 18 11 0000 02000000 | 00 00 0000 01000000
      exit(), // 95 00 0000 00000000
    ];
    assert.deepEqual(
      encodeInsns(prog, 'le'),
      hex(
        '07010000 16000000 bf100000 00000000 61100400 00000000 15010300 00000000 85000000 01000000 18110000 02000000 00000000 01000000 95000000 00000000',
      ),
    );
  });
  it('builds only valid instructions', () => {
    const all = [
      alu32.sdiv.reg(R1, R2),
      alu64.smod.imm(R1, 3),
      alu64.movsx(R1, R2, 32),
      alu32.movsx(R1, R2, 8),
      alu64.neg(R1),
      endian.le(R1, 16),
      endian.be(R1, 64),
      endian.bswap(R1, 32),
      ldxsx.h(R1, R2, -2),
      st.dw(R10, -8, 1),
      stx.b(R1, 0, R2),
      atomic.fetchAdd.w(R1, 0, R2),
      atomic.cmpxchg.dw(R1, 0, R2),
      atomic.loadAcquire.b(R0, R1, 0),
      atomic.storeRelease.h(R1, 0, R2),
      jmp.jset.reg(R1, R2, -1),
      jmp32.jsle.imm(R1, -5, 2),
      gotol(100000),
      call.bpf(-1),
      call.kfunc(77),
      call.reg(R2),
      ldAbs.w(12),
      ldInd.b(R2, 0),
      ldMapValue(R1, 3, 16),
    ];
    for (const i of all) assert.equal(validateInsn(i), null, formatInsn(i, { llvmCompat: false }));
  });
});

describe('classify', () => {
  it('tells what an instruction does', () => {
    assert.deepEqual(classify(alu64.add.imm(R1, 22)), { kind: 'alu', is64: true, op: 'add', dst: 1, imm: 22, signed: false });
    assert.deepEqual(classify(alu32.sdiv.reg(R1, R2)), { kind: 'alu', is64: false, op: 'div', dst: 1, srcReg: 2, signed: true });
    assert.deepEqual(classify(alu64.movsx(R1, R2, 16)), {
      kind: 'alu',
      is64: true,
      op: 'mov',
      dst: 1,
      srcReg: 2,
      signed: false,
      movsx: 16,
    });
    assert.deepEqual(classify(endian.bswap(R3(), 16)), { kind: 'endian', dst: 3, bits: 16, to: 'swap' });
    assert.deepEqual(classify(call.kfunc(9)), { kind: 'call', target: 'kfunc', imm: 9, src: 2 });
    assert.deepEqual(classify(gotol(-4)), { kind: 'ja', long: true, offset: -4 });
    assert.deepEqual(classify(ldImm64(R1, -1n)), { kind: 'ldimm64', dst: 1, pseudo: 0, value: 0xffffffffffffffffn });
    assert.deepEqual(classify(atomic.xchg.dw(R1, 8, R2)), { kind: 'atomic', size: 8, op: 'xchg', fetch: true, dst: 1, srcReg: 2, off: 8 });
    assert.deepEqual(classify(atomic.loadAcquire.w(R0, R1, 4)), {
      kind: 'atomic',
      size: 4,
      op: 'load_acquire',
      fetch: false,
      dst: 0,
      srcReg: 1,
      off: 4,
    });
    assert.deepEqual(classify(ldAbs.h(3)), { kind: 'ldabs', size: 2, imm: 3 });
    assert.deepEqual(classify(exit()), { kind: 'exit' });
  });
  it('reports why an encoding is not an instruction', () => {
    const view = classify(insn(0x95, 0, 0, 0, 1));
    assert.equal(view.kind, 'invalid');
    assert.match((view as { reason: string }).reason, /imm must be 0/);
    assert.match(validateInsn(insn(0xbf, 11, 0, 0, 0))!, /dst register r11/);
    assert.match(validateInsn(insn(0xdb, 1, 2, 0, 0x02))!, /atomic operation 0x2/);
    assert.match(validateInsn(insn(0xd4, 1, 0, 0, 8))!, /16, 32 or 64/);
    assert.match(validateInsn(insn(0x18, 1, 0, 0, 0))!, /two slots/);
    assert.match(validateInsn({ ...ldImm64(R1, 1n), next: { opcode: 0x18, dst: 0, src: 0, off: 0, imm: 0 } })!, /second slot/);
  });
});

function R3(): 3 {
  return 3;
}
