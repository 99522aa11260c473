/**
 * A path-sensitive walk of the program in the spirit of the verifier's do_check: which
 * instructions it visits (insn_aux_data.seen) when branches on known values — constants,
 * values read from frozen read-only maps, bounds learnt from earlier branches, null checks of
 * pointers that cannot be null — are followed one way only. Also records what the rewrite
 * passes need: the pointer type each load/store went through, the map behind each map-helper
 * call, bpf_loop call sites that can be inlined, and whether packet data is written.
 */
import { MAP_TYPE as MT, PROG_TYPE as P } from '../../loader/uapi/index.js';
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_ST,
  BPF_STX,
  cls,
  decodeSlots,
  isLdImm64,
  sizeOf,
  successors,
  type Slot,
} from './insn.js';
import {
  alu32,
  alu64,
  branchTaken,
  constant,
  covers,
  isConst,
  M32,
  refine,
  sext,
  subreg,
  UNKNOWN,
  urange,
  type AluOp,
  type CmpOp,
  type Scalar,
} from './scalar.js';
import type { XlatedInput, XlatedMap } from './types.js';

export type PtrKind =
  | 'ctx'
  | 'stack'
  | 'map_value'
  | 'map_ptr'
  | 'pkt'
  | 'pkt_end'
  | 'pkt_meta'
  | 'socket'
  | 'sock_common'
  | 'tcp_sock'
  | 'xdp_sock'
  | 'btf'
  | 'mem'
  | 'func'
  | 'other';

interface Ptr {
  t: 'ptr';
  k: PtrKind;
  off: Scalar;
  map: XlatedMap | null;
  frame: number;
  nullable: boolean;
  id: number;
  sub: number;
}
interface Sc {
  t: 'scalar';
  s: Scalar;
  id: number;
}
interface None {
  t: 'none';
}
type Reg = Ptr | Sc | None;

interface StackSlot {
  b: string;
  spill: Reg | null;
}
interface Frame {
  regs: Reg[];
  stack: Map<number, StackSlot>;
  ret: number;
  callback: boolean;
}
interface State {
  frames: Frame[];
}

const NONE: None = { t: 'none' };
const sc = (s: Scalar, id = 0): Sc => ({ t: 'scalar', s, id });
/** `p` moved to offset `off` (every field spelt out: spreading is slow on this path). */
const withOff = (p: Ptr, off: Scalar): Ptr => ({
  t: 'ptr',
  k: p.k,
  off,
  map: p.map,
  frame: p.frame,
  nullable: p.nullable,
  id: p.id,
  sub: p.sub,
});
/** An unknown value of `size` bytes (zero-extended). Registers and scalars are never changed in place, so one object per size serves every use. */
const SIZED: Sc[] = [1, 2, 3, 4, 5, 6, 7].map((size) => sc(urange(0n, (1n << BigInt(8 * size)) - 1n)));
const UNKNOWN_SC = sc(UNKNOWN);
const unknownSized = (size: number): Sc => (size >= 8 ? UNKNOWN_SC : (SIZED[size - 1] ?? sc(urange(0n, (1n << BigInt(8 * size)) - 1n))));

export interface LoopSite {
  fit: boolean;
  cb: number;
}

export interface Exploration {
  insns: Slot[];
  seen: Uint8Array;
  /** Pointer kind each visited load/store went through (first visit). */
  ptrKind: (PtrKind | null)[];
  /** Map behind a visited map-helper call; 'poison' when several maps reach it. */
  callMap: (XlatedMap | 'poison' | undefined)[];
  loops: Map<number, LoopSite>;
  seenDirectWrite: boolean;
  tstampTypeAccess: boolean;
  processed: number;
  complete: boolean;
  notes: string[];
}

const CMP: Record<number, CmpOp> = {
  0x10: 'jeq',
  0x20: 'jgt',
  0x30: 'jge',
  0x40: 'jset',
  0x50: 'jne',
  0x60: 'jsgt',
  0x70: 'jsge',
  0xa0: 'jlt',
  0xb0: 'jle',
  0xc0: 'jslt',
  0xd0: 'jsle',
};
const ALU: Record<number, AluOp> = {
  0x00: 'add',
  0x10: 'sub',
  0x20: 'mul',
  0x30: 'div',
  0x40: 'or',
  0x50: 'and',
  0x60: 'lsh',
  0x70: 'rsh',
  0x80: 'neg',
  0x90: 'mod',
  0xa0: 'xor',
  0xc0: 'arsh',
};

/** Helpers returning a pointer that may be null, and what it points to. */
const NULLABLE_RET: Record<number, PtrKind> = {
  84: 'socket',
  85: 'socket',
  99: 'sock_common',
  95: 'socket',
  96: 'tcp_sock',
  98: 'socket',
  107: 'map_value',
  156: 'map_value',
  145: 'map_value',
  210: 'map_value',
  131: 'mem',
  153: 'mem',
  195: 'mem',
  136: 'btf',
  137: 'btf',
  138: 'btf',
  139: 'btf',
  140: 'btf',
  178: 'btf',
  196: 'btf',
};
const NONNULL_RET: Record<number, PtrKind> = { 154: 'mem', 158: 'btf' };
/** Helpers whose pointer arguments are only read (stack contents survive the call). */
const READS_ONLY: ReadonlySet<number> = new Set([
  1, 2, 3, 12, 51, 87, 107, 156, 145, 210, 164, 181, 25, 130, 84, 85, 99, 28, 6, 177, 5, 7, 8, 14, 15, 35, 118, 125, 170, 169, 171, 172,
]);
/** Helpers taking a callback (register holding the callback) and how its frame starts. */
const CALLBACK_ARG: Record<number, number> = { 164: 2, 181: 2, 170: 2, 180: 3, 209: 2 };

/** old covers new for pruning. */
function regCovers(o: Reg, n: Reg): boolean {
  if (o.t === 'none') return true;
  if (o.t === 'scalar') return n.t === 'scalar' && covers(o.s, n.s);
  if (n.t !== 'ptr') return false;
  return o.k === n.k && o.map === n.map && o.frame === n.frame && o.nullable === n.nullable && o.sub === n.sub && covers(o.off, n.off);
}

function slotCovers(o: StackSlot | undefined, n: StackSlot | undefined): boolean {
  if (!o) return true;
  const nb = n ? n.b : 'iiiiiiii';
  for (let i = 0; i < 8; i++) {
    const ob = o.b[i]!,
      x = nb[i]!;
    if (ob === 'i') continue;
    if (ob === 'm') {
      if (x === 'i' || (x === 's' && n!.spill!.t === 'ptr')) return false;
      continue;
    }
    if (ob === 'z') {
      if (x === 'z') continue;
      if (x === 's' && n!.spill!.t === 'scalar' && isConst(n!.spill!.s) && n!.spill!.s.v === 0n) continue;
      return false;
    }
    if (ob === 's') {
      if (x !== 's') {
        if (o.spill!.t === 'scalar' && (x === 'm' || x === 'z') && covers(o.spill!.s, x === 'z' ? constant(0n) : UNKNOWN)) continue;
        return false;
      }
      if (!regCovers(o.spill!, n!.spill!)) return false;
    }
  }
  return true;
}

function cloneState(s: State): State {
  return { frames: s.frames.map((f) => ({ regs: f.regs.slice(), stack: new Map(f.stack), ret: f.ret, callback: f.callback })) };
}

/** Static register liveness (live-in bitmask of r0-r9 per slot). */
function liveness(insns: Slot[]): Uint16Array {
  const n = insns.length;
  const use = new Uint16Array(n),
    def = new Uint16Array(n);
  const R = (r: number) => 1 << r;
  const ARGS = R(1) | R(2) | R(3) | R(4) | R(5);
  for (let pc = 0; pc < n; pc++) {
    const s = insns[pc]!;
    const c = cls(s.code);
    const x = (s.code & 8) !== 0;
    if (isLdImm64(s)) {
      def[pc] = R(s.dst);
      continue;
    }
    switch (c) {
      case BPF_ALU:
      case BPF_ALU64: {
        const op = s.code & 0xf0;
        if (op === 0xb0) use[pc] = x ? R(s.src) : 0;
        else use[pc] = R(s.dst) | (x && op !== 0x80 && op !== 0xd0 ? R(s.src) : 0);
        def[pc] = R(s.dst);
        break;
      }
      case BPF_LDX:
        use[pc] = R(s.src);
        def[pc] = R(s.dst);
        break;
      case BPF_ST:
        use[pc] = R(s.dst);
        break;
      case BPF_STX:
        use[pc] = R(s.dst) | R(s.src) | ((s.code & 0xe0) === 0xc0 && s.imm === 0xf1 ? R(0) : 0);
        if ((s.code & 0xe0) === 0xc0 && s.imm & 1) def[pc] = s.imm === 0xf1 ? R(0) : R(s.src);
        break;
      case BPF_LD:
        use[pc] = R(6) | ((s.code & 0xe0) === 0x40 ? R(s.src) : 0);
        def[pc] = R(0) | ARGS;
        break;
      case BPF_JMP:
      case BPF_JMP32: {
        const op = s.code & 0xf0;
        if (op === 0x80) {
          use[pc] = ARGS;
          def[pc] = R(0) | ARGS;
        } else if (op === 0x90) use[pc] = R(0);
        else if (op !== 0x00) use[pc] = R(s.dst) | (x ? R(s.src) : 0);
        break;
      }
    }
  }
  const live = new Uint16Array(n);
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      let out = 0;
      for (const t of successors(insns, pc)) if (t >= 0 && t < n) out |= live[t]!;
      const v = (use[pc]! | (out & ~def[pc]!)) & 0x3ff;
      if (v !== live[pc]) {
        live[pc] = v;
        changed = true;
      }
    }
  }
  return live;
}

/** Prune points: jump targets, fall-throughs of conditional jumps, subprogram starts. */
function prunePoints(insns: Slot[]): Uint8Array {
  const n = insns.length;
  const prune = new Uint8Array(n);
  for (let pc = 0; pc < n; pc++) {
    const s = insns[pc]!;
    const c = cls(s.code);
    if (isLdImm64(s)) {
      if (s.src === 4) prune[pc + 1 + s.imm] = 1;
      pc++;
      continue;
    }
    if (c === BPF_JMP || c === BPF_JMP32) {
      const op = s.code & 0xf0;
      if (op === 0x80 && s.src === 1) {
        prune[pc + 1 + s.imm] = 1;
        prune[pc + 1] = 1;
      } else if (op !== 0x80 && op !== 0x90) for (const t of successors(insns, pc)) if (t < n) prune[t] = 1;
    }
  }
  return prune;
}

const frameOf = (st: State) => st.frames[st.frames.length - 1]!;

/** A non-null pointer of `k` at offset 0 in frame 0. */
const ptrOf = (k: PtrKind, map: XlatedMap | null = null, nullable = false, id = 0, sub = 0): Ptr => ({
  t: 'ptr',
  k,
  off: constant(0n),
  map,
  frame: 0,
  nullable,
  id,
  sub,
});

/** r1-r5 after a call: not readable. */
function clobberArgs(regs: Reg[]): void {
  for (let r = 1; r <= 5; r++) regs[r] = NONE;
}

// --- stack -----------------------------------------------------------------------------------
function stackWrite(st: State, p: Ptr, off: number, size: number, val: Reg | null, isImm: boolean, imm: number): void {
  const fr = st.frames[p.frame];
  if (!fr) return;
  if (!isConst(p.off)) {
    // variable offset: every slot it may touch becomes misc
    for (const [k, s] of fr.stack) fr.stack.set(k, { b: s.b.replace(/./g, (ch) => (ch === 'i' ? 'i' : 'm')), spill: null });
    return;
  }
  const addr = Number(BigInt.asIntN(64, p.off.v)) + off;
  if (addr >= 0 || addr < -512) return;
  const spi = Math.floor((-addr - 1) / 8);
  const base = -(spi + 1) * 8;
  const byteOff = addr - base;
  if (byteOff === 0 && val && val.t === 'scalar') {
    fr.stack.set(spi, { b: 'i'.repeat(8 - size) + 's'.repeat(size) + '', spill: sizeFit(val, size) });
    fixBytes(fr, spi, size);
    return;
  }
  if (byteOff === 0 && !val && isImm) {
    fr.stack.set(spi, { b: '', spill: sc(constant(BigInt(imm))) });
    fixBytes(fr, spi, size);
    return;
  }
  if (byteOff === 0 && val && val.t === 'ptr' && size === 8) {
    fr.stack.set(spi, { b: 'ssssssss', spill: val });
    return;
  }
  const zero = (val && val.t === 'scalar' && isConst(val.s) && val.s.v === 0n) || (!val && isImm && imm === 0);
  for (let i = 0; i < size; i++) {
    const a = addr + i;
    const si = Math.floor((-a - 1) / 8);
    const bi = a + (si + 1) * 8;
    const old = fr.stack.get(si);
    let b = old ? old.b : 'iiiiiiii';
    if (old?.spill) b = b.replace(/s/g, 'm');
    b = b.slice(0, bi) + (zero ? 'z' : 'm') + b.slice(bi + 1);
    fr.stack.set(si, { b, spill: null });
  }
}

/** Stack byte states for a spill of `size` bytes at the slot start (bytes 0..size-1 of the slot's lowest address). */
function fixBytes(fr: Frame, spi: number, size: number): void {
  const s = fr.stack.get(spi)!;
  // byte index 0 = lowest address (slot base). A spill of `size` covers bytes 0..size-1; the rest keep misc.
  const b = 's'.repeat(size) + 'm'.repeat(8 - size);
  fr.stack.set(spi, { b, spill: s.spill });
}

function sizeFit(v: Sc, size: number): Sc {
  if (size === 8) return v;
  const lim = (1n << BigInt(8 * size)) - 1n;
  if (v.s.umax <= lim) return v;
  if (isConst(v.s)) return sc(constant(v.s.v & lim));
  return sc(urange(0n, lim));
}

function stackRead(st: State, p: Ptr, off: number, size: number): Reg {
  const fr = st.frames[p.frame];
  if (!fr || !isConst(p.off)) return unknownSized(size);
  const addr = Number(BigInt.asIntN(64, p.off.v)) + off;
  if (addr >= 0 || addr < -512) return unknownSized(size);
  const spi = Math.floor((-addr - 1) / 8);
  const byteOff = addr + (spi + 1) * 8;
  const slot = fr.stack.get(spi);
  if (!slot) return unknownSized(size);
  if (slot.spill && byteOff === 0) {
    const sp = slot.spill;
    const ssize = slot.b.split('').filter((c) => c === 's').length;
    if (sp.t === 'ptr') return size === 8 ? sp : unknownSized(size);
    if (sp.t === 'scalar' && size <= ssize) {
      if (size === 8) return sp;
      const lim = (1n << BigInt(8 * size)) - 1n;
      if (sp.s.umax <= lim) return size === ssize ? sp : sc(sp.s);
      return isConst(sp.s) ? sc(constant(sp.s.v & lim)) : unknownSized(size);
    }
  }
  let allZero = true;
  for (let i = 0; i < size; i++) {
    const a = addr + i;
    const si = Math.floor((-a - 1) / 8);
    const bi = a + (si + 1) * 8;
    const s2 = fr.stack.get(si);
    if (!s2 || s2.b[bi] !== 'z') {
      allZero = false;
      break;
    }
  }
  return allZero ? sc(constant(0n)) : unknownSized(size);
}

/** A helper may write through stack pointers in r1-r5 (the size in the next register, else 8 bytes). */
function clobberStackArgs(st: State, regs: Reg[]): void {
  for (let r = 1; r <= 5; r++) {
    const p = regs[r]!;
    if (p.t !== 'ptr' || p.k !== 'stack') continue;
    const nx = regs[r + 1];
    const size = nx && nx.t === 'scalar' && isConst(nx.s) && nx.s.v > 0n && nx.s.v <= 512n ? Number(nx.s.v) : 8;
    for (let i = 0; i < size; i += 1) stackWrite(st, p, i, 1, null, false, 1);
  }
}

/** A load through a map value pointer: known only for a frozen read-only single-element array with contents. */
function directRead(p: Ptr, off: number, size: number, le: boolean): Reg {
  const m = p.map;
  if (!m || !isConst(p.off)) return unknownSized(size);
  const at = Number(p.off.v) + off;
  if (!(m.flags & 0x80 && m.frozen && m.contents && m.type === MT.ARRAY && m.maxEntries === 1)) return unknownSized(size);
  if (at < 0 || at + size > m.valueSize || at + size > m.contents.length) return unknownSized(size);
  let v = 0n;
  for (let i = 0; i < size; i++) {
    const byte = BigInt(m.contents[at + (le ? size - 1 - i : i)]!);
    v = (v << 8n) | byte;
  }
  return sc(constant(v));
}

// --- registers -------------------------------------------------------------------------------
/** Apply a refinement to every register and spill linked to `reg` (same non-zero id). */
function syncScalar(st: State, r: number, v: Sc): void {
  const fr = frameOf(st);
  const old = fr.regs[r]!;
  fr.regs[r] = v;
  if (old.t === 'scalar' && old.id) {
    for (const f of st.frames) {
      for (let i = 0; i < 10; i++) {
        const x = f.regs[i]!;
        if (x.t === 'scalar' && x.id === old.id) f.regs[i] = { ...v, id: old.id };
      }
      for (const [k, s] of f.stack)
        if (s.spill && s.spill.t === 'scalar' && s.spill.id === old.id) f.stack.set(k, { b: s.b, spill: { ...v, id: old.id } });
    }
  }
}

function markNull(st: State, id: number, isNull: boolean): void {
  for (const f of st.frames) {
    for (let i = 0; i < 10; i++) {
      const x = f.regs[i]!;
      if (x.t === 'ptr' && x.id === id && x.nullable) f.regs[i] = isNull ? sc(constant(0n)) : { ...x, nullable: false, id: 0 };
    }
    for (const [k, s] of f.stack) {
      const x = s.spill;
      if (x && x.t === 'ptr' && x.id === id && x.nullable)
        f.stack.set(k, { b: s.b, spill: isNull ? sc(constant(0n)) : { ...x, nullable: false, id: 0 } });
    }
  }
}

const notNull = (p: Ptr) =>
  !p.nullable &&
  (p.k === 'socket' || p.k === 'tcp_sock' || p.k === 'map_value' || p.k === 'sock_common' || p.k === 'mem' || p.k === 'map_ptr');

// --- entry states ----------------------------------------------------------------------------
function initial(): State {
  const regs: Reg[] = new Array(11).fill(NONE);
  regs[1] = { t: 'ptr', k: 'ctx', off: constant(0n), map: null, frame: 0, nullable: false, id: 0, sub: 0 };
  regs[10] = { t: 'ptr', k: 'stack', off: constant(0n), map: null, frame: 0, nullable: false, id: 0, sub: 0 };
  return { frames: [{ regs, stack: new Map(), ret: -1, callback: false }] };
}

/** A global subprogram is verified on its own: arguments unknown. */
function globalEntry(): State {
  const st = initial();
  const f = st.frames[0]!;
  for (let r = 1; r <= 5; r++) f.regs[r] = sc(UNKNOWN);
  return st;
}

/** A new frame for a call at `pc`: r1-r5 as given, r10 the new frame's stack. */
function pushFrame(st: State, regs: Reg[], pc: number, callback: boolean): void {
  regs[10] = { t: 'ptr', k: 'stack', off: constant(0n), map: null, frame: st.frames.length, nullable: false, id: 0, sub: 0 };
  st.frames.push({ regs, stack: new Map(), ret: pc + 1, callback });
}

/** Where a path is: the instruction it is at and the state there. Steps move it; false ends the path. */
interface Path {
  pc: number;
  st: State;
}

/** Helpers that take a map in r1 (their call sites are rewritten per map). */
const MAP_HELPERS = [1, 2, 3, 87, 88, 89, 51, 164, 195];
const BPF_LOOP = 181;

/**
 * One exploration: the walk's inputs, what it has learnt (the Exploration fields) and its
 * work list. `run` takes paths off the work list; `walk` follows one path an instruction at a
 * time until it ends, is pruned, or the budget runs out; the step methods model one
 * instruction class each and say where the path goes next.
 */
class Explorer {
  readonly insns: Slot[];
  readonly n: number;
  readonly le: boolean;
  readonly pt: number;
  readonly budget: number;
  readonly mapAt: Map<number, XlatedInput['maps'][number]>;
  readonly globals: Set<number>;
  readonly live: Uint16Array;
  readonly prune: Uint8Array;
  /** States already walked from each prune point (at most 64 each). */
  readonly stored = new Map<number, State[]>();
  readonly seen: Uint8Array;
  readonly ptrKind: (PtrKind | null)[];
  readonly callMap: (XlatedMap | 'poison' | undefined)[];
  readonly loops = new Map<number, LoopSite>();
  readonly notes = new Set<string>();
  /** Paths still to walk: a start and its state. */
  readonly work: [number, State][] = [];
  readonly globalsDone = new Set<number>();
  /** The inner map of a map-in-map, one object per outer map so that states compare equal. */
  readonly innerMaps = new Map<XlatedMap, XlatedMap>();
  nextId = 1;
  seenDirectWrite = false;
  tstampTypeAccess = false;
  processed = 0;
  complete = true;

  constructor(input: XlatedInput) {
    this.insns = decodeSlots(input.insns, input.order ?? 'le');
    this.n = this.insns.length;
    this.le = (input.order ?? 'le') === 'le';
    this.pt = input.progType;
    this.budget = input.budget ?? 1_000_000;
    this.seen = new Uint8Array(this.n);
    this.ptrKind = new Array(this.n).fill(null);
    this.callMap = new Array(this.n).fill(undefined);
    this.mapAt = new Map(input.maps.map((m) => [m.insn, m]));
    this.globals = new Set(input.globalFuncs ?? []);
    this.live = liveness(this.insns);
    this.prune = prunePoints(this.insns);
  }

  run(): Exploration {
    this.work.push([0, initial()]);
    while (this.work.length) {
      const [pc, st] = this.work.pop()!;
      this.walk({ pc, st });
    }
    if (!this.complete) this.notes.add(`exploration stopped after ${this.budget} instructions`);
    return {
      insns: this.insns,
      seen: this.seen,
      ptrKind: this.ptrKind,
      callMap: this.callMap,
      loops: this.loops,
      seenDirectWrite: this.seenDirectWrite,
      tstampTypeAccess: this.tstampTypeAccess,
      processed: this.processed,
      complete: this.complete,
      notes: [...this.notes],
    };
  }

  /** Follows one path until it leaves the program, exits, is covered by a stored state, or the budget is spent. */
  walk(path: Path): void {
    for (;;) {
      const pc = path.pc;
      if (pc < 0 || pc >= this.n) return;
      if (this.prune[pc]) {
        if (this.covered(pc, path.st)) return;
        this.remember(pc, path.st);
      }
      if (++this.processed > this.budget) {
        this.complete = false;
        return;
      }
      this.seen[pc] = 1;
      if (!this.step(path)) return;
    }
  }

  step(path: Path): boolean {
    const s = this.insns[path.pc]!;
    const c = cls(s.code);
    if (isLdImm64(s)) return this.ldImm64(path, s);
    if (c === BPF_ALU || c === BPF_ALU64) return this.alu(path, s, c === BPF_ALU64);
    if (c === BPF_LDX) return this.load(path, s);
    if (c === BPF_ST || c === BPF_STX) return this.storeInsn(path, s, c);
    if (c === BPF_LD) {
      // LD_ABS / LD_IND: r0 = packet bytes, r1-r5 clobbered.
      const R = frameOf(path.st).regs;
      R[0] = unknownSized(sizeOf(s.code));
      clobberArgs(R);
      path.pc++;
      return true;
    }
    const op = s.code & 0xf0;
    if (op === 0x00) {
      path.pc = path.pc + 1 + (c === BPF_JMP32 ? s.imm : s.off);
      return true;
    }
    if (op === 0x90) return this.exit(path);
    if (op === 0x80) return this.call(path, s);
    return this.condJump(path, s, c === BPF_JMP32);
  }

  // --- pruning -------------------------------------------------------------------------------
  /** Some stored state at `pc` covers `st` in every live register and every stack slot. */
  covered(pc: number, st: State): boolean {
    const list = this.stored.get(pc);
    if (!list) return false;
    outer: for (const o of list) {
      if (o.frames.length !== st.frames.length) continue;
      for (let f = 0; f < st.frames.length; f++) {
        const of = o.frames[f]!,
          nf = st.frames[f]!;
        if (of.ret !== nf.ret || of.callback !== nf.callback) continue outer;
        const top = f === st.frames.length - 1;
        const mask = top ? this.live[pc]! : (this.live[st.frames[f + 1]!.ret] ?? 0x3ff) & 0x3c0;
        for (let r = 0; r < 10; r++) if (mask & (1 << r)) if (!regCovers(of.regs[r]!, nf.regs[r]!)) continue outer;
        for (const [k, slot] of of.stack) if (!slotCovers(slot, nf.stack.get(k))) continue outer;
      }
      return true;
    }
    return false;
  }

  remember(pc: number, st: State): void {
    let list = this.stored.get(pc);
    if (!list) this.stored.set(pc, (list = []));
    if (list.length < 64) list.push(cloneState(st));
  }

  // --- loads and stores ----------------------------------------------------------------------
  ldImm64(path: Path, s: Slot): boolean {
    const pc = path.pc;
    const R = frameOf(path.st).regs;
    this.seen[pc + 1] = 1;
    const ml = this.mapAt.get(pc);
    const mk = (k: PtrKind, extra: Partial<Ptr> = {}): Ptr => ({
      t: 'ptr',
      k,
      off: constant(0n),
      map: null,
      frame: 0,
      nullable: false,
      id: 0,
      sub: 0,
      ...extra,
    });
    if (s.src === 0) R[s.dst] = sc(constant((BigInt(this.insns[pc + 1]!.imm >>> 0) << 32n) | BigInt(s.imm >>> 0)));
    else if ((s.src === 1 || s.src === 5) && ml) R[s.dst] = mk('map_ptr', { map: ml.map });
    else if ((s.src === 2 || s.src === 6) && ml) R[s.dst] = mk('map_value', { map: ml.map, off: constant(BigInt(ml.offset)) });
    else if (s.src === 4) R[s.dst] = mk('func', { sub: pc + 1 + s.imm });
    else R[s.dst] = mk('btf');
    path.pc += 2;
    return true;
  }

  load(path: Path, s: Slot): boolean {
    const R = frameOf(path.st).regs;
    const size = sizeOf(s.code);
    const base = R[s.src]!;
    const sx = (s.code & 0xe0) === 0x80;
    let v: Reg = unknownSized(size);
    if (base.t === 'ptr') {
      if (this.ptrKind[path.pc] === null) this.ptrKind[path.pc] = base.k;
      if (base.k === 'stack') v = stackRead(path.st, base, s.off, size);
      else if (base.k === 'ctx') v = this.ctxLoad(s.off + Number(base.off.v), size);
      else if (base.k === 'map_value') v = directRead(base, s.off, size, this.le);
    }
    if (sx && v.t === 'scalar') v = sc(sext(v.s, size * 8));
    R[s.dst] = v.t === 'scalar' ? sc(v.s) : v;
    path.pc++;
    return true;
  }

  storeInsn(path: Path, s: Slot, c: number): boolean {
    const R = frameOf(path.st).regs;
    const size = sizeOf(s.code);
    const base = R[s.dst]!;
    const atomic = (s.code & 0xe0) === 0xc0;
    if (base.t === 'ptr') {
      if (this.ptrKind[path.pc] === null) this.ptrKind[path.pc] = base.k;
      if (base.k === 'pkt' || base.k === 'pkt_meta') this.seenDirectWrite = true;
      if (base.k === 'stack') {
        if (atomic) stackWrite(path.st, base, s.off, size, sc(UNKNOWN), false, 0);
        else stackWrite(path.st, base, s.off, size, c === BPF_STX ? R[s.src]! : null, c === BPF_ST, s.imm);
      }
    }
    if (atomic && s.imm & 1) {
      if (s.imm === 0xf1) R[0] = unknownSized(size);
      else R[s.src] = unknownSized(size);
    }
    path.pc++;
    return true;
  }

  /** A load from the context: packet pointers and the socket for the program types that have them. */
  ctxLoad(off: number, size: number): Reg {
    const pt = this.pt;
    const skbLike =
      pt === P.SCHED_CLS ||
      pt === P.SCHED_ACT ||
      pt === P.CGROUP_SKB ||
      pt === P.LWT_IN ||
      pt === P.LWT_OUT ||
      pt === P.LWT_XMIT ||
      pt === P.LWT_SEG6LOCAL ||
      pt === P.SK_SKB;
    const ptr = (k: PtrKind, nullable = false): Ptr => ({
      t: 'ptr',
      k,
      off: constant(0n),
      map: null,
      frame: 0,
      nullable,
      id: nullable ? this.nextId++ : 0,
      sub: 0,
    });
    if (pt === P.XDP) {
      if (off === 0) return ptr('pkt');
      if (off === 4) return ptr('pkt_end');
      if (off === 8) return ptr('pkt_meta');
    }
    if (skbLike) {
      if (off === 76) return ptr('pkt');
      if (off === 80) return ptr('pkt_end');
      if (off === 140) return ptr('pkt_meta');
      if (off === 168) return ptr('sock_common', true);
      if (off === 180) this.tstampTypeAccess = true;
    }
    if (pt === P.SK_MSG) {
      if (off === 0) return ptr('pkt');
      if (off === 8) return ptr('pkt_end');
    }
    if (pt === P.CGROUP_SOCK_ADDR && off === 64) return ptr('socket');
    return unknownSized(size);
  }

  // --- ALU -----------------------------------------------------------------------------------
  alu(path: Path, s: Slot, is64: boolean): boolean {
    const R = frameOf(path.st).regs;
    const op = s.code & 0xf0;
    const x = (s.code & 8) !== 0;
    const dst = R[s.dst]!;
    if (op === 0xb0) this.mov(R, s, is64, x);
    else if (op === 0xd0) R[s.dst] = sc(this.endian(dst, s, is64));
    else if (op === 0x80) {
      const v = dst.t === 'scalar' ? dst.s : UNKNOWN;
      R[s.dst] = sc(isConst(v) ? (is64 ? constant(-v.v) : constant(BigInt.asUintN(32, -v.v))) : is64 ? UNKNOWN : urange(0n, M32));
    } else R[s.dst] = arith(dst, op, s, is64, x ? R[s.src]! : sc(constant(is64 ? BigInt(s.imm) : BigInt(s.imm >>> 0))));
    path.pc++;
    return true;
  }

  /** mov, movsx: a 64-bit register copy (and a 32-bit copy of a value that fits) links the two registers by id. */
  mov(R: Reg[], s: Slot, is64: boolean, x: boolean): void {
    if (!x) {
      R[s.dst] = sc(constant(is64 ? BigInt(s.imm) : BigInt(s.imm >>> 0)));
      return;
    }
    const src = R[s.src]!;
    if (s.off === 8 || s.off === 16 || s.off === 32) {
      const v = src.t === 'scalar' ? sext(is64 ? src.s : subreg(src.s), s.off) : UNKNOWN;
      R[s.dst] = sc(is64 ? v : subreg(v));
    } else if (is64) {
      if (src.t === 'scalar') {
        if (!src.id) R[s.src] = sc(src.s, this.nextId++);
        R[s.dst] = sc((R[s.src] as Sc).s, (R[s.src] as Sc).id);
      } else R[s.dst] = src;
    } else {
      if (src.t === 'scalar') {
        if (src.s.umax <= M32) {
          if (!src.id) R[s.src] = sc(src.s, this.nextId++);
          R[s.dst] = sc((R[s.src] as Sc).s, (R[s.src] as Sc).id);
        } else R[s.dst] = sc(subreg(src.s));
      } else R[s.dst] = sc(urange(0n, M32));
    }
  }

  /** Byte swaps: a constant is swapped (or truncated), anything else is unknown in `imm` bits. */
  endian(dst: Reg, s: Slot, is64: boolean): Scalar {
    const v = dst.t === 'scalar' ? dst.s : UNKNOWN;
    const bits = s.imm;
    if (!isConst(v)) return bits >= 64 ? UNKNOWN : urange(0n, (1n << BigInt(bits)) - 1n);
    const lim = (1n << BigInt(bits)) - 1n;
    const val = v.v & lim;
    const swap = is64 || (!is64 && (s.code & 8) !== 0) !== !this.le;
    if (!swap) return constant(val);
    let out = 0n;
    for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((val >> BigInt(8 * i)) & 0xffn);
    return constant(out);
  }

  // --- calls and exits -----------------------------------------------------------------------
  /** exit: the program's end, a callback's end, or a return to the caller frame. */
  exit(path: Path): boolean {
    const st = path.st;
    if (st.frames.length === 1) return false;
    const callee = st.frames.pop()!;
    if (callee.callback) return false;
    const caller = frameOf(st);
    caller.regs[0] = callee.regs[0]!.t === 'ptr' && (callee.regs[0] as Ptr).k === 'stack' ? sc(UNKNOWN) : callee.regs[0]!;
    clobberArgs(caller.regs);
    path.pc = callee.ret;
    return true;
  }

  /** call: a bpf-to-bpf call, a kfunc (r0 unknown) or a helper; r1-r5 are not readable after it. */
  call(path: Path, s: Slot): boolean {
    const R = frameOf(path.st).regs;
    if (s.src === 1) return this.callSubprog(path, path.pc + 1 + s.imm);
    if (s.src === 2) {
      this.notes.add('kfunc calls');
      R[0] = sc(UNKNOWN);
    } else this.callHelper(path, s.imm);
    clobberArgs(R);
    path.pc++;
    return true;
  }

  /** A bpf-to-bpf call: a global function is walked once on its own, a static one in a new frame. */
  callSubprog(path: Path, target: number): boolean {
    const st = path.st;
    const R = frameOf(st).regs;
    if (this.globals.has(target)) {
      if (!this.globalsDone.has(target)) {
        this.globalsDone.add(target);
        this.work.push([target, globalEntry()]);
      }
      R[0] = sc(UNKNOWN);
      clobberArgs(R);
      path.pc++;
      return true;
    }
    if (st.frames.length >= 8) {
      this.notes.add('call depth');
      return false;
    }
    const regs: Reg[] = new Array(11).fill(NONE);
    for (let r = 1; r <= 5; r++) regs[r] = R[r]!;
    pushFrame(st, regs, path.pc, false);
    path.pc = target;
    return true;
  }

  /** A helper call: note what the rewrites need, walk its callback, then r0 is its return value. */
  callHelper(path: Path, id: number): void {
    const { pc, st } = path;
    const R = frameOf(st).regs;
    const r1 = R[1]!;
    // map helpers: remember the map (poisoned when several reach the call)
    if (MAP_HELPERS.includes(id) && r1.t === 'ptr' && r1.k === 'map_ptr') {
      const prev = this.callMap[pc];
      this.callMap[pc] = prev === undefined || prev === r1.map ? r1.map! : 'poison';
    }
    if (id === BPF_LOOP) this.noteLoop(pc, R);
    const cbReg = CALLBACK_ARG[id];
    if (cbReg !== undefined) this.queueCallback(path, id, R[cbReg]!, r1);
    if (!READS_ONLY.has(id)) clobberStackArgs(st, R);
    R[0] = this.helperReturn(id, r1);
  }

  /** bpf_loop can be inlined when every call reaching the site has flags 0 and the same callback. */
  noteLoop(pc: number, R: Reg[]): void {
    const cb = R[2]!,
      flags = R[4]!;
    const cbStart = cb.t === 'ptr' && cb.k === 'func' ? cb.sub : -1;
    const flagZero = flags.t === 'scalar' && isConst(flags.s) && flags.s.v === 0n;
    const prev = this.loops.get(pc);
    if (!prev) this.loops.set(pc, { fit: flagZero, cb: cbStart });
    else if (prev.fit) prev.fit = flagZero && prev.cb === cbStart;
  }

  /** A callback is walked as a path of its own from a copy of the state, in a new frame with the arguments the helper passes. */
  queueCallback(path: Path, id: number, cb: Reg, r1: Reg): void {
    if (cb.t !== 'ptr' || cb.k !== 'func' || path.st.frames.length >= 8) return;
    const cst = cloneState(path.st);
    const regs: Reg[] = new Array(11).fill(NONE);
    const callerRegs = frameOf(cst).regs;
    const val = (m: XlatedMap | null): Ptr => ({
      t: 'ptr',
      k: 'map_value',
      off: constant(0n),
      map: m,
      frame: 0,
      nullable: false,
      id: 0,
      sub: 0,
    });
    const other: Ptr = { t: 'ptr', k: 'other', off: constant(0n), map: null, frame: 0, nullable: false, id: 0, sub: 0 };
    if (id === BPF_LOOP) {
      regs[1] = sc(urange(0n, M32));
      regs[2] = callerRegs[3]!;
    } else if (id === 164) {
      regs[1] = callerRegs[1]!;
      regs[2] = other;
      regs[3] = val(r1.t === 'ptr' ? r1.map : null);
      regs[4] = callerRegs[3]!;
    } else if (id === 170) {
      regs[1] = sc(UNKNOWN);
      regs[2] = other;
      regs[3] = other;
    } else if (id === 180) {
      regs[1] = other;
      regs[2] = other;
      regs[3] = callerRegs[4]!;
    } else {
      regs[1] = other;
      regs[2] = callerRegs[3]!;
    }
    pushFrame(cst, regs, path.pc, true);
    this.work.push([cb.sub, cst]);
  }

  /** r0 after helper `id`: a map value (or inner map) from a lookup, a nullable or non-null pointer, or a scalar. */
  helperReturn(id: number, r1: Reg): Reg {
    if (id === 1 && r1.t === 'ptr' && r1.k === 'map_ptr' && r1.map) {
      const m = r1.map;
      if ((m.type === MT.ARRAY_OF_MAPS || m.type === MT.HASH_OF_MAPS) && m.inner) {
        const inner: XlatedMap = { ...m.inner, frozen: false, contents: null, inner: null };
        return ptrOf('map_ptr', this.innerMap(m, inner), true, this.nextId++);
      }
      return ptrOf('map_value', m, true, this.nextId++);
    }
    if (NULLABLE_RET[id]) return ptrOf(NULLABLE_RET[id]!, null, true, this.nextId++);
    if (NONNULL_RET[id]) return ptrOf(NONNULL_RET[id]!);
    if (id === 8) return sc(urange(0n, M32));
    return sc(UNKNOWN);
  }

  innerMap(outer: XlatedMap, inner: XlatedMap): XlatedMap {
    let m = this.innerMaps.get(outer);
    if (!m) {
      m = inner;
      this.innerMaps.set(outer, m);
    }
    return m;
  }

  // --- conditional jumps ---------------------------------------------------------------------
  condJump(path: Path, s: Slot, is32: boolean): boolean {
    const R = frameOf(path.st).regs;
    const cmp = CMP[s.code & 0xf0];
    if (!cmp) {
      // may_goto and unknown: both ways
      this.work.push([path.pc + 1 + s.off, cloneState(path.st)]);
      path.pc++;
      return true;
    }
    const x = (s.code & 8) !== 0;
    const a = R[s.dst]!;
    const b: Reg = x ? R[s.src]! : sc(constant(is32 ? BigInt(s.imm >>> 0) : BigInt(s.imm)));
    if (a.t === 'scalar' && b.t === 'scalar') return this.scalarBranch(path, s, cmp, is32, a, b);
    const target = path.pc + 1 + s.off;
    // pointers
    const ptr = a.t === 'ptr' ? a : b.t === 'ptr' ? b : null;
    const other = ptr === a ? b : a;
    if (
      ptr &&
      other.t === 'scalar' &&
      isConst(other.s) &&
      (is32 ? (other.s.v & M32) === 0n : other.s.v === 0n) &&
      (cmp === 'jeq' || cmp === 'jne') &&
      !is32
    ) {
      if (ptr.nullable && ptr.id) {
        const t = cloneState(path.st);
        markNull(t, ptr.id, cmp === 'jeq');
        markNull(path.st, ptr.id, cmp !== 'jeq');
        this.work.push([target, t]);
        path.pc++;
        return true;
      }
      if (notNull(ptr)) {
        if (cmp === 'jne') {
          path.pc = target;
          return true;
        }
        path.pc++;
        return true;
      }
    }
    this.work.push([target, cloneState(path.st)]);
    path.pc++;
    return true;
  }

  /**
   * A comparison of two scalars: followed one way when its outcome is known, else both ways
   * (the taken side queued); each side refines the registers compared, and a side whose
   * refinement is empty is not walked.
   */
  scalarBranch(path: Path, s: Slot, cmp: CmpOp, is32: boolean, a: Sc, b: Sc): boolean {
    const st = path.st;
    const x = (s.code & 8) !== 0;
    const target = path.pc + 1 + s.off;
    const signed = cmp === 'jsgt' || cmp === 'jsge' || cmp === 'jslt' || cmp === 'jsle';
    const view = (v: Scalar) => (!is32 ? v : signed ? sext(subreg(v), 32) : subreg(v));
    const av = view(a.s),
      bv = view(b.s);
    const pred = branchTaken(cmp, av, bv);
    const lim = signed ? 0x7fffffffn : M32;
    const canRefine = !is32 || (a.s.umax <= lim && b.s.umax <= lim);
    const branch = (taken: boolean): State | null => {
      const ns = taken ? cloneState(st) : st;
      if (!canRefine) return ns;
      const r = refine(cmp, taken, av, bv);
      if (!r) return null;
      syncScalar(ns, s.dst, { t: 'scalar', s: r[0], id: a.id });
      if (x) syncScalar(ns, s.src, { t: 'scalar', s: r[1], id: b.id });
      return ns;
    };
    if (pred === 1) {
      const t = branch(true);
      if (!t) return false;
      path.st = t;
      path.pc = target;
      return true;
    }
    if (pred === 0) {
      if (!branch(false)) return false;
      path.pc++;
      return true;
    }
    const t = branch(true);
    const f = branch(false);
    if (t) this.work.push([target, t]);
    if (!f) return false;
    path.pc++;
    return true;
  }
}

/** ALU on scalars, and pointer arithmetic (add/sub of a scalar keeps the pointer, anything else is unknown). */
function arith(dst: Reg, op: number, s: Slot, is64: boolean, src: Reg): Reg {
  let aop = ALU[op] ?? 'add';
  if ((aop === 'div' || aop === 'mod') && s.off === 1) aop = aop === 'div' ? 'sdiv' : 'smod';
  if (dst.t === 'ptr' || src.t === 'ptr') {
    if (is64 && dst.t === 'ptr' && src.t === 'scalar' && (aop === 'add' || aop === 'sub')) return withOff(dst, alu64(aop, dst.off, src.s));
    if (is64 && dst.t === 'scalar' && src.t === 'ptr' && aop === 'add') return withOff(src, alu64('add', src.off, dst.s));
    return sc(is64 ? UNKNOWN : urange(0n, M32));
  }
  const a = dst.t === 'scalar' ? dst.s : UNKNOWN;
  const b = src.t === 'scalar' ? src.s : UNKNOWN;
  return sc(is64 ? alu64(aop, a, b) : alu32(aop, a, b));
}

/**
 * The walk: which instructions are seen, and what the rewrite passes need to know about them.
 * Paths start at instruction 0, at each global subprogram and at each callback.
 */
export function explore(input: XlatedInput): Exploration {
  return new Explorer(input).run();
}
