/**
 * Watching a region's reads (RunOptions.watchReads, what replay's ctxReads come from): loads by
 * instructions at their pc, reads by helpers at the call's pc, in execution order; stores and
 * reads of other regions are not reported.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Memory, loadProgram, run, type Helper } from '../../../src/kernel/vm/index.js';

function insn(code: number, dst: number, src: number, off: number, imm: number): number[] {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  b[0] = code;
  b[1] = (src << 4) | dst;
  dv.setInt16(2, off, true);
  dv.setInt32(4, imm, true);
  return [...b];
}

describe('watching the reads of a region', () => {
  it('reports instruction loads and helper reads with their pc, and nothing else', () => {
    const prog = new Uint8Array([
      ...insn(0x61, 2, 1, 4, 0), // r2 = *(u32 *)(r1 + 4)
      ...insn(0x62, 1, 0, 8, 7), // *(u32 *)(r1 + 8) = 7: a store, not reported
      ...insn(0x79, 3, 10, -8, 0), // r3 = *(u64 *)(r10 - 8): another region
      ...insn(0x85, 0, 0, 0, 1), // call 1: reads 8 bytes at r1
      ...insn(0x71, 4, 1, 12, 0), // r4 = *(u8 *)(r1 + 12)
      ...insn(0x95, 0, 0, 0, 0), // exit
    ]);
    const mem = new Memory('le');
    const ctx = mem.map('ctx', new Uint8Array(16), { name: 'ctx' });
    const reads: unknown[] = [];
    const readCtx: Helper = (r1, _r2, _r3, _r4, _r5, env) => {
      env.memory.read(r1, 8);
      return 0n;
    };
    run(loadProgram(prog), {
      memory: mem,
      args: [ctx.base],
      helpers: new Map([[1, readCtx]]),
      watchReads: { region: ctx, onRead: (offset, size, pc, via) => reads.push({ offset, size, pc, via }) },
    });
    assert.deepEqual(reads, [
      { offset: 4, size: 4, pc: 0, via: 'insn' },
      { offset: 0, size: 8, pc: 3, via: 'helper' },
      { offset: 12, size: 1, pc: 4, via: 'insn' },
    ]);
    // The watch ends with the call: a later read through the Memory is not reported.
    mem.read(ctx.base, 4);
    assert.equal(reads.length, 3);
  });
});
