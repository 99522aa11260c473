/**
 * Path walk of a loaded program: the part of the verifier's do_check the model
 * follows. Explores the program depth first the way the verifier does
 * (fall-through first, the other side of a branch later), tracking per register
 * and per 8-byte stack slot only what decides a refusal here: not initialised,
 * scalar (with its value when known), pointer into a stack frame, or unknown
 * (anything else: ctx, map, BTF pointers, or a merge of different kinds).
 *
 * A branch whose outcome is decided by known scalars is followed one way only,
 * as the verifier does, so code that CO-RE relocations or unresolved weak
 * externs made dead is never visited. Refusals, each only when certain:
 *   - a memory access through a scalar: "R1 invalid mem access 'scalar'" (EACCES)
 *   - reading a register that holds no value: "R2 !read_ok" (EACCES)
 *   - a stack access outside the frame: "invalid read from stack R10 off=0 size=4"
 *     (EACCES; EINVAL when it starts inside and runs past the top)
 *   - a call of an unknown helper id, including a poisoned CO-RE relocation's
 *     `call 0xbad2310`: "invalid func unknown#195896080" (EINVAL)
 *   - a GPL-only helper from a non-GPL program (EINVAL)
 *   - a reachable kfunc call left with btf_id 0 (an unresolved weak kfunc): refused
 *     after the walk, as fixup_kfunc_call does (EINVAL)
 * Everything the walk does not track reads as unknown and is never refused; the
 * walk gives up (no refusal) past its instruction budget.
 */
import { type Insn } from '../../loader/isa/index.js';
import { isKernelError } from '../errors.js';
import { alu32, alu64, condition, endian, loadProgram, type Program } from '../vm/index.js';

export const EACCES = 13;
export const EINVAL = 22;

export type PathRefusalCode = 'INVALID_MEM_ACCESS' | 'STACK_OUT_OF_BOUNDS' | 'REG_NOT_INIT' | 'UNKNOWN_FUNC' | 'GPL_ONLY_HELPER' | 'KFUNC_NOT_ELIMINATED';

export interface PathRefusal {
  /** Slot index of the instruction (the verifier log's numbering). */
  pc: number;
  code: PathRefusalCode;
  errno: number;
  /** The verifier's message. */
  message: string;
}

export interface PathWalkOptions {
  byteOrder?: 'le' | 'be';
  /** License is GPL-compatible. */
  gpl: boolean;
  /** Helper ids that need a GPL-compatible license. */
  gplOnlyHelpers: ReadonlySet<number>;
  /** Highest helper id the kernel defines. */
  maxHelper: number;
  /** Slot indexes where global functions start (func_info linkage global): verified on their own, calls do not descend. */
  globalFuncs?: ReadonlySet<number>;
  /** Instructions to process before giving up (default 200,000). */
  budget?: number;
}

export interface PathWalkResult {
  refusal: PathRefusal | null;
  /** Instructions processed. */
  processed: number;
  /** false: the walk stopped early (budget, an instruction it does not follow); no refusal then means nothing. */
  complete: boolean;
}

type Val =
  | { readonly k: 'uninit' }
  | { readonly k: 'scalar'; readonly c: bigint | null }
  | { readonly k: 'fp'; readonly frame: number; readonly off: number | null }
  | { readonly k: 'unknown' };

const UNINIT: Val = { k: 'uninit' };
const UNKNOWN: Val = { k: 'unknown' };
const SCALAR: Val = { k: 'scalar', c: null };
const scalar = (c: bigint | null): Val => (c === null ? SCALAR : { k: 'scalar', c: BigInt.asUintN(64, c) });

const STACK = 512;
const SLOTS = STACK / 8;
const MAX_FRAMES = 8;
const WIDEN_AFTER = 16;
const M32 = 0xffffffffn;

interface Frame {
  regs: Val[];
  /** 64 slots from the frame's bottom (fp-512) up; undefined: never written. */
  stack: (Val | undefined)[];
  /** Instruction index to continue at after exit; -1 for the outermost frame. */
  ret: number;
}

interface State { i: number; frames: Frame[] }

/** These helpers write `size` bytes (argument `size`) at argument `buf` (ARG_PTR_TO_UNINIT_MEM): the stack there holds scalars after the call. */
const WRITES_BUFFER: ReadonlyMap<number, { buf: number; size: number }> = new Map([
  [4, { buf: 1, size: 2 }], // probe_read
  [16, { buf: 1, size: 2 }], // get_current_comm
  [45, { buf: 1, size: 2 }], // probe_read_str
  [67, { buf: 2, size: 3 }], // get_stack
  [112, { buf: 1, size: 2 }], // probe_read_user
  [113, { buf: 1, size: 2 }], // probe_read_kernel
  [114, { buf: 1, size: 2 }], // probe_read_user_str
  [115, { buf: 1, size: 2 }], // probe_read_kernel_str
  [147, { buf: 2, size: 3 }], // d_path
  [148, { buf: 1, size: 2 }], // copy_from_user
  [191, { buf: 1, size: 2 }], // copy_from_user_task
]);

function valKey(v: Val | undefined): string {
  if (v === undefined) return '_';
  switch (v.k) {
    case 'uninit': return 'u';
    case 'unknown': return '?';
    case 'scalar': return v.c === null ? 's' : `s${v.c}`;
    case 'fp': return `f${v.frame}:${v.off ?? '?'}`;
  }
}

function stateKey(s: State): string {
  return s.frames.map((f) => `${f.ret}|${f.regs.map(valKey).join(',')}|${f.stack.map(valKey).join(',')}`).join('/');
}

function joinVal(a: Val | undefined, b: Val | undefined): Val | undefined {
  if (a === undefined && b === undefined) return undefined;
  if (a === undefined || b === undefined) return UNKNOWN;
  if (a.k !== b.k) return UNKNOWN;
  if (a.k === 'scalar' && b.k === 'scalar') return a.c === b.c ? a : SCALAR;
  if (a.k === 'fp' && b.k === 'fp') return a.frame !== b.frame ? UNKNOWN : a.off === b.off ? a : { k: 'fp', frame: a.frame, off: null };
  return a;
}

function joinState(a: State, b: State): State {
  if (a.frames.length !== b.frames.length) return b;
  return {
    i: b.i,
    frames: b.frames.map((fb, n) => {
      const fa = a.frames[n]!;
      return { ret: fb.ret, regs: fb.regs.map((r, k) => joinVal(fa.regs[k], r) ?? UNKNOWN), stack: fb.stack.map((s, k) => joinVal(fa.stack[k], s)) };
    }),
  };
}

function cloneState(s: State): State {
  return { i: s.i, frames: s.frames.map((f) => ({ ret: f.ret, regs: f.regs.slice(), stack: f.stack.slice() })) };
}

function entryFrame(args: Val[], depth: number, ret: number): Frame {
  const regs: Val[] = Array.from({ length: 11 }, () => UNINIT);
  args.forEach((v, k) => { regs[k + 1] = v; });
  regs[10] = { k: 'fp', frame: depth, off: 0 };
  return { regs, stack: new Array<Val | undefined>(SLOTS).fill(undefined), ret };
}

class Refuse extends Error {
  constructor(readonly refusal: PathRefusal) { super(refusal.message); }
}
class GiveUp extends Error {}

/** Walks `insns` (bytes or decoded) from pc 0, then the global functions it called; the first refusal, as the verifier finds it. */
export function walkPaths(insns: Uint8Array | readonly Insn[], opts: PathWalkOptions): PathWalkResult {
  let prog: Program;
  try {
    prog = loadProgram(insns, opts.byteOrder ?? 'le');
  } catch (e) {
    if (isKernelError(e)) return { refusal: null, processed: 0, complete: false };
    throw e;
  }
  const budget = opts.budget ?? 200_000;
  const globals = opts.globalFuncs ?? new Set<number>();
  let processed = 0;
  let deferred: PathRefusal | null = null;
  const calledGlobals: number[] = [];

  const walk = (start: State): void => {
    const seen = new Map<string, Set<string>>();
    const joined = new Map<string, State>();
    const todo: State[] = [start];
    while (todo.length) {
      let s: State | null = todo.pop()!;
      while (s) {
        const ctxKey = `${s.i}@${s.frames.map((f) => f.ret).join(',')}`;
        let set = seen.get(ctxKey);
        if (!set) seen.set(ctxKey, (set = new Set()));
        let key = stateKey(s);
        if (set.has(key)) break;
        if (set.size >= WIDEN_AFTER) {
          const prev = joined.get(ctxKey);
          s = prev ? joinState(prev, s) : s;
          key = stateKey(s);
          if (set.has(key)) break;
        }
        set.add(key);
        joined.set(ctxKey, joined.has(ctxKey) ? joinState(joined.get(ctxKey)!, s) : s);
        if (++processed > budget) throw new GiveUp();
        s = step(s, todo);
      }
    }
  };

  const step = (s0: State, todo: State[]): State | null => {
    const s = cloneState(s0);
    const i = s.i;
    const pc = prog.pcOf[i]!;
    const v = prog.views[i]!;
    const f = s.frames[s.frames.length - 1]!;
    const r = f.regs;
    const refuse = (code: PathRefusalCode, errno: number, message: string): never => { throw new Refuse({ pc, code, errno, message }); };
    const read = (reg: number): Val => {
      const x = r[reg]!;
      if (x.k === 'uninit') refuse('REG_NOT_INIT', EACCES, `R${reg} !read_ok`);
      return x;
    };
    const base = (reg: number): Val => {
      const x = read(reg);
      if (x.k === 'scalar') refuse('INVALID_MEM_ACCESS', EACCES, `R${reg} invalid mem access 'scalar'`);
      return x;
    };
    /** check_stack_access_within_bounds for a stack pointer with a known offset. */
    const inStack = (reg: number, p: Val, off: number, size: number, what: ' read from' | ' write to'): void => {
      if (p.k !== 'fp' || p.off === null) return;
      const min = p.off + off;
      if (min < -STACK || min > -1) refuse('STACK_OUT_OF_BOUNDS', EACCES, `invalid${what} stack R${reg} off=${min} size=${size}`);
      if (min + size > 0) refuse('STACK_OUT_OF_BOUNDS', EINVAL, `invalid${what} stack R${reg} off=${min} size=${size}`);
    };
    const slotsOf = (p: Val, off: number, size: number): { frame: Frame; first: number; last: number; aligned: boolean } | null => {
      if (p.k !== 'fp' || p.off === null) return null;
      const at = STACK + p.off + off;
      if (at < 0 || at + size > STACK) return null;
      return { frame: s.frames[p.frame]!, first: Math.floor(at / 8), last: Math.floor((at + size - 1) / 8), aligned: at % 8 === 0 };
    };
    const forgetFrame = (p: Val): void => {
      if (p.k === 'fp') s.frames[p.frame]!.stack.fill(UNKNOWN);
    };
    const next = (): State => { s.i = i + 1; return s; };
    const clobber = (): void => { for (let k = 1; k <= 5; k++) r[k] = UNINIT; };

    switch (v.kind) {
      case 'alu': {
        const src = v.srcReg !== undefined ? read(v.srcReg) : scalar(prog.k[i]!);
        if (v.op === 'mov') {
          if (!v.is64) r[v.dst] = src.k === 'scalar' && src.c !== null ? scalar(alu32('mov', 0n, src.c, false, v.movsx)) : SCALAR;
          else if (v.movsx) r[v.dst] = src.k === 'scalar' ? scalar(src.c === null ? null : alu64('mov', 0n, src.c, false, v.movsx)) : UNKNOWN;
          else r[v.dst] = src;
          return next();
        }
        const dst = read(v.dst);
        if (dst.k === 'scalar' && src.k === 'scalar') {
          r[v.dst] = dst.c === null || src.c === null ? SCALAR : scalar(v.is64 ? alu64(v.op, dst.c, src.c, v.signed) : alu32(v.op, dst.c, src.c, v.signed));
        } else if (v.is64 && dst.k === 'fp' && src.k === 'scalar' && (v.op === 'add' || v.op === 'sub')) {
          const d = src.c === null || dst.off === null ? null : Number(BigInt.asIntN(64, v.op === 'add' ? src.c : -src.c));
          r[v.dst] = { k: 'fp', frame: dst.frame, off: d === null || !Number.isSafeInteger(d) ? null : dst.off! + d };
        } else if (v.is64 && dst.k === 'scalar' && src.k === 'fp' && v.op === 'add') {
          r[v.dst] = { k: 'fp', frame: src.frame, off: dst.c === null || src.off === null ? null : src.off + Number(BigInt.asIntN(64, dst.c)) };
        } else if (v.is64 && dst.k === 'fp' && src.k === 'fp' && v.op === 'sub' && dst.frame === src.frame) {
          r[v.dst] = SCALAR;
        } else {
          r[v.dst] = UNKNOWN;
        }
        return next();
      }
      case 'neg': {
        const d = read(v.dst);
        r[v.dst] = d.k === 'scalar' ? scalar(d.c === null ? null : v.is64 ? -d.c : -d.c & M32) : UNKNOWN;
        return next();
      }
      case 'endian': {
        const d = read(v.dst);
        r[v.dst] = d.k === 'scalar' ? scalar(d.c === null ? null : endian(d.c, v.bits, v.to, (opts.byteOrder ?? 'le') === 'le')) : UNKNOWN;
        return next();
      }
      case 'ldimm64':
        r[v.dst] = v.pseudo === 0 ? scalar(v.value) : UNKNOWN;
        return next();
      case 'load': {
        const p = base(v.srcReg);
        inStack(v.srcReg, p, v.off, v.size, ' read from');
        const at = slotsOf(p, v.off, v.size);
        let out: Val = UNKNOWN;
        if (at && at.first === at.last) {
          const slot = at.frame.stack[at.first];
          if (slot === undefined) out = SCALAR; // uninitialised stack reads as an unknown scalar for privileged programs
          else if (slot.k === 'scalar') out = v.size === 8 && at.aligned ? slot : SCALAR;
          else if (v.size === 8 && at.aligned) out = slot;
        }
        r[v.dst] = out;
        return next();
      }
      case 'store': {
        const p = base(v.dst);
        const val = v.srcReg !== undefined ? read(v.srcReg) : scalar(BigInt(v.imm!));
        inStack(v.dst, p, v.off, v.size, ' write to');
        const at = slotsOf(p, v.off, v.size);
        if (!at) forgetFrame(p);
        else if (at.first !== at.last) { at.frame.stack[at.first] = UNKNOWN; at.frame.stack[at.last] = UNKNOWN; }
        else if (v.size === 8 && at.aligned) at.frame.stack[at.first] = val.k === 'uninit' ? UNKNOWN : val;
        else at.frame.stack[at.first] = val.k === 'scalar' ? SCALAR : UNKNOWN;
        return next();
      }
      case 'atomic': {
        const p = base(v.dst);
        read(v.srcReg);
        inStack(v.dst, p, v.off, v.size, ' write to');
        const at = slotsOf(p, v.off, v.size);
        if (!at) forgetFrame(p);
        else for (let k = at.first; k <= at.last; k++) at.frame.stack[k] = UNKNOWN;
        if (v.op === 'cmpxchg') r[0] = UNKNOWN;
        else if (v.fetch || v.op === 'load_acquire') r[v.srcReg] = UNKNOWN;
        return next();
      }
      case 'ldabs': case 'ldind':
        if (v.kind === 'ldind') read(v.srcReg);
        clobber();
        r[0] = SCALAR;
        return next();
      case 'ja':
        s.i = prog.target[i]!;
        return s;
      case 'jmp': {
        const a = read(v.dst);
        const b = v.srcReg !== undefined ? read(v.srcReg) : scalar(prog.k[i]!);
        const taken = prog.target[i]!;
        if (a.k === 'scalar' && b.k === 'scalar' && a.c !== null && b.c !== null) {
          s.i = condition(v.op, a.c, b.c, v.is32) ? taken : i + 1;
          return s;
        }
        const other = cloneState(s);
        other.i = taken;
        if (!v.is32 && (v.op === 'jeq' || v.op === 'jne') && a.k === 'scalar' && a.c === null && b.k === 'scalar' && b.c !== null) {
          const eq = v.op === 'jeq' ? other : s;
          eq.frames[eq.frames.length - 1]!.regs[v.dst] = b;
        }
        todo.push(other);
        return next();
      }
      case 'call': {
        if (v.target === 'helper') {
          const id = v.imm;
          if (id <= 0 || id > opts.maxHelper) refuse('UNKNOWN_FUNC', EINVAL, `invalid func unknown#${id}`);
          if (opts.gplOnlyHelpers.has(id) && !opts.gpl) refuse('GPL_ONLY_HELPER', EINVAL, 'cannot call GPL-restricted function from non-GPL compatible program');
          const w = WRITES_BUFFER.get(id);
          for (let k = 1; k <= 5; k++) {
            const arg = r[k]!;
            if (arg.k !== 'fp') continue;
            const size = w && w.buf === k ? r[w.size]! : null;
            const n = size && size.k === 'scalar' && size.c !== null && size.c > 0n && size.c <= BigInt(STACK) ? Number(size.c) : null;
            const at = n !== null ? slotsOf(arg, 0, n) : null;
            if (at) for (let q = at.first; q <= at.last; q++) at.frame.stack[q] = SCALAR;
            else if (arg.off !== null && STACK + arg.off >= 0) {
              const fr = s.frames[arg.frame]!;
              for (let q = Math.floor((STACK + arg.off) / 8); q < SLOTS; q++) fr.stack[q] = w && w.buf === k ? SCALAR : fr.stack[q]?.k === 'scalar' ? SCALAR : UNKNOWN;
            } else forgetFrame(arg);
          }
          clobber();
          r[0] = UNKNOWN;
          return next();
        }
        if (v.target === 'kfunc') {
          if (v.imm === 0 && !deferred) deferred = { pc, code: 'KFUNC_NOT_ELIMINATED', errno: EINVAL, message: 'invalid kernel function call not eliminated in verifier pass' };
          for (let k = 1; k <= 5; k++) if (r[k]!.k === 'fp') forgetFrame(r[k]!);
          clobber();
          r[0] = UNKNOWN;
          return next();
        }
        const t = prog.target[i]!;
        if (globals.has(prog.pcOf[t]!)) {
          if (!calledGlobals.includes(t)) calledGlobals.push(t);
          for (let k = 1; k <= 5; k++) if (r[k]!.k === 'fp') forgetFrame(r[k]!);
          clobber();
          r[0] = SCALAR;
          return next();
        }
        if (s.frames.length >= MAX_FRAMES) throw new GiveUp();
        s.frames.push(entryFrame([r[1]!, r[2]!, r[3]!, r[4]!, r[5]!], s.frames.length, i + 1));
        s.i = t;
        return s;
      }
      case 'exit': {
        const ret = read(0);
        if (s.frames.length === 1) return null;
        s.frames.pop();
        const caller = s.frames[s.frames.length - 1]!;
        caller.regs[0] = ret;
        for (let k = 1; k <= 5; k++) caller.regs[k] = UNINIT;
        s.i = f.ret;
        return s;
      }
      default:
        throw new GiveUp();
    }
  };

  try {
    walk({ i: 0, frames: [entryFrame([UNKNOWN], 0, -1)] });
    for (let n = 0; n < calledGlobals.length; n++) {
      walk({ i: calledGlobals[n]!, frames: [entryFrame([UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN], 0, -1)] });
    }
  } catch (e) {
    if (e instanceof Refuse) return { refusal: e.refusal, processed, complete: true };
    if (e instanceof GiveUp) return { refusal: null, processed, complete: false };
    throw e;
  }
  return { refusal: deferred, processed, complete: true };
}
