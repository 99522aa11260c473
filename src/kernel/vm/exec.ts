/**
 * The interpreter: one loop, one `switch` over the decoded instruction kinds.
 *
 * State: eleven u64 registers in a BigUint64Array (stores wrap mod 2^64), a
 * 512-byte stack region per call frame (r10 points one past its end), and the
 * caller's `Memory` with its regions. Bounded: the pc (falling off the end
 * faults), the number of executed instructions (budget), the call depth and
 * every memory access. Every fault is a VmError naming the pc and opcode.
 *
 * bpf-to-bpf calls save r6-r9 and r10 in the frame and restore them on exit,
 * so callees see their own stack and callers keep their callee-saved
 * registers; r0 carries the result back and r1-r5 are left as the callee left
 * them (the kernel's verifier forbids reading them). Helper calls leave r1-r5
 * unchanged too.
 */

import type { Insn } from '../../loader/isa/index.js';
import { VmError, isVmError } from '../errors.js';
import { alu32, alu64, condition, endian } from './alu.js';
import { callHelper, type HelperTable } from './helpers.js';
import { Memory, type Region } from './memory.js';
import type { Program } from './validate.js';

export const DEFAULT_BUDGET = 1_000_000;
export const DEFAULT_STACK_SIZE = 512;
/** Frames including the main program's (the kernel's MAX_CALL_FRAMES). */
export const DEFAULT_MAX_CALL_DEPTH = 8;

export interface RunOptions {
  /** Regions the program may touch; a fresh little-endian Memory when omitted. Stacks are added and removed by `run`. */
  memory?: Memory;
  /** Initial r1..r5 (missing ones are 0). */
  args?: readonly bigint[];
  helpers?: HelperTable;
  kfuncs?: HelperTable;
  /** Maximum instructions executed (default 1,000,000). */
  budget?: number;
  /** Maximum frames, main program included (default 8). */
  maxCallDepth?: number;
  stackSize?: number;
  /** The packet that legacy LD_ABS/LD_IND read (big-endian, as the kernel's skb loads). */
  packet?: Uint8Array;
  /** Value of an ld_imm64 whose src is a BPF_PSEUDO_* kind (map fd, map value, BTF id, func, ...). */
  ldImm64?: (pseudo: number, insn: Insn, pc: number) => bigint;
  /**
   * Reports every read of `region`, in execution order: by a load instruction (its pc) or by a
   * helper or kfunc reading it through the Memory (the call's pc). Offsets are into the region.
   */
  watchReads?: { region: Region; onRead: (offset: number, size: number, pc: number, via: 'insn' | 'helper') => void };
}

export interface RunResult {
  r0: bigint;
  /** Instructions executed. */
  steps: number;
  /** Registers at exit (a copy). */
  regs: BigUint64Array;
  /** The main frame's stack at exit (a copy). */
  stack: Uint8Array;
  /** 'exit', or 'packet' when a legacy packet load was out of bounds and ended the program with r0 = 0. */
  ended: 'exit' | 'packet';
}

interface Frame {
  ret: number;
  r6: bigint;
  r7: bigint;
  r8: bigint;
  r9: bigint;
  fp: bigint;
}

const M32 = 0xffffffffn;
const SIZE_BIGINT_BITS = [0, 8, 16, 0, 32, 0, 0, 0, 64] as const;

function packetLoad(packet: Uint8Array | undefined, offset: number, size: number): bigint | null {
  if (packet === undefined) throw new VmError('VM_UNSUPPORTED', 'legacy packet load without a packet');
  if (offset < 0 || offset + size > packet.length) return null;
  let v = 0;
  for (let j = 0; j < size; j++) v = v * 256 + packet[offset + j]!;
  return BigInt(v);
}

/** Runs a compiled program to its final exit. Throws VmError on any fault. */
export function run(prog: Program, opts: RunOptions = {}): RunResult {
  const mem = opts.memory ?? new Memory('le');
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const maxDepth = opts.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH;
  const stackSize = opts.stackSize ?? DEFAULT_STACK_SIZE;
  const { views, target, k, insns, pcOf } = prog;
  const n = views.length;
  const regs = new BigUint64Array(11);
  (opts.args ?? []).slice(0, 5).forEach((a, j) => (regs[j + 1] = BigInt.asUintN(64, a)));
  const stacks: Region[] = [];
  const stackAt = (depth: number): Region => {
    let s = stacks[depth];
    if (s === undefined) {
      s = mem.map('stack', new Uint8Array(stackSize), { name: `stack[${depth}]` });
      stacks[depth] = s;
    } else {
      s.bytes.fill(0);
    }
    return s;
  };
  regs[10] = stackAt(0).base + BigInt(stackSize);
  const frames: Frame[] = [];
  let ended: RunResult['ended'] = 'exit';
  let steps = 0;
  let i = 0;
  const env = () => ({ memory: mem, pc: pcOf[i]!, depth: frames.length + 1 });
  const watch = opts.watchReads ?? null;
  const watchHi = watch ? watch.region.base >> 32n : -1n;
  const loadAt = (addr: bigint, size: number): bigint => {
    const x = mem.load(addr, size);
    if (watch !== null && addr >> 32n === watchHi) watch.onRead(Number(addr & M32), size, pcOf[i]!, 'insn');
    return x;
  };
  const call = (table: HelperTable | undefined, id: number, what: 'helper' | 'kfunc'): bigint => {
    if (watch === null) return callHelper(table, id, what, regs, env());
    const pc = pcOf[i]!;
    mem.watch(watch.region, (offset, size) => watch.onRead(offset, size, pc, 'helper'));
    try {
      return callHelper(table, id, what, regs, env());
    } finally {
      mem.unwatch();
    }
  };

  try {
    loop: for (;;) {
      if (i >= n) throw new VmError('VM_PC', `execution ran past the last instruction (pc ${prog.slots})`, { pc: prog.slots });
      if (++steps > budget) throw new VmError('VM_BUDGET', `instruction budget of ${budget} exhausted`, { got: steps, want: budget });
      const v = views[i]!;
      switch (v.kind) {
        case 'alu': {
          const b = v.srcReg !== undefined ? regs[v.srcReg]! : k[i]!;
          regs[v.dst] = v.is64 ? alu64(v.op, regs[v.dst]!, b, v.signed, v.movsx) : alu32(v.op, regs[v.dst]!, b, v.signed, v.movsx);
          i++;
          break;
        }
        case 'neg':
          regs[v.dst] = v.is64 ? -regs[v.dst]! : -regs[v.dst]! & M32;
          i++;
          break;
        case 'endian':
          regs[v.dst] = endian(regs[v.dst]!, v.bits, v.to, mem.littleEndian);
          i++;
          break;
        case 'jmp': {
          const b = v.srcReg !== undefined ? regs[v.srcReg]! : k[i]!;
          i = condition(v.op, regs[v.dst]!, b, v.is32) ? target[i]! : i + 1;
          break;
        }
        case 'ja':
          i = target[i]!;
          break;
        case 'call':
          if (v.target === 'bpf') {
            if (frames.length + 1 >= maxDepth)
              throw new VmError('VM_CALL_DEPTH', `call depth would exceed ${maxDepth} frames`, { got: frames.length + 2, want: maxDepth });
            frames.push({ ret: i + 1, r6: regs[6]!, r7: regs[7]!, r8: regs[8]!, r9: regs[9]!, fp: regs[10]! });
            regs[10] = stackAt(frames.length).base + BigInt(stackSize);
            i = target[i]!;
          } else {
            const kf = v.target === 'kfunc';
            regs[0] = call(kf ? opts.kfuncs : opts.helpers, v.imm, kf ? 'kfunc' : 'helper');
            i++;
          }
          break;
        case 'callx':
          regs[0] = call(opts.helpers, Number(regs[v.reg]! & M32), 'helper');
          i++;
          break;
        case 'exit': {
          const f = frames.pop();
          if (f === undefined) break loop;
          regs[6] = f.r6;
          regs[7] = f.r7;
          regs[8] = f.r8;
          regs[9] = f.r9;
          regs[10] = f.fp;
          i = f.ret;
          break;
        }
        case 'ldimm64':
          if (v.pseudo === 0) regs[v.dst] = v.value;
          else if (opts.ldImm64) regs[v.dst] = opts.ldImm64(v.pseudo, insns[i]!, pcOf[i]!);
          else throw new VmError('VM_UNSUPPORTED', `ld_imm64 with pseudo src ${v.pseudo} and no resolver`, { got: v.pseudo });
          i++;
          break;
        case 'ldabs':
        case 'ldind': {
          const off = v.kind === 'ldabs' ? v.imm : (Number(regs[v.srcReg]! & M32) + v.imm) | 0;
          const got = packetLoad(opts.packet, off, v.size);
          if (got === null) {
            regs[0] = 0n;
            ended = 'packet';
            break loop;
          }
          regs[0] = got;
          i++;
          break;
        }
        case 'load': {
          const x = loadAt(BigInt.asUintN(64, regs[v.srcReg]! + BigInt(v.off)), v.size);
          regs[v.dst] = v.signed ? BigInt.asIntN(SIZE_BIGINT_BITS[v.size], x) : x;
          i++;
          break;
        }
        case 'store':
          mem.store(BigInt.asUintN(64, regs[v.dst]! + BigInt(v.off)), v.size, v.srcReg !== undefined ? regs[v.srcReg]! : k[i]!);
          i++;
          break;
        case 'atomic':
          if (v.op === 'load_acquire') regs[v.dst] = loadAt(BigInt.asUintN(64, regs[v.srcReg]! + BigInt(v.off)), v.size);
          else atomic(mem, regs, v);
          i++;
          break;
        case 'invalid':
          throw new VmError('VM_INVALID_PROGRAM', v.reason);
      }
    }
  } catch (e) {
    if (isVmError(e)) {
      if (i >= n) throw e;
      throw e.at(pcOf[i]!, insns[i]!.opcode);
    }
    throw e;
  } finally {
    for (const s of stacks) mem.unmap(s);
  }
  return { r0: regs[0]!, steps, regs: regs.slice(), stack: stacks[0]!.bytes.slice(), ended };
}

type AtomicView = Extract<Program['views'][number], { kind: 'atomic' }>;

function atomic(mem: Memory, regs: BigUint64Array, v: AtomicView): void {
  if (v.op === 'load_acquire') {
    regs[v.dst] = mem.load(BigInt.asUintN(64, regs[v.srcReg]! + BigInt(v.off)), v.size);
    return;
  }
  const addr = BigInt.asUintN(64, regs[v.dst]! + BigInt(v.off));
  if (v.op === 'store_release') {
    mem.store(addr, v.size, regs[v.srcReg]!);
    return;
  }
  if (addr % BigInt(v.size) !== 0n) {
    throw new VmError('VM_MISALIGNED', `atomic ${v.op} of ${v.size} bytes at 0x${addr.toString(16)} is not aligned`, {
      address: addr,
      size: v.size,
    });
  }
  const mask = v.size === 4 ? M32 : 0xffffffffffffffffn;
  mem.locate(addr, v.size, 'store');
  const old = mem.load(addr, v.size);
  const src = regs[v.srcReg]! & mask;
  switch (v.op) {
    case 'add':
      mem.store(addr, v.size, old + src);
      break;
    case 'or':
      mem.store(addr, v.size, old | src);
      break;
    case 'and':
      mem.store(addr, v.size, old & src);
      break;
    case 'xor':
      mem.store(addr, v.size, old ^ src);
      break;
    case 'xchg':
      mem.store(addr, v.size, src);
      regs[v.srcReg] = old;
      return;
    case 'cmpxchg':
      if (old === (regs[0]! & mask)) mem.store(addr, v.size, src);
      regs[0] = old;
      return;
  }
  if (v.fetch) regs[v.srcReg] = old;
}
