/**
 * The verifier's path walk as the model follows it: each refusal the kernel's do_check makes
 * that the walk knows, with its errno and message, and the dead code it must not refuse.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { walkPaths } from '../../../src/kernel/check/index.js';
import { CORE_POISON_IMM } from '../../../src/kernel/core/index.js';
import { GPL_ONLY_HELPERS } from '../../../src/kernel/bpf/index.js';
import { call, encodeInsns, exit, jmp, ldImm64, ldx, mov64, alu64, st, stx, type Insn } from '../../../src/loader/isa/index.js';
import { loadProgram } from '../../../src/kernel/vm/index.js';

const walk = (insns: Insn[], gpl = true) => walkPaths(insns, { gpl, gplOnlyHelpers: GPL_ONLY_HELPERS, maxHelper: 211 });
const PROBE_READ_KERNEL = 113;

describe('the path walk', () => {
  it('accepts a program that only returns a constant', () => {
    const r = walk([mov64.imm(0, 0), exit()]);
    assert.equal(r.refusal, null);
    assert.ok(r.complete);
  });

  it('refuses a load through a scalar with EACCES: "R1 invalid mem access \'scalar\'"', () => {
    const r = walk([mov64.imm(1, 64), ldx.w(0, 1, 0), exit()]);
    assert.deepEqual(r.refusal, { pc: 1, code: 'INVALID_MEM_ACCESS', errno: 13, message: "R1 invalid mem access 'scalar'" });
  });

  it('refuses dereferencing what bpf_probe_read_kernel wrote to the stack, a scalar, with EACCES', () => {
    const r = walk([
      st.dw(10, -8, 0), // parent = 0
      mov64.reg(1, 10),
      alu64.add.imm(1, -8),
      mov64.imm(2, 8),
      mov64.imm(3, 0),
      call.helper(PROBE_READ_KERNEL), // bpf_probe_read_kernel(&parent, 8, 0)
      ldx.dw(1, 10, -8),
      jmp.jeq.imm(1, 0, 1),
      ldx.w(0, 1, 1268), // parent->tgid
      mov64.imm(0, 0),
      exit(),
    ]);
    assert.equal(r.refusal?.errno, 13);
    assert.equal(r.refusal?.pc, 8);
    assert.equal(r.refusal?.message, "R1 invalid mem access 'scalar'");
  });

  it('accepts a pointer spilled to the stack and filled back', () => {
    const r = walk([stx.dw(10, -8, 1), ldx.dw(2, 10, -8), ldx.w(0, 2, 0), exit()]);
    assert.equal(r.refusal, null);
  });

  it('refuses reading a register that holds no value with EACCES: "R2 !read_ok"', () => {
    const r = walk([mov64.reg(0, 2), exit()]);
    assert.deepEqual(r.refusal, { pc: 0, code: 'REG_NOT_INIT', errno: 13, message: 'R2 !read_ok' });
  });

  it('refuses a register clobbered by a helper call (r1-r5) with EACCES', () => {
    const r = walk([call.helper(5), mov64.reg(0, 1), exit()]);
    assert.equal(r.refusal?.message, 'R1 !read_ok');
  });

  it('refuses a stack read above the frame with EACCES: "invalid read from stack R10 off=0 size=4"', () => {
    const r = walk([ldx.w(0, 10, 0), exit()]);
    assert.deepEqual(r.refusal, { pc: 0, code: 'STACK_OUT_OF_BOUNDS', errno: 13, message: 'invalid read from stack R10 off=0 size=4' });
  });

  it('refuses a reachable poisoned CO-RE instruction with EINVAL: "invalid func unknown#195896080"', () => {
    const r = walk([mov64.imm(0, 0), call.helper(CORE_POISON_IMM), exit()]);
    assert.deepEqual(r.refusal, { pc: 1, code: 'UNKNOWN_FUNC', errno: 22, message: 'invalid func unknown#195896080' });
  });

  it('accepts a poisoned instruction behind a branch a relocated constant decides (field_exists = 1)', () => {
    const r = walk([
      mov64.imm(1, 1), // bpf_core_field_exists(), relocated to 1
      jmp.jeq.imm(1, 0, 2),
      mov64.imm(0, 0),
      exit(),
      call.helper(CORE_POISON_IMM), // the else branch: a field this kernel lacks
      exit(),
    ]);
    assert.equal(r.refusal, null);
    assert.ok(r.complete);
  });

  it('follows both sides of a branch it cannot decide, and refuses the poisoned one', () => {
    const r = walk([ldx.w(1, 1, 0), jmp.jeq.imm(1, 0, 2), mov64.imm(0, 0), exit(), call.helper(CORE_POISON_IMM), exit()]);
    assert.equal(r.refusal?.pc, 4);
  });

  it('refuses a GPL-only helper in a non-GPL program with EINVAL', () => {
    const r = walk([mov64.imm(1, 0), mov64.imm(2, 0), mov64.imm(3, 0), call.helper(PROBE_READ_KERNEL), mov64.imm(0, 0), exit()], false);
    assert.equal(r.refusal?.errno, 22);
    assert.equal(r.refusal?.message, 'cannot call GPL-restricted function from non-GPL compatible program');
  });

  it('refuses a reachable kfunc call left with btf_id 0 with EINVAL, after the walk', () => {
    const r = walk([call.kfunc(0), mov64.imm(0, 0), exit()]);
    assert.deepEqual(r.refusal, {
      pc: 0,
      code: 'KFUNC_NOT_ELIMINATED',
      errno: 22,
      message: 'invalid kernel function call not eliminated in verifier pass',
    });
  });

  it('accepts a kfunc call with btf_id 0 behind `if (weak_kfunc)`, which the loader resolved to 0', () => {
    const r = walk([ldImm64(1, 0n), jmp.jeq.imm(1, 0, 1), call.kfunc(0), mov64.imm(0, 0), exit()]);
    assert.equal(r.refusal, null);
  });

  it("walks into a bpf-to-bpf call with the caller's arguments and returns its r0", () => {
    const r = walk([mov64.imm(1, 7), call.bpf(2), ldx.w(0, 0, 0), exit(), mov64.reg(0, 1), exit()]);
    assert.equal(r.refusal?.pc, 2, JSON.stringify(r.refusal));
    assert.equal(r.refusal?.message, "R0 invalid mem access 'scalar'");
  });

  it('ends a loop it cannot count by merging states, and gives up past its budget', () => {
    const loop = [ldx.w(2, 1, 0), mov64.imm(0, 0), alu64.add.imm(0, 1), jmp.jlt.reg(0, 2, -2), exit()];
    assert.equal(walk(loop).complete, true);
    assert.equal(walkPaths(loop, { gpl: true, gplOnlyHelpers: GPL_ONLY_HELPERS, maxHelper: 211, budget: 3 }).complete, false);
  });

  it('keeps a loop counter spilled to the stack exact until it widens it, then ends the loop', () => {
    // r2 = *ctx; r3 = 0; loop: r3 += 1; *(fp-8) = r3; r4 = *(fp-8); if r4 != r2 goto loop
    const loop = [
      ldx.w(2, 1, 0),
      mov64.imm(3, 0),
      alu64.add.imm(3, 1),
      stx.dw(10, -8, 3),
      ldx.dw(4, 10, -8),
      jmp.jne.reg(4, 2, -4),
      mov64.imm(0, 0),
      exit(),
    ];
    const r = walk(loop);
    assert.equal(r.refusal, null);
    assert.ok(r.complete);
    assert.ok(r.processed > 16 * 4, `the loop body ran with exact counters before merging (${r.processed} instructions)`);
  });

  it('walks a program it is given already decoded (`compiled`) exactly as from its bytes', () => {
    const prog = [mov64.imm(1, 64), st.dw(10, -8, 0), ldx.dw(1, 10, -8), ldx.w(0, 1, 0), exit()];
    const bytes = encodeInsns(prog, 'le');
    const opts = { gpl: true, gplOnlyHelpers: GPL_ONLY_HELPERS, maxHelper: 211 };
    assert.deepEqual(walkPaths(bytes, { ...opts, compiled: loadProgram(bytes, 'le') }), walkPaths(bytes, opts));
    assert.equal(walkPaths(bytes, opts).refusal?.message, "R1 invalid mem access 'scalar'");
  });
});
