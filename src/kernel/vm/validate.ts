/**
 * Load-time pass: decoded instructions -> a `Program` the interpreter can run
 * without re-checking structure. Table-driven: one check per instruction kind.
 *
 * What it checks: every instruction is defined (isa `validateInsn`), no
 * instruction writes r10, every jump and bpf-to-bpf call lands on an
 * instruction inside the program (not on the second slot of an ld_imm64), and
 * the program is not empty.
 *
 * What it does not check (left to run time, like the kernel's interpreter
 * would not have to because its verifier does): that registers are
 * initialised, that memory accesses are in bounds, that helper ids exist
 * (helpers are looked up at call time), termination, or the call depth.
 */

// Direct modules, not the isa barrel, so `bpfsign vm` loads only what it runs.
import { classify } from '../../loader/isa/classify.js';
import { OP_EXIT, OP_LD_IMM64 } from '../../loader/isa/opcode.js';
import type { Insn, InsnView } from '../../loader/isa/index.js';
import { VmError } from '../errors.js';

/** A validated program: decoded views plus tables the interpreter indexes by instruction number. */
export interface Program {
  readonly insns: readonly Insn[];
  readonly views: readonly InsnView[];
  /** Instruction number -> slot number (the pc that jump offsets and error messages use). */
  readonly pcOf: Int32Array;
  /** Instruction number -> instruction number a jump or bpf-to-bpf call goes to; -1 otherwise. */
  readonly target: Int32Array;
  /** Instruction number -> its immediate as a u64 operand (sign-extended for 64-bit ops, u32 for 32-bit ops). */
  readonly k: readonly bigint[];
  /** Total slots (ld_imm64 counts two). */
  readonly slots: number;
}

type Ctx = { slotToInsn: Int32Array; pc: number; frameWrites: boolean };
type Check<K extends InsnView['kind']> = (v: Extract<InsnView, { kind: K }>, c: Ctx) => string | null;

function landing(c: Ctx, delta: number, what: string): string | null {
  const dest = c.pc + 1 + delta;
  if (dest < 0 || dest >= c.slotToInsn.length) return `${what} target pc ${dest} is outside the program (0..${c.slotToInsn.length - 1})`;
  if (c.slotToInsn[dest]! < 0) return `${what} target pc ${dest} is the second slot of an ld_imm64`;
  return null;
}

/**
 * The register an instruction writes when that is r10 (the frame pointer), else null: alu,
 * neg, endian, ld_imm64 and loads write dst; a fetching atomic (and xchg) writes src,
 * load-acquire writes dst. cmpxchg writes r0.
 */
export function frameWriteOf(v: InsnView): 10 | null {
  switch (v.kind) {
    case 'alu':
    case 'neg':
    case 'endian':
    case 'ldimm64':
    case 'load':
      return v.dst === 10 ? 10 : null;
    case 'atomic':
      if (v.op === 'load_acquire') return v.dst === 10 ? 10 : null;
      if (v.op === 'cmpxchg') return null;
      return (v.fetch || v.op === 'xchg') && v.srcReg === 10 ? 10 : null;
    default:
      return null;
  }
}

const writesR10 = (v: InsnView, c: Ctx): string | null =>
  !c.frameWrites && frameWriteOf(v) !== null ? 'r10 (frame pointer) is read-only' : null;

/** The per-kind checks. Kinds that need none return null. */
const CHECKS: { [K in InsnView['kind']]: Check<K> } = {
  invalid: (v) => v.reason,
  alu: writesR10,
  neg: writesR10,
  endian: writesR10,
  jmp: (v, c) => landing(c, v.off, 'jump'),
  ja: (v, c) => landing(c, v.offset, 'jump'),
  call: (v, c) => (v.target === 'bpf' ? landing(c, v.imm, 'call') : null),
  callx: () => null,
  exit: () => null,
  ldimm64: writesR10,
  ldabs: () => null,
  ldind: () => null,
  load: writesR10,
  store: () => null,
  atomic: writesR10,
};

export interface CompileOptions {
  /**
   * Let instructions that write r10 through (default: refused). Only for the verifier model's
   * path walk, which refuses such a write where it reaches it, as the verifier does; the
   * interpreter must never run such a program.
   */
  frameWrites?: 'allow';
}

function immOperand(v: InsnView, imm: number): bigint {
  const wide = (v.kind === 'alu' && v.is64) || (v.kind === 'jmp' && !v.is32) || v.kind === 'store';
  return wide ? BigInt.asUintN(64, BigInt(imm)) : BigInt(imm >>> 0);
}

/**
 * Validates `insns` and builds the interpreter's tables. Throws
 * VM_INVALID_PROGRAM naming the pc, opcode and reason of the first bad
 * instruction.
 */
export function compile(insns: readonly Insn[], opts: CompileOptions = {}): Program {
  if (insns.length === 0) throw new VmError('VM_INVALID_PROGRAM', 'program has no instructions');
  const n = insns.length;
  const pcOf = new Int32Array(n);
  let slots = 0;
  for (let i = 0; i < n; i++) {
    pcOf[i] = slots;
    slots += insns[i]!.opcode === OP_LD_IMM64 ? 2 : 1;
  }
  const slotToInsn = new Int32Array(slots).fill(-1);
  for (let i = 0; i < n; i++) slotToInsn[pcOf[i]!] = i;

  const views: InsnView[] = new Array(n);
  const target = new Int32Array(n).fill(-1);
  const k: bigint[] = new Array(n);
  const c: Ctx = { slotToInsn, pc: 0, frameWrites: opts.frameWrites === 'allow' };
  for (let i = 0; i < n; i++) {
    const insn = insns[i]!;
    // The kernel does not check exit's (reserved) off field: an exit with off != 0 runs as exit.
    const v = classify(insn.opcode === OP_EXIT && insn.off !== 0 ? { ...insn, off: 0 } : insn);
    c.pc = pcOf[i]!;
    const reason = (CHECKS[v.kind] as Check<InsnView['kind']>)(v, c);
    if (reason !== null) {
      throw new VmError('VM_INVALID_PROGRAM', `pc ${c.pc} (opcode 0x${insn.opcode.toString(16).padStart(2, '0')}): ${reason}`, {
        pc: c.pc,
        opcode: insn.opcode,
        got: reason,
      });
    }
    if (v.kind === 'jmp') target[i] = slotToInsn[c.pc + 1 + v.off]!;
    else if (v.kind === 'ja') target[i] = slotToInsn[c.pc + 1 + v.offset]!;
    else if (v.kind === 'call' && v.target === 'bpf') target[i] = slotToInsn[c.pc + 1 + v.imm]!;
    views[i] = v;
    k[i] = immOperand(v, insn.imm);
  }
  return { insns, views, pcOf, target, k, slots };
}
