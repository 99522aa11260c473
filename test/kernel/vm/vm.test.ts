import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, encodeInsns, insn, ldImm64Insn, type Insn } from '../../../src/loader/isa/index.js';
import { VmError, isVmError } from '../../../src/kernel/errors.js';
import { Memory, compile, execute, loadProgram, regionBase, run, type Helper } from '../../../src/kernel/vm/index.js';
import { runVm } from '../../../src/cli/vm.js';

const asm = (text: string): Insn[] => assemble(text);

function fault(fn: () => unknown): VmError {
  try {
    fn();
  } catch (e) {
    if (isVmError(e)) return e;
    throw e;
  }
  assert.fail('expected a VmError');
}

describe('loadProgram', () => {
  describe('when the bytes are not a whole number of instructions', () => {
    it('throws VM_INVALID_PROGRAM', () => {
      assert.equal(fault(() => loadProgram(new Uint8Array(12))).code, 'VM_INVALID_PROGRAM');
    });
  });
  describe('when an opcode is undefined', () => {
    it('throws VM_INVALID_PROGRAM naming the pc and opcode', () => {
      const e = fault(() => compile([insn(0x07, 0, 0, 0, 1), insn(0xff, 0, 0, 0, 0)]));
      assert.equal(e.code, 'VM_INVALID_PROGRAM');
      assert.equal(e.details.pc, 1);
      assert.equal(e.details.opcode, 0xff);
    });
  });
  describe('when a jump lands on the second slot of an ld_imm64', () => {
    it('throws VM_INVALID_PROGRAM', () => {
      const e = fault(() => compile([insn(0x05, 0, 0, 1, 0), ldImm64Insn(0, 1n), insn(0x95, 0, 0, 0, 0)]));
      assert.match(e.message, /second slot of an ld_imm64/);
    });
  });
  describe('when there are no instructions', () => {
    it('throws VM_INVALID_PROGRAM', () => {
      assert.equal(fault(() => compile([])).code, 'VM_INVALID_PROGRAM');
    });
  });
});

describe('run', () => {
  describe('with a read-only region', () => {
    it('loads from it and faults VM_READ_ONLY on a store, naming pc, opcode and region', () => {
      const memory = new Memory();
      const ro = memory.map('kernel', Uint8Array.of(1, 2, 3, 4), { name: 'kobj' });
      const prog = loadProgram(asm('r0 = *(u8 *)(r1 + 3)\n*(u8 *)(r1 + 0) = r0\nexit'));
      const e = fault(() => run(prog, { memory, args: [ro.base] }));
      assert.equal(e.code, 'VM_READ_ONLY');
      assert.equal(e.details.pc, 1);
      assert.equal(e.details.opcode, 0x73);
      assert.equal(e.details.region, 'kobj');
    });
  });

  describe('with an unmapped region', () => {
    it('faults VM_MEMORY through a stale pointer', () => {
      const memory = new Memory();
      const r = memory.map('map_value', new Uint8Array(8));
      memory.unmap(r);
      assert.equal(fault(() => execute(asm('r0 = *(u8 *)(r1 + 0)\nexit'), { memory, args: [r.base] })).code, 'VM_MEMORY');
    });
  });

  describe('with helpers', () => {
    it('calls them with r1-r5 and the memory, and looks them up at call time', () => {
      const seen: bigint[] = [];
      const sum: Helper = (a, b, c, d, e, env) => {
        seen.push(BigInt(env.pc), BigInt(env.depth));
        return a + b + c + d + e + env.memory.load(a, 1);
      };
      const helpers = new Map<number, Helper>();
      const memory = new Memory();
      const data = memory.map('data', Uint8Array.of(7));
      const prog = loadProgram(asm('r2 = 1\nr3 = 2\nr4 = 3\nr5 = 4\ncall 99\nexit'));
      assert.equal(fault(() => run(prog, { memory, args: [data.base], helpers })).code, 'VM_UNKNOWN_HELPER');
      helpers.set(99, sum);
      assert.equal(run(prog, { memory, args: [data.base], helpers }).r0, data.base + 10n + 7n);
      assert.deepEqual(seen, [4n, 1n]);
    });

    it('wraps a helper that throws something else as VM_HELPER', () => {
      const helpers = new Map<number, Helper>([
        [
          1,
          () => {
            throw new Error('boom');
          },
        ],
      ]);
      const e = fault(() => execute(asm('call 1\nexit'), { helpers }));
      assert.equal(e.code, 'VM_HELPER');
      assert.match(e.message, /^pc 0 \(opcode 0x85\): helper 1 failed: boom$/);
    });

    it('calls a helper by the id in a register with callx', () => {
      const helpers = new Map<number, Helper>([[5, () => 55n]]);
      assert.equal(execute([...asm('r2 = 5'), insn(0x8d, 2, 0, 0, 0), ...asm('exit')], { helpers }).r0, 55n);
    });

    it('calls kfuncs from their own table', () => {
      const kfuncs = new Map<number, Helper>([[1234, (a) => a * 2n]]);
      assert.equal(execute(asm('r1 = 21\ncall kfunc 1234\nexit'), { kfuncs }).r0, 42n);
      assert.equal(fault(() => execute(asm('call kfunc 1234\nexit'))).code, 'VM_UNKNOWN_HELPER');
    });
  });

  describe('with an ld_imm64 resolver', () => {
    it('gives pseudo ld_imm64 the resolved value', () => {
      const got = execute(asm('ld_pseudo r0, 2, 0x700000003\nexit'), { ldImm64: (pseudo, i) => BigInt(pseudo) * 1000n + BigInt(i.imm) });
      assert.equal(got.r0, 2003n);
    });
  });

  describe('with limits', () => {
    it('stops after `budget` instructions', () => {
      assert.equal(execute(asm('r0 += 1\nr0 += 1\nr0 += 1\nexit'), { budget: 4 }).steps, 4);
      assert.equal(fault(() => execute(asm('r0 += 1\nr0 += 1\nr0 += 1\nexit'), { budget: 3 })).code, 'VM_BUDGET');
    });

    it('allows maxCallDepth frames and faults on one more', () => {
      // f(n) = n == 0 ? 0 : 1 + f(n - 1), entered with r1 = depth - 1
      const prog = loadProgram(asm('call pc+1\nexit\nr0 = 0\nif r1 == 0 goto +4\nr1 -= 1\ncall pc-4\nr0 += 1\nexit\nexit'));
      assert.equal(run(prog, { args: [1n], maxCallDepth: 3 }).r0, 1n);
      assert.equal(fault(() => run(prog, { args: [2n], maxCallDepth: 3 })).code, 'VM_CALL_DEPTH');
    });
  });

  describe('load-acquire and store-release', () => {
    it('behave as a load and a store', () => {
      const p = [
        ...asm('r1 = 0x1122334455667788 ll\nr2 = r10\nr2 += -8'),
        insn(0xdb, 2, 1, 0, 0x110),
        insn(0xc3, 0, 2, 0, 0x100),
        ...asm('exit'),
      ];
      assert.equal(execute(p).r0, 0x55667788n);
    });
  });

  describe('on a big-endian memory', () => {
    it('loads big-endian and swaps on le, not be', () => {
      const memory = new Memory('be');
      const m = memory.map('memory', Uint8Array.of(0x12, 0x34));
      assert.equal(execute(asm('r0 = *(u16 *)(r1 + 0)\nexit'), { memory, args: [m.base] }).r0, 0x1234n);
      assert.equal(execute(asm('r0 = 0x1234\nr0 = be16 r0\nexit'), { memory: new Memory('be') }).r0, 0x1234n);
      assert.equal(execute(asm('r0 = 0x1234\nr0 = le16 r0\nexit'), { memory: new Memory('be') }).r0, 0x3412n);
    });
  });

  it('keeps separate stacks per run and unmaps them afterwards', () => {
    const memory = new Memory();
    const r = execute(asm('r0 = r10\nexit'), { memory });
    assert.equal(r.r0, regionBase(0) + 512n);
    assert.equal(memory.list().length, 0);
  });
});

describe('Memory', () => {
  it('reads a NUL-terminated string and faults when the NUL is missing', () => {
    const memory = new Memory();
    const r = memory.map('data', new TextEncoder().encode('hi\0x'));
    assert.equal(memory.readCString(r.base, 16), 'hi');
    assert.equal(fault(() => memory.readCString(r.base + 3n, 16)).code, 'VM_MEMORY');
  });
});

describe('runVm (bpfsign vm)', () => {
  const io = () => {
    const o = { out: '', err: '' };
    return { o, io: (stdin: string) => ({ stdin, stdout: (s: string) => (o.out += s), stderr: (s: string) => (o.err += s) }) };
  };
  const hex = (insns: Insn[]) => Buffer.from(encodeInsns(insns, 'le')).toString('hex');

  it('prints r0 in lowercase hex without 0x', () => {
    const { o, io: mk } = io();
    assert.equal(runVm([], mk(hex(asm('r0 = 0xABCDEF ll\nexit')))), 0);
    assert.equal(o.out, 'abcdef\n');
  });

  it('accepts the memory as the first argument and reads plugin options after it', () => {
    const { o, io: mk } = io();
    assert.equal(runVm(['01 02 03', '--budget', '10'], mk(hex(asm('r0 = *(u8 *)(r1 + 2)\nr0 += r2\nexit')))), 0);
    assert.equal(o.out, '6\n');
  });

  it('rejects odd hex and unknown options with status 2', () => {
    const a = io();
    assert.equal(runVm([], a.io('b70')), 2);
    assert.match(a.o.err, /odd number of hex digits/);
    const b = io();
    assert.equal(runVm(['--jit'], b.io('9500000000000000')), 2);
    assert.match(b.o.err, /unknown argument '--jit'/);
  });
});
