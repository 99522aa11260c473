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
 *   - a helper the profile's kernel does not give this program type: "program of this
 *     type cannot use helper bpf_xdp_adjust_head#44" (EINVAL)
 *   - a GPL-only helper from a non-GPL program (EINVAL)
 *   - a reachable kfunc call left with btf_id 0 (an unresolved weak kfunc): refused
 *     after the walk, as fixup_kfunc_call does (EINVAL)
 *   - a write to r10: "frame pointer is read only" (EACCES)
 *   - a stack pointer spilled into a caller's frame: "cannot spill pointers to stack into
 *     stack frame of the caller" (EINVAL); a stack pointer stored in fewer than 8 bytes:
 *     "invalid size of register spill" (EACCES)
 *   - a subprogram returning a stack pointer: "cannot return stack pointer to the caller
 *     frame" (EINVAL)
 * Before the walk, what the kernel checks on every instruction, reachable or not (all
 * EINVAL): opcodes it does not define, a jump leaving its subprogram or landing inside an
 * ld_imm64, a call or function address outside the program, a subprogram whose last
 * instruction is not exit or goto (check_subprogs), and an instruction no edge of the
 * control-flow graph reaches (check_cfg: "unreachable insn 7").
 * Everything the walk does not track reads as unknown and is never refused; the
 * walk gives up (no refusal) past its instruction budget.
 */
import {
  BPF_JMP,
  BPF_JMP32,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  OP_CALL,
  OP_EXIT,
  OP_JA,
  OP_JA32,
  OP_LD_IMM64,
  decodeInsns,
  helperName,
  opClass,
  type Insn,
  type InsnView,
} from '../../loader/isa/index.js';
import { isLoaderError } from '../../loader/errors.js';
import { isKernelError } from '../errors.js';
import { alu32, alu64, condition, endian, frameWriteOf, loadProgram, type Program } from '../vm/index.js';
import { checkProgram, type FindingCode } from './check.js';

/** func_id_name: "bpf_" and the helper's name. */
function helperHumanName(id: number): string {
  const n = helperName(id);
  return n ? `bpf_${n}` : 'unknown';
}

export const EACCES = 13;
export const EINVAL = 22;

/** What the kernel refuses on every instruction before walking (checkProgram's codes, and unreachable code). */
export type StructureRefusalCode =
  | 'INVALID_OPCODE'
  | 'TRUNCATED_LD_IMM64'
  | 'JUMP_OUT_OF_RANGE'
  | 'JUMP_INTO_LD_IMM64'
  | 'CALL_TARGET_INVALID'
  | 'FALL_THROUGH'
  | 'UNREACHABLE_INSN';

export type PathRefusalCode =
  | 'INVALID_MEM_ACCESS'
  | 'STACK_OUT_OF_BOUNDS'
  | 'REG_NOT_INIT'
  | 'UNKNOWN_FUNC'
  | 'HELPER_NOT_ALLOWED'
  | 'GPL_ONLY_HELPER'
  | 'KFUNC_NOT_ELIMINATED'
  | 'FRAME_POINTER_WRITE'
  | 'STACK_PTR_TO_CALLER'
  | 'STACK_PTR_SPILL_SIZE'
  | 'STACK_PTR_RETURNED'
  | StructureRefusalCode;

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
  /** Helper ids the program type may call (get_func_proto answers); absent: every defined helper. */
  allowedHelpers?: ReadonlySet<number> | null;
  /** Slot indexes where global functions start (func_info linkage global): verified on their own, calls do not descend. */
  globalFuncs?: ReadonlySet<number>;
  /** Instructions to process before giving up (default 200,000). */
  budget?: number;
  /** `insns` already decoded and validated (vm loadProgram of the same instructions in the same byte order): not done again. */
  compiled?: Program;
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

const STACK = 512;
const SLOTS = STACK / 8;
const MAX_FRAMES = 8;
const WIDEN_AFTER = 16;
const M32 = 0xffffffffn;

/*
 * A state holds small integers: per frame, 11 registers and the instruction index to continue
 * at after exit (-1 for the outermost frame) in `regs`, and 64 stack slots (from the frame's
 * bottom, fp-512, up) in `stack`. Registers and slots hold ids of values interned per walk, so
 * equal values have equal ids and two states are equal exactly when their arrays are. States
 * are never changed once made; a step copies the registers and shares the stack until it
 * writes to it.
 */
const RET = 11;
const RF = 12;

/** Fixed ids: a stack slot never written, and the values without a payload. */
const NONE = 0;
const UNINIT = 1;
const UNKNOWN = 2;
const SCALAR = 3;

interface State {
  i: number;
  n: number;
  regs: number[];
  stack: number[];
  /** Hash of `stack` once worked out (a state made with another's stack takes its hash too); NaN: not yet. */
  sh: number;
}

/** States seen at one instruction in one call context, and their join (the widening; worked out once there are WIDEN_AFTER states). */
interface Bucket {
  all: State[];
  /** By hash, once the bucket is too big to search in order. */
  byHash: Map<number, State[]> | null;
  joined: State | null;
}
/** Buckets up to this size are searched in order. */
const SCAN = 8;

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

function hashOf(s: State): number {
  let sh = s.sh;
  if (sh !== sh) {
    sh = 0x811c9dc5;
    const st = s.stack;
    for (let k = 0; k < st.length; k++) sh = Math.imul(sh ^ st[k]!, 0x01000193);
    s.sh = sh;
  }
  let h = sh;
  const r = s.regs;
  for (let k = 0; k < r.length; k++) h = Math.imul(h ^ r[k]!, 0x01000193);
  return h;
}

function sameArray(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

const sameState = (a: State, b: State): boolean => sameArray(a.regs, b.regs) && sameArray(a.stack, b.stack);

/** Value ids of one walk: each distinct value once. */
class Values {
  readonly vals: (Val | undefined)[] = [undefined, { k: 'uninit' }, { k: 'unknown' }, { k: 'scalar', c: null }];
  readonly #scalars = new Map<bigint, number>();
  readonly #fps: Map<number, number>[] = [];
  readonly #fpNull: number[] = [];

  /** scalar(c): c as u64; null is the unknown scalar. */
  scalar(c: bigint | null): number {
    if (c === null) return SCALAR;
    const u = BigInt.asUintN(64, c);
    let id = this.#scalars.get(u);
    if (id === undefined) {
      id = this.vals.length;
      this.vals.push({ k: 'scalar', c: u });
      this.#scalars.set(u, id);
    }
    return id;
  }

  fp(frame: number, off: number | null): number {
    if (off === null) {
      let id = this.#fpNull[frame];
      if (id === undefined) {
        id = this.vals.length;
        this.vals.push({ k: 'fp', frame, off: null });
        this.#fpNull[frame] = id;
      }
      return id;
    }
    let m = this.#fps[frame];
    if (!m) this.#fps[frame] = m = new Map();
    let id = m.get(off);
    if (id === undefined) {
      id = this.vals.length;
      this.vals.push({ k: 'fp', frame, off });
      m.set(off, id);
    }
    return id;
  }

  /** The join of two values (the widening): equal kinds keep what they agree on; else unknown. */
  join(a: number, b: number): number {
    if (a === b) return a;
    if (a === NONE || b === NONE) return UNKNOWN;
    const va = this.vals[a]!,
      vb = this.vals[b]!;
    if (va.k !== vb.k) return UNKNOWN;
    if (va.k === 'scalar') return SCALAR;
    if (va.k === 'fp' && vb.k === 'fp') return va.frame !== vb.frame ? UNKNOWN : this.fp(va.frame, null);
    return a;
  }

  /** `a` joined with `b`, value by value (each frame's return index stays); a new state. */
  joinStates(a: State, b: State): State {
    const j: State = { i: b.i, n: b.n, regs: a.regs.slice(), stack: a.stack.slice(), sh: NaN };
    this.joinInto(j, b);
    return j;
  }

  /** Joins `b` into `a`, which nothing else refers to. */
  joinInto(a: State, b: State): void {
    const regs = a.regs,
      stack = a.stack;
    for (let k = 0; k < regs.length; k++) if (k % RF !== RET && regs[k] !== b.regs[k]) regs[k] = this.join(regs[k]!, b.regs[k]!);
    for (let k = 0; k < stack.length; k++) if (stack[k] !== b.stack[k]) stack[k] = this.join(stack[k]!, b.stack[k]!);
    a.sh = NaN;
  }
}

class Refuse extends Error {
  constructor(readonly refusal: PathRefusal) {
    super(refusal.message);
  }
}
class GiveUp extends Error {}

type View = InsnView;
type AluView = Extract<View, { kind: 'alu' }>;
type JmpView = Extract<View, { kind: 'jmp' }>;
type AtomicView = Extract<View, { kind: 'atomic' }>;
type EndianView = Extract<View, { kind: 'endian' }>;
type CallView = Extract<View, { kind: 'call' }>;

/** Instruction kinds as small integers (a switch over them is a jump table even before the JIT optimises the walk). */
const enum K {
  Alu,
  Neg,
  Endian,
  LdImm64,
  Load,
  Store,
  Atomic,
  LdAbs,
  LdInd,
  Ja,
  Jmp,
  Call,
  Exit,
  Other,
}
const KIND_CODE: Record<View['kind'], K> = {
  alu: K.Alu,
  neg: K.Neg,
  endian: K.Endian,
  ldimm64: K.LdImm64,
  load: K.Load,
  store: K.Store,
  atomic: K.Atomic,
  ldabs: K.LdAbs,
  ldind: K.LdInd,
  ja: K.Ja,
  jmp: K.Jmp,
  call: K.Call,
  exit: K.Exit,
  callx: K.Other,
  invalid: K.Other,
};

/** One instruction as the walk reads it: every field of every kind, one shape for all (the views have many). */
class Op {
  code: K = K.Other;
  /** Source register; -1: the operand is the immediate. */
  src = -1;
  dst = 0;
  imm = 0;
  off = 0;
  size = 0;
  is64 = false;
  is32 = false;
  signed = false;
  fetch = false;
  movsx: 8 | 16 | 32 | undefined = undefined;
  aluOp: AluView['op'] = 'add';
  jmpOp: JmpView['op'] = 'jeq';
  atomicOp: AtomicView['op'] = 'add';
  bits: EndianView['bits'] = 64;
  to: EndianView['to'] = 'le';
  target: CallView['target'] = 'helper';
  pseudo = 0;
  value = 0n;

  constructor(v: View) {
    this.code = KIND_CODE[v.kind];
    switch (v.kind) {
      case 'alu':
        this.is64 = v.is64;
        this.aluOp = v.op;
        this.dst = v.dst;
        this.src = v.srcReg ?? -1;
        this.imm = v.imm ?? 0;
        this.signed = v.signed;
        this.movsx = v.movsx;
        break;
      case 'neg':
        this.is64 = v.is64;
        this.dst = v.dst;
        break;
      case 'endian':
        this.dst = v.dst;
        this.bits = v.bits;
        this.to = v.to;
        break;
      case 'jmp':
        this.is32 = v.is32;
        this.jmpOp = v.op;
        this.dst = v.dst;
        this.src = v.srcReg ?? -1;
        this.imm = v.imm ?? 0;
        this.off = v.off;
        break;
      case 'ja':
        this.off = v.offset;
        break;
      case 'call':
        this.target = v.target;
        this.imm = v.imm;
        break;
      case 'callx':
        this.dst = v.reg;
        break;
      case 'ldimm64':
        this.dst = v.dst;
        this.pseudo = v.pseudo;
        this.value = v.value;
        break;
      case 'ldabs':
        this.size = v.size;
        this.imm = v.imm;
        break;
      case 'ldind':
        this.size = v.size;
        this.src = v.srcReg;
        this.imm = v.imm;
        break;
      case 'load':
        this.size = v.size;
        this.signed = v.signed;
        this.dst = v.dst;
        this.src = v.srcReg;
        this.off = v.off;
        break;
      case 'store':
        this.size = v.size;
        this.dst = v.dst;
        this.src = v.srcReg ?? -1;
        this.imm = v.imm ?? 0;
        this.off = v.off;
        break;
      case 'atomic':
        this.size = v.size;
        this.atomicOp = v.op;
        this.fetch = v.fetch;
        this.dst = v.dst;
        this.src = v.srcReg;
        this.off = v.off;
        break;
      case 'exit':
      case 'invalid':
        break;
    }
  }
}

const STRUCTURE_CODES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'INVALID_OPCODE',
  'TRUNCATED_LD_IMM64',
  'JUMP_OUT_OF_RANGE',
  'JUMP_INTO_LD_IMM64',
  'CALL_TARGET_INVALID',
  'FALL_THROUGH',
]);

/**
 * What the kernel refuses before do_check, on every instruction whether reachable or not:
 * checkProgram's structural findings (opcodes, jump and call targets, a subprogram's last
 * instruction), then check_cfg's depth-first search from instruction 0, which must reach
 * every instruction (a conditional jump reaches both sides whatever the values; a
 * bpf-to-bpf call and an ld_imm64 function address reach their target and the next
 * instruction). All EINVAL; null when the program is well formed.
 */
export function structureRefusal(insns: readonly Insn[]): PathRefusal | null {
  if (insns.length === 0) return { pc: 0, code: 'FALL_THROUGH', errno: EINVAL, message: 'the program has no instructions' };
  const found = checkProgram(insns).find((f) => STRUCTURE_CODES.has(f.code));
  if (found) return { pc: found.pc, code: found.code as StructureRefusalCode, errno: EINVAL, message: found.message };
  // check_cfg: every instruction start reachable from 0 (slots; an ld_imm64's second slot is not an instruction).
  const n = insns.length;
  const pcs = new Int32Array(n);
  let slots = 0;
  for (let k = 0; k < n; k++) {
    pcs[k] = slots;
    slots += insns[k]!.width;
  }
  const at = new Int32Array(slots).fill(-1);
  for (let k = 0; k < n; k++) at[pcs[k]!] = k;
  const reached = new Uint8Array(n);
  const todo = [0];
  reached[0] = 1;
  const push = (pc: number): void => {
    const k = pc >= 0 && pc < slots ? at[pc]! : -1;
    if (k >= 0 && !reached[k]) {
      reached[k] = 1;
      todo.push(k);
    }
  };
  while (todo.length) {
    const k = todo.pop()!;
    const i = insns[k]!,
      pc = pcs[k]!;
    const next = pc + i.width;
    if (i.opcode === OP_EXIT) continue;
    if (i.opcode === OP_JA) {
      push(pc + i.off + 1);
      continue;
    }
    if (i.opcode === OP_JA32) {
      push(pc + i.imm + 1);
      continue;
    }
    const cls = opClass(i.opcode);
    if ((cls === BPF_JMP || cls === BPF_JMP32) && i.opcode !== OP_CALL) push(pc + i.off + 1);
    else if (i.opcode === OP_CALL && i.src === BPF_PSEUDO_CALL) push(pc + i.imm + 1);
    else if (i.opcode === OP_LD_IMM64 && i.src === BPF_PSEUDO_FUNC) push(pc + i.imm + 1);
    push(next);
  }
  for (let k = 0; k < n; k++) {
    if (!reached[k]) return { pc: pcs[k]!, code: 'UNREACHABLE_INSN', errno: EINVAL, message: `unreachable insn ${pcs[k]}` };
  }
  return null;
}

/** Walks `insns` (bytes or decoded) from pc 0, then the global functions it called; the first refusal, as the verifier finds it. */
export function walkPaths(insns: Uint8Array | readonly Insn[], opts: PathWalkOptions): PathWalkResult {
  const prepared = prepare(insns, opts);
  if (prepared.result) return prepared.result;
  return new PathWalk(prepared.prog, opts).run();
}

/**
 * What the kernel refuses before walking: bytes that do not decode, then the structure
 * (structureRefusal). A program that passes both is compiled for the walk (writes to r10 are let
 * through here and refused where the walk reaches them); one the model cannot compile is walked
 * no further (an incomplete result, no refusal).
 */
function prepare(
  insns: Uint8Array | readonly Insn[],
  opts: PathWalkOptions,
): { prog: Program; result?: undefined } | { result: PathWalkResult } {
  let decoded: readonly Insn[];
  if (opts.compiled) decoded = opts.compiled.insns;
  else if (insns instanceof Uint8Array) {
    try {
      decoded = decodeInsns(insns, opts.byteOrder ?? 'le');
    } catch (e) {
      if (!isLoaderError(e)) throw e;
      return {
        result: {
          refusal: { pc: e.details.pc ?? 0, code: 'TRUNCATED_LD_IMM64', errno: EINVAL, message: e.message },
          processed: 0,
          complete: true,
        },
      };
    }
  } else decoded = insns;
  const bad = structureRefusal(decoded);
  if (bad) return { result: { refusal: bad, processed: 0, complete: true } };
  try {
    return { prog: opts.compiled ?? loadProgram(decoded, opts.byteOrder ?? 'le', { frameWrites: 'allow' }) };
  } catch (e) {
    if (isKernelError(e)) return { result: { refusal: null, processed: 0, complete: false } };
    throw e;
  }
}

/**
 * The states already walked from, by instruction and call context (the return indexes of the
 * frames): a state seen before is not walked again, and past WIDEN_AFTER states at one place the
 * walk goes on from their join.
 */
class Seen {
  readonly #outer: (Bucket | undefined)[];
  readonly #nested = new Map<string, Bucket>();

  constructor(
    n: number,
    readonly V: Values,
  ) {
    this.#outer = new Array<Bucket | undefined>(n);
  }

  bucketOf(s: State): Bucket {
    let b: Bucket | undefined;
    if (s.n === 1) {
      b = this.#outer[s.i];
      if (!b) this.#outer[s.i] = b = { all: [], byHash: null, joined: null };
      return b;
    }
    let key = `${s.i}@`;
    for (let f = 0; f < s.n; f++) key += `${f ? ',' : ''}${s.regs[f * RF + RET]}`;
    b = this.#nested.get(key);
    if (!b) this.#nested.set(key, (b = { all: [], byHash: null, joined: null }));
    return b;
  }

  /** The state to walk on from `s` (itself, or its join with the bucket's states), or null when that state was seen. */
  admit(s: State): State | null {
    const b = this.bucketOf(s);
    if (has(b, s)) return null;
    if (b.all.length >= WIDEN_AFTER) {
      if (!b.joined) {
        const j = this.V.joinStates(b.all[0]!, b.all[1]!);
        for (let k = 2; k < b.all.length; k++) this.V.joinInto(j, b.all[k]!);
        b.joined = j;
      }
      s = this.V.joinStates(b.joined, s);
      if (has(b, s)) return null;
    }
    b.all.push(s);
    if (!b.byHash && b.all.length > SCAN) {
      b.byHash = new Map();
      for (const o of b.all) addByHash(b.byHash, o);
    } else if (b.byHash) addByHash(b.byHash, s);
    if (b.joined) this.V.joinInto(b.joined, s); // the bucket's own copy
    return s;
  }
}

function has(b: Bucket, s: State): boolean {
  if (!b.byHash) {
    for (let k = 0; k < b.all.length; k++) if (sameState(b.all[k]!, s)) return true;
    return false;
  }
  const list = b.byHash.get(hashOf(s));
  if (list) for (let k = 0; k < list.length; k++) if (sameState(list[k]!, s)) return true;
  return false;
}

function addByHash(m: Map<number, State[]>, s: State): void {
  const h = hashOf(s);
  const list = m.get(h);
  if (list) list.push(s);
  else m.set(h, [s]);
}

/**
 * One walk of a compiled program: run() walks from pc 0, then from each global function called,
 * stepping one state at a time (step, and one method per instruction kind). The state being
 * stepped is held in fields: its registers (copied), its stack (copied on first write), the base
 * of its innermost frame's registers, and the slot index (pc) of its instruction.
 */
class PathWalk {
  readonly ops: Op[];
  /** 1 where the instruction writes r10. */
  readonly writesFp: Uint8Array;
  readonly V = new Values();
  readonly vals = this.V.vals;
  /** Id of each instruction's immediate operand as a scalar (filled on first use). */
  readonly kId: Int32Array;
  readonly budget: number;
  readonly globals: ReadonlySet<number>;
  readonly littleEndian: boolean;
  processed = 0;
  /** A refusal the kernel makes after the walk (an unresolved kfunc reached). */
  deferred: PathRefusal | null = null;
  readonly calledGlobals: number[] = [];

  cur: State = { i: 0, n: 1, regs: [], stack: [], sh: NaN };
  R: number[] = [];
  S: number[] = [];
  ownStack = false;
  fb = 0;
  nFrames = 1;
  pc = 0;
  // slotsOf's answer: the 8-byte slots [atFirst, atLast] of frame atFrame an access touches.
  atFrame = 0;
  atFirst = 0;
  atLast = 0;
  atAligned = false;

  constructor(
    readonly prog: Program,
    readonly opts: PathWalkOptions,
  ) {
    const n = prog.views.length;
    this.ops = prog.views.map((v) => new Op(v));
    this.writesFp = Uint8Array.from(prog.views, (v) => (frameWriteOf(v) === null ? 0 : 1));
    this.kId = new Int32Array(n).fill(-1);
    this.budget = opts.budget ?? 200_000;
    this.globals = opts.globalFuncs ?? new Set<number>();
    this.littleEndian = (opts.byteOrder ?? 'le') === 'le';
  }

  run(): PathWalkResult {
    try {
      this.walk(this.entryState(0, [UNKNOWN]));
      for (let k = 0; k < this.calledGlobals.length; k++) {
        this.walk(this.entryState(this.calledGlobals[k]!, [UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN]));
      }
    } catch (e) {
      if (e instanceof Refuse) return { refusal: e.refusal, processed: this.processed, complete: true };
      if (e instanceof GiveUp) return { refusal: null, processed: this.processed, complete: false };
      throw e;
    }
    return { refusal: this.deferred, processed: this.processed, complete: true };
  }

  /** Depth first from `start`: fall-through first, the other side of each branch later. */
  walk(start: State): void {
    const seen = new Seen(this.ops.length, this.V);
    const todo: State[] = [start];
    while (todo.length) {
      let s: State | null = todo.pop()!;
      while (s) {
        s = seen.admit(s);
        if (!s) break;
        if (++this.processed > this.budget) throw new GiveUp();
        s = this.step(s, todo);
      }
    }
  }

  /** Appends a frame: r1.. = args, r10 = its frame pointer, the rest not initialised; its stack never written. */
  pushFrame(regs: number[], stack: number[], args: readonly number[], depth: number, ret: number): void {
    const at = regs.length;
    for (let k = 0; k < 11; k++) regs.push(UNINIT);
    regs.push(ret);
    for (let k = 0; k < args.length; k++) regs[at + k + 1] = args[k]!;
    regs[at + 10] = this.V.fp(depth, 0);
    for (let q = 0; q < SLOTS; q++) stack.push(NONE);
  }

  entryState(i: number, args: readonly number[]): State {
    const s: State = { i, n: 1, regs: [], stack: [], sh: NaN };
    this.pushFrame(s.regs, s.stack, args, 0, -1);
    return s;
  }

  immId(i: number): number {
    let id = this.kId[i]!;
    if (id < 0) this.kId[i] = id = this.V.scalar(this.prog.k[i]!);
    return id;
  }

  refuse(code: PathRefusalCode, errno: number, message: string): never {
    throw new Refuse({ pc: this.pc, code, errno, message });
  }

  read(reg: number): number {
    const x = this.R[this.fb + reg]!;
    if (x === UNINIT) this.refuse('REG_NOT_INIT', EACCES, `R${reg} !read_ok`);
    return x;
  }

  /** The value of a register used as a memory base: anything but a scalar. */
  base(reg: number): number {
    const x = this.read(reg);
    if (this.vals[x]!.k === 'scalar') this.refuse('INVALID_MEM_ACCESS', EACCES, `R${reg} invalid mem access 'scalar'`);
    return x;
  }

  /** check_stack_access_within_bounds for a stack pointer with a known offset. */
  inStack(reg: number, p: Val, off: number, size: number, what: ' read from' | ' write to'): void {
    if (p.k !== 'fp' || p.off === null) return;
    const min = p.off + off;
    if (min < -STACK || min > -1) this.refuse('STACK_OUT_OF_BOUNDS', EACCES, `invalid${what} stack R${reg} off=${min} size=${size}`);
    if (min + size > 0) this.refuse('STACK_OUT_OF_BOUNDS', EINVAL, `invalid${what} stack R${reg} off=${min} size=${size}`);
  }

  /**
   * Index of slot 0 of `frame`'s stack. A pointer into a frame that is gone cannot exist (the
   * walk refuses a stack pointer returned or spilled into a caller's frame, as the verifier
   * does); should one appear, the walk gives up rather than guess.
   */
  stackAt(frame: number): number {
    if (frame >= this.nFrames) throw new GiveUp();
    return frame * SLOTS;
  }

  /** check_reg_arg(dst, DST_OP) on an instruction that writes r10. */
  fpWrite(i: number): void {
    if (this.writesFp[i]) this.refuse('FRAME_POINTER_WRITE', EACCES, 'frame pointer is read only');
  }

  /** The stack, writable. */
  W(): number[] {
    if (!this.ownStack) {
      this.S = this.S.slice();
      this.cur.stack = this.S;
      this.cur.sh = NaN;
      this.ownStack = true;
    }
    return this.S;
  }

  /** The 8-byte slots [first, last] an access of `size` bytes at `off` from a known stack pointer touches (into the at* fields); false when unknown. */
  slotsOf(p: Val, off: number, size: number): boolean {
    if (p.k !== 'fp' || p.off === null) return false;
    const at = STACK + p.off + off;
    if (at < 0 || at + size > STACK) return false;
    this.atFrame = p.frame;
    this.atFirst = Math.floor(at / 8);
    this.atLast = Math.floor((at + size - 1) / 8);
    this.atAligned = at % 8 === 0;
    return true;
  }

  forgetFrame(p: Val): void {
    if (p.k !== 'fp') return;
    const at = this.stackAt(p.frame);
    const st = this.W();
    for (let q = 0; q < SLOTS; q++) st[at + q] = UNKNOWN;
  }

  clobber(): void {
    for (let k = 1; k <= 5; k++) this.R[this.fb + k] = UNINIT;
  }

  /** The state after `s0`'s instruction (null: the program exited); the other side of an undecided branch goes on `todo`. */
  step(s0: State, todo: State[]): State | null {
    const R = (this.R = s0.regs.slice());
    this.S = s0.stack;
    this.ownStack = false;
    const nFrames = (this.nFrames = s0.n);
    const fb = (this.fb = (nFrames - 1) * RF);
    const s: State = (this.cur = { i: s0.i, n: nFrames, regs: R, stack: this.S, sh: s0.sh });
    const i = s.i;
    this.pc = this.prog.pcOf[i]!;
    const v = this.ops[i];
    // Past the last instruction: structureRefusal refused every program whose subprogram can fall off its end.
    if (v === undefined) this.refuse('FALL_THROUGH', EINVAL, 'last insn is not an exit or jmp');

    switch (v.code) {
      case K.Alu:
        this.alu(v, i);
        break;
      case K.Neg: {
        const x = this.vals[this.read(v.dst)]!;
        this.fpWrite(i);
        R[fb + v.dst] = x.k === 'scalar' ? this.V.scalar(x.c === null ? null : v.is64 ? -x.c : -x.c & M32) : UNKNOWN;
        break;
      }
      case K.Endian: {
        const x = this.vals[this.read(v.dst)]!;
        this.fpWrite(i);
        R[fb + v.dst] = x.k === 'scalar' ? this.V.scalar(x.c === null ? null : endian(x.c, v.bits, v.to, this.littleEndian)) : UNKNOWN;
        break;
      }
      case K.LdImm64:
        this.fpWrite(i);
        R[fb + v.dst] = v.pseudo === 0 ? this.V.scalar(v.value) : UNKNOWN;
        break;
      case K.Load:
        this.load(v, i);
        break;
      case K.Store:
        this.store(v);
        break;
      case K.Atomic:
        this.atomic(v, i);
        break;
      case K.LdAbs:
      case K.LdInd:
        if (v.code === K.LdInd) this.read(v.src);
        this.clobber();
        R[fb] = SCALAR;
        break;
      case K.Ja:
        s.i = this.prog.target[i]!;
        return s;
      case K.Jmp:
        return this.jmp(v, i, s, todo);
      case K.Call:
        return this.call(v, i, s);
      case K.Exit:
        return this.exit(s);
      default:
        throw new GiveUp();
    }
    s.i = i + 1;
    return s;
  }

  alu(v: Op, i: number): void {
    const { R, fb, vals, V } = this;
    const srcId = v.src >= 0 ? this.read(v.src) : this.immId(i);
    const src = vals[srcId]!;
    if (v.aluOp === 'mov') {
      this.fpWrite(i);
      if (!v.is64) R[fb + v.dst] = src.k === 'scalar' && src.c !== null ? V.scalar(alu32('mov', 0n, src.c, false, v.movsx)) : SCALAR;
      else if (v.movsx)
        R[fb + v.dst] = src.k === 'scalar' ? V.scalar(src.c === null ? null : alu64('mov', 0n, src.c, false, v.movsx)) : UNKNOWN;
      else R[fb + v.dst] = srcId;
      return;
    }
    const dst = vals[this.read(v.dst)]!;
    this.fpWrite(i);
    if (dst.k === 'scalar' && src.k === 'scalar') {
      R[fb + v.dst] =
        dst.c === null || src.c === null
          ? SCALAR
          : V.scalar(v.is64 ? alu64(v.aluOp, dst.c, src.c, v.signed) : alu32(v.aluOp, dst.c, src.c, v.signed));
    } else if (v.is64 && dst.k === 'fp' && src.k === 'scalar' && (v.aluOp === 'add' || v.aluOp === 'sub')) {
      const dd = src.c === null || dst.off === null ? null : Number(BigInt.asIntN(64, v.aluOp === 'add' ? src.c : -src.c));
      R[fb + v.dst] = V.fp(dst.frame, dd === null || !Number.isSafeInteger(dd) ? null : dst.off! + dd);
    } else if (v.is64 && dst.k === 'scalar' && src.k === 'fp' && v.aluOp === 'add') {
      R[fb + v.dst] = V.fp(src.frame, dst.c === null || src.off === null ? null : src.off + Number(BigInt.asIntN(64, dst.c)));
    } else if (v.is64 && dst.k === 'fp' && src.k === 'fp' && v.aluOp === 'sub' && dst.frame === src.frame) {
      R[fb + v.dst] = SCALAR;
    } else {
      R[fb + v.dst] = UNKNOWN;
    }
  }

  load(v: Op, i: number): void {
    const vals = this.vals;
    this.read(v.src);
    this.fpWrite(i);
    const p = vals[this.base(v.src)]!;
    this.inStack(v.src, p, v.off, v.size, ' read from');
    let out = UNKNOWN;
    if (this.slotsOf(p, v.off, v.size) && this.atFirst === this.atLast) {
      const slot = this.S[this.stackAt(this.atFrame) + this.atFirst]!;
      if (slot === NONE)
        out = SCALAR; // uninitialised stack reads as an unknown scalar for privileged programs
      else if (vals[slot]!.k === 'scalar') out = v.size === 8 && this.atAligned ? slot : SCALAR;
      else if (v.size === 8 && this.atAligned) out = slot;
    }
    this.R[this.fb + v.dst] = out;
  }

  store(v: Op): void {
    const vals = this.vals;
    const p = vals[this.base(v.dst)]!;
    const val = v.src >= 0 ? this.read(v.src) : this.V.scalar(BigInt(v.imm));
    this.inStack(v.dst, p, v.off, v.size, ' write to');
    const spilled = vals[val]!;
    if (spilled.k === 'fp' && p.k === 'fp' && p.off !== null) {
      // check_stack_write_fixed_off: a pointer spill is 8 bytes, and a stack pointer stays out of a caller's frame.
      if (v.size !== 8) this.refuse('STACK_PTR_SPILL_SIZE', EACCES, 'invalid size of register spill');
      if (p.frame < this.nFrames - 1)
        this.refuse('STACK_PTR_TO_CALLER', EINVAL, 'cannot spill pointers to stack into stack frame of the caller');
    }
    if (!this.slotsOf(p, v.off, v.size)) this.forgetFrame(p);
    else {
      const at = this.stackAt(this.atFrame);
      const st = this.W();
      const first = this.atFirst,
        last = this.atLast;
      if (first !== last) {
        st[at + first] = UNKNOWN;
        st[at + last] = UNKNOWN;
      } else if (v.size === 8 && this.atAligned) st[at + first] = val === UNINIT ? UNKNOWN : val;
      else st[at + first] = vals[val]!.k === 'scalar' ? SCALAR : UNKNOWN;
    }
  }

  atomic(v: Op, i: number): void {
    const p = this.vals[this.base(v.dst)]!;
    this.read(v.src);
    this.inStack(v.dst, p, v.off, v.size, ' write to');
    if (!this.slotsOf(p, v.off, v.size)) this.forgetFrame(p);
    else {
      const at = this.stackAt(this.atFrame);
      const st = this.W();
      for (let q = this.atFirst; q <= this.atLast; q++) st[at + q] = UNKNOWN;
    }
    this.fpWrite(i);
    if (v.atomicOp === 'cmpxchg') this.R[this.fb] = UNKNOWN;
    else if (v.fetch || v.atomicOp === 'load_acquire') this.R[this.fb + v.src] = UNKNOWN;
  }

  /** A conditional jump: one way when known scalars decide it, else both (the taken side later, from `todo`). */
  jmp(v: Op, i: number, s: State, todo: State[]): State {
    const aId = this.read(v.dst);
    const bId = v.src >= 0 ? this.read(v.src) : this.immId(i);
    const a = this.vals[aId]!,
      b = this.vals[bId]!;
    const taken = this.prog.target[i]!;
    if (a.k === 'scalar' && b.k === 'scalar' && a.c !== null && b.c !== null) {
      s.i = condition(v.jmpOp, a.c, b.c, v.is32) ? taken : i + 1;
      return s;
    }
    const other: State = { i: taken, n: this.nFrames, regs: this.R.slice(), stack: this.S, sh: s.sh };
    if (!v.is32 && (v.jmpOp === 'jeq' || v.jmpOp === 'jne') && a.k === 'scalar' && a.c === null && b.k === 'scalar' && b.c !== null) {
      (v.jmpOp === 'jeq' ? other : s).regs[this.fb + v.dst] = bId;
    }
    todo.push(other);
    s.i = i + 1;
    return s;
  }

  /** A call: a helper, a kfunc, a global function (not descended into), or a static subprogram (a new frame). */
  call(v: Op, i: number, s: State): State {
    if (v.target === 'helper') {
      this.helperCall(v.imm);
      s.i = i + 1;
      return s;
    }
    const { R, fb, vals } = this;
    if (v.target === 'kfunc') {
      if (v.imm === 0 && !this.deferred)
        this.deferred = {
          pc: this.pc,
          code: 'KFUNC_NOT_ELIMINATED',
          errno: EINVAL,
          message: 'invalid kernel function call not eliminated in verifier pass',
        };
      for (let k = 1; k <= 5; k++) this.forgetFrame(vals[R[fb + k]!]!);
      this.clobber();
      R[fb] = UNKNOWN;
      s.i = i + 1;
      return s;
    }
    const t = this.prog.target[i]!;
    if (this.globals.has(this.prog.pcOf[t]!)) {
      if (!this.calledGlobals.includes(t)) this.calledGlobals.push(t);
      for (let k = 1; k <= 5; k++) this.forgetFrame(vals[R[fb + k]!]!);
      this.clobber();
      R[fb] = SCALAR;
      s.i = i + 1;
      return s;
    }
    if (this.nFrames >= MAX_FRAMES) throw new GiveUp();
    this.pushFrame(R, this.W(), [R[fb + 1]!, R[fb + 2]!, R[fb + 3]!, R[fb + 4]!, R[fb + 5]!], this.nFrames, i + 1);
    s.n = this.nFrames + 1;
    s.i = t;
    return s;
  }

  /** A helper call: the id is defined, given to this program type and license; what it writes through stack pointers. */
  helperCall(id: number): void {
    const { R, fb, vals, opts } = this;
    if (id <= 0 || id > opts.maxHelper) this.refuse('UNKNOWN_FUNC', EINVAL, `invalid func unknown#${id}`);
    if (opts.allowedHelpers && !opts.allowedHelpers.has(id))
      this.refuse('HELPER_NOT_ALLOWED', EINVAL, `program of this type cannot use helper ${helperHumanName(id)}#${id}`);
    if (opts.gplOnlyHelpers.has(id) && !opts.gpl)
      this.refuse('GPL_ONLY_HELPER', EINVAL, 'cannot call GPL-restricted function from non-GPL compatible program');
    const w = WRITES_BUFFER.get(id);
    for (let k = 1; k <= 5; k++) {
      const arg = vals[R[fb + k]!]!;
      if (arg.k !== 'fp') continue;
      const size = w && w.buf === k ? vals[R[fb + w.size]!]! : null;
      const len = size && size.k === 'scalar' && size.c !== null && size.c > 0n && size.c <= BigInt(STACK) ? Number(size.c) : null;
      if (len !== null && this.slotsOf(arg, 0, len)) {
        const at = this.stackAt(this.atFrame);
        const st = this.W();
        for (let q = this.atFirst; q <= this.atLast; q++) st[at + q] = SCALAR;
      } else if (arg.off !== null && STACK + arg.off >= 0) {
        const from = Math.floor((STACK + arg.off) / 8);
        if (from < SLOTS) {
          const at = this.stackAt(arg.frame);
          const st = this.W();
          for (let q = from; q < SLOTS; q++) st[at + q] = w && w.buf === k ? SCALAR : vals[st[at + q]!]?.k === 'scalar' ? SCALAR : UNKNOWN;
        }
      } else this.forgetFrame(arg);
    }
    this.clobber();
    R[fb] = UNKNOWN;
  }

  /** exit: the end of the path in the outermost frame (null), else the return to the caller's frame. */
  exit(s: State): State | null {
    const ret = this.read(0);
    const { R, fb, nFrames } = this;
    if (nFrames === 1) return null;
    if (this.vals[ret]!.k === 'fp') this.refuse('STACK_PTR_RETURNED', EINVAL, 'cannot return stack pointer to the caller frame');
    const back = R[fb + RET]!;
    R.length = fb;
    this.W().length = (nFrames - 1) * SLOTS;
    const caller = fb - RF;
    R[caller] = ret;
    for (let k = 1; k <= 5; k++) R[caller + k] = UNINIT;
    s.n = nFrames - 1;
    s.i = back;
    return s;
  }
}
