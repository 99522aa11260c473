/**
 * Random BPF programs the kernel verifier accepts, for the VM differential test.
 *
 * Families:
 * - 'state': r0-r9 = random 64-bit values, 64 bytes of stack initialised, then a random
 *   body (ALU/ALU64 incl. sdiv/smod/movsx, byte swaps, stack loads/stores of every width
 *   incl. sign-extending loads, atomics, conditional forward jumps and if/else diamonds
 *   closed by goto or gotol). The kernel's copy (XDP) dumps r0-r9 and the 64 stack bytes
 *   into the packet; the VM's copy ends in `exit` and the test reads its final state.
 * - 'calls': the same with a bpf-to-bpf call in the middle; the callee gets a pointer to
 *   the caller's stack in r5 and works on its own stack too; after the call r1-r5 are
 *   re-initialised and the caller's r6-r9 must have survived.
 * - 'legacy': a socket filter doing LD_ABS/LD_IND on the packet (sometimes out of bounds,
 *   which ends the program with 0) and folding the loaded values into r0.
 */
import {
  alu32,
  alu64,
  atomic,
  call,
  endian,
  exit,
  gotol,
  ja,
  jmp,
  jmp32,
  ldAbs,
  ldImm64,
  ldInd,
  ldx,
  ldxsx,
  mov64,
  st,
  stx,
  type Insn,
} from '../../../src/loader/isa/index.js';

export type Rand = () => number;

export interface GenProgram {
  family: 'state' | 'calls' | 'legacy';
  /** What the kernel loads and runs. */
  kernel: Insn[];
  /** What the VM runs. */
  vm: Insn[];
  /** 1 = XDP (state dump in the packet), 2 = socket filter (retval). */
  kind: 1 | 2;
  /** data_in for BPF_PROG_TEST_RUN. */
  packet: Uint8Array;
}

/** Values that hit the edges of signed/unsigned 32- and 64-bit arithmetic. */
const EDGE64 = [
  0n,
  1n,
  2n,
  0xffffffffffffffffn,
  0x8000000000000000n,
  0x7fffffffffffffffn,
  0x80000000n,
  0xffffffff80000000n,
  0x7fffffffn,
  0xffffffffn,
  0x100000000n,
  0xfffffffen,
  63n,
  64n,
  31n,
  32n,
];
const EDGE32 = [0, 1, -1, 2, -2, 0x7fffffff, -0x80000000, 31, 32, 63, 64, 0xffff, 0x8000, 0x80];

const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

function rand64(r: Rand): bigint {
  if (r() < 0.4) return pick(r, EDGE64);
  const hi = BigInt(int(r, 0x100000000));
  const lo = BigInt(int(r, 0x100000000));
  return r() < 0.3 ? lo : (hi << 32n) | lo;
}
function rand32(r: Rand): number {
  if (r() < 0.4) return pick(r, EDGE32);
  return r() < 0.5 ? int(r, 256) - 128 : int(r, 0x100000000) | 0;
}

/** Where a body may load and store: base register and the byte range [lo, hi) relative to it. */
interface Mem {
  base: number;
  lo: number;
  hi: number;
}
interface BodyOpts {
  regs: number; // registers r0..regs-1 may be read and written
  mems: Mem[];
}

type Unit = Insn[];

const ALU_NAMES = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'lsh', 'rsh', 'arsh', 'xor', 'mov'] as const;
const JMP_NAMES = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'] as const;
const SIZES = ['b', 'h', 'w', 'dw'] as const;
const SIZE_BYTES = { b: 1, h: 2, w: 4, dw: 8 } as const;

function aluUnit(r: Rand, o: BodyOpts): Unit {
  const dst = int(r, o.regs);
  const is64 = r() < 0.5;
  const cls = is64 ? alu64 : alu32;
  const roll = r();
  if (roll < 0.05) return [cls.neg(dst)];
  if (roll < 0.12) return [cls.movsx(dst, int(r, o.regs), pick(r, is64 ? ([8, 16, 32] as const) : ([8, 16] as const)))];
  const name = pick(r, ALU_NAMES);
  if (r() < 0.5) return [cls[name].reg(dst, int(r, o.regs))];
  let imm = rand32(r);
  if (name === 'lsh' || name === 'rsh' || name === 'arsh') imm = int(r, is64 ? 64 : 32);
  if ((name === 'div' || name === 'sdiv' || name === 'mod' || name === 'smod') && imm === 0) imm = -1;
  return [cls[name].imm(dst, imm)];
}

function memUnit(r: Rand, o: BodyOpts): Unit {
  const m = pick(r, o.mems);
  const roll = r();
  const size = pick(r, SIZES);
  const bytes = SIZE_BYTES[size];
  const slots = (m.hi - m.lo) / bytes;
  const off = m.lo + int(r, slots) * bytes;
  const reg = int(r, o.regs);
  if (roll < 0.3) return [ldx[size](reg, m.base, off)];
  if (roll < 0.45 && size !== 'dw') return [ldxsx[size](reg, m.base, off)];
  if (roll < 0.65) return [stx[size](m.base, off, reg)];
  if (roll < 0.75) return [st[size](m.base, off, rand32(r))];
  // atomics: W or DW, aligned
  const wide = r() < 0.5;
  const asize = wide ? 'dw' : 'w';
  const aoff = m.lo + int(r, (m.hi - m.lo) / (wide ? 8 : 4)) * (wide ? 8 : 4);
  const op = pick(r, ['add', 'or', 'and', 'xor', 'fetchAdd', 'fetchOr', 'fetchAnd', 'fetchXor', 'xchg', 'cmpxchg'] as const);
  const a = atomic[op][asize](m.base, aoff, reg);
  // Kernel 6.18 (x86) leaves r0's upper half after a successful 32-bit cmpxchg when the
  // verifier pruned the path that reads it (no zero-extension is patched in); an explicit
  // `w0 = w0` keeps the programs on defined ground. The edge-case test shows the divergence.
  return op === 'cmpxchg' && !wide ? [a, alu32.mov.reg(0, 0)] : [a];
}

function simpleUnit(r: Rand, o: BodyOpts): Unit {
  const roll = r();
  if (roll < 0.5) return aluUnit(r, o);
  if (roll < 0.58) {
    const dst = int(r, o.regs);
    const bits = pick(r, [16, 32, 64] as const);
    return [pick(r, [endian.le, endian.be, endian.bswap])(dst, bits)];
  }
  if (roll < 0.62) return [ldImm64(int(r, o.regs), rand64(r))];
  return memUnit(r, o);
}

function cond(r: Rand, o: BodyOpts, off: number): Insn {
  const cls = r() < 0.5 ? jmp : jmp32;
  const name = pick(r, JMP_NAMES);
  const dst = int(r, o.regs);
  return r() < 0.5 ? cls[name].reg(dst, int(r, o.regs), off) : cls[name].imm(dst, rand32(r), off);
}

const slotsOf = (us: Unit[]): number => us.reduce((n, u) => n + u.reduce((m, i) => m + i.width, 0), 0);

/** A body of about `n` units: straight-line code, forward conditional skips and if/else diamonds. */
export function body(r: Rand, n: number, o: BodyOpts): Insn[] {
  const out: Unit[] = [];
  while (out.length < n) {
    const roll = r();
    if (roll < 0.12) {
      const skipped = Array.from({ length: 1 + int(r, 3) }, () => simpleUnit(r, o));
      out.push([cond(r, o, slotsOf(skipped))], ...skipped);
    } else if (roll < 0.2) {
      const then = Array.from({ length: 1 + int(r, 3) }, () => simpleUnit(r, o));
      const other = Array.from({ length: 1 + int(r, 3) }, () => simpleUnit(r, o));
      const skip = slotsOf(other);
      out.push([cond(r, o, slotsOf(then) + 1)], ...then, [r() < 0.5 ? ja(skip) : gotol(skip)], ...other);
    } else {
      out.push(simpleUnit(r, o));
    }
  }
  return out.flat();
}

const FULL: BodyOpts = { regs: 10, mems: [{ base: 10, lo: -64, hi: 0 }] };

function initRegs(r: Rand, regs: number[]): Insn[] {
  return regs.map((j) => ldImm64(j, rand64(r)));
}
/** 64 bytes of stack at r10-64 initialised from registers. */
function initStack(r: Rand, srcRegs: number): Insn[] {
  return Array.from({ length: 8 }, (_, j) => stx.dw(10, -8 - 8 * j, int(r, srcRegs)));
}

const CTX_SLOT = -72;
const REG_SLOT = -80; // r_j spilled at REG_SLOT - 8j
export const DUMP_BYTES = 144; // r0..r9 then stack slots -8..-64

/** Kernel epilogue: spill r0-r9, get packet pointers from the saved ctx, copy state into the packet. */
function dump(): Insn[] {
  const spill = Array.from({ length: 10 }, (_, j) => stx.dw(10, REG_SLOT - 8 * j, j));
  const copy: Insn[] = [];
  for (let j = 0; j < 10; j++) copy.push(ldx.dw(5, 10, REG_SLOT - 8 * j), stx.dw(2, 8 * j, 5));
  for (let j = 0; j < 8; j++) copy.push(ldx.dw(5, 10, -8 - 8 * j), stx.dw(2, 80 + 8 * j, 5));
  return [
    ...spill,
    ldx.dw(1, 10, CTX_SLOT),
    ldx.w(2, 1, 0),
    ldx.w(3, 1, 4),
    mov64.reg(4, 2),
    alu64.add.imm(4, DUMP_BYTES),
    jmp.jgt.reg(4, 3, copy.length + 2),
    ...copy,
    mov64.imm(0, 2),
    exit(),
    mov64.imm(0, 0),
    exit(),
  ];
}

function wrapState(pre: Insn[], post: Insn[] = []): Pick<GenProgram, 'kernel' | 'vm' | 'kind' | 'packet'> {
  return {
    kernel: [stx.dw(10, CTX_SLOT, 1), ...pre, ...dump(), ...post],
    vm: [...pre, exit(), ...post],
    kind: 1,
    packet: new Uint8Array(256),
  };
}

/** The 'state' family around a given body (used by the edge-case test too). */
export function stateProgram(init: Insn[], code: Insn[]): GenProgram {
  const zeroStack = Array.from({ length: 8 }, (_, j) => st.dw(10, -8 - 8 * j, 0));
  return { family: 'state', ...wrapState([...init, ...zeroStack, ...code]) };
}

export function genState(r: Rand): GenProgram {
  const pre = [...initRegs(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), ...initStack(r, 10), ...body(r, 20 + int(r, 40), FULL)];
  return { family: 'state', ...wrapState(pre) };
}

export function genCalls(r: Rand): GenProgram {
  const sub: Insn[] = [
    ldImm64(0, rand64(r)),
    ...initStack(r, 5),
    ...body(r, 10 + int(r, 20), {
      regs: 5,
      mems: [
        { base: 10, lo: -64, hi: 0 },
        { base: 5, lo: 0, hi: 64 },
      ],
    }),
    exit(),
  ];
  const head = [
    ...initRegs(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ...initStack(r, 10),
    ...body(r, 10 + int(r, 20), FULL),
    mov64.reg(5, 10),
    alu64.add.imm(5, -64),
  ];
  const tail = [...initRegs(r, [1, 2, 3, 4, 5]), ...body(r, 10 + int(r, 20), FULL)];
  const layout = (prefix: number, between: Insn[]): Insn[] => {
    // call sits at slot prefix + slots(head); the callee starts after everything in `between`
    const callPc = prefix + slotsOf([head]);
    const subPc = callPc + 1 + slotsOf([tail]) + slotsOf([between]);
    return [...head, call.bpf(subPc - callPc - 1), ...tail];
  };
  const kernelDump = dump();
  const kernel = [stx.dw(10, CTX_SLOT, 1), ...layout(1, kernelDump), ...kernelDump, ...sub];
  const vm = [...layout(0, [exit()]), exit(), ...sub];
  return { family: 'calls', kernel, vm, kind: 1, packet: new Uint8Array(256) };
}

export function genLegacy(r: Rand): GenProgram {
  const len = int(r, 48);
  const packet = new Uint8Array(14 + len);
  for (let j = 0; j < packet.length; j++) packet[j] = int(r, 256);
  const code: Insn[] = [mov64.reg(6, 1), ldImm64(7, rand64(r)), mov64.imm(0, 0)];
  const sizes = ['b', 'h', 'w'] as const;
  for (let n = 1 + int(r, 8); n > 0; n--) {
    const size = pick(r, sizes);
    if (r() < 0.5) {
      code.push(ldAbs[size](int(r, len + 8) - 4));
    } else {
      const reg = 8 + int(r, 2);
      code.push(alu32.mov.imm(reg, int(r, len + 8) - 6), ldInd[size](reg, int(r, 9) - 4));
    }
    code.push(alu64.mul.imm(7, 0x01000193), alu64.xor.reg(7, 0));
  }
  code.push(mov64.reg(0, 7), mov64.reg(1, 7), alu64.rsh.imm(1, 32), alu64.xor.reg(0, 1), exit());
  return { family: 'legacy', kernel: code, vm: code, kind: 2, packet };
}
