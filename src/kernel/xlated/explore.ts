/**
 * A path-sensitive walk of the program in the spirit of the verifier's do_check: which
 * instructions it visits (insn_aux_data.seen) when branches on known values — constants,
 * values read from frozen read-only maps, bounds learnt from earlier branches, null checks of
 * pointers that cannot be null — are followed one way only. Also records what the rewrite
 * passes need: the pointer type each load/store went through, the map behind each map-helper
 * call, bpf_loop call sites that can be inlined, and whether packet data is written.
 */
import { MAP_TYPE as MT, PROG_TYPE as P } from '../../loader/uapi/index.js';
import { BPF_ALU, BPF_ALU64, BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, cls, decodeSlots, isLdImm64, sizeOf, successors, type Slot } from './insn.js';
import {
  alu32, alu64, branchTaken, constant, covers, isConst, M32, refine, sext, subreg, UNKNOWN, urange,
  type AluOp, type CmpOp, type Scalar,
} from './scalar.js';
import type { XlatedInput, XlatedMap } from './types.js';

export type PtrKind = 'ctx' | 'stack' | 'map_value' | 'map_ptr' | 'pkt' | 'pkt_end' | 'pkt_meta' | 'socket' | 'sock_common' | 'tcp_sock' | 'xdp_sock' | 'btf' | 'mem' | 'func' | 'other';

interface Ptr { t: 'ptr'; k: PtrKind; off: Scalar; map: XlatedMap | null; frame: number; nullable: boolean; id: number; sub: number }
interface Sc { t: 'scalar'; s: Scalar; id: number }
interface None { t: 'none' }
type Reg = Ptr | Sc | None;

interface StackSlot { b: string; spill: Reg | null }
interface Frame { regs: Reg[]; stack: Map<number, StackSlot>; ret: number; callback: boolean }
interface State { frames: Frame[] }

const NONE: None = { t: 'none' };
const sc = (s: Scalar, id = 0): Sc => ({ t: 'scalar', s, id });
/** `p` moved to offset `off` (every field spelt out: spreading is slow on this path). */
const withOff = (p: Ptr, off: Scalar): Ptr => ({ t: 'ptr', k: p.k, off, map: p.map, frame: p.frame, nullable: p.nullable, id: p.id, sub: p.sub });
/** An unknown value of `size` bytes (zero-extended). Registers and scalars are never changed in place, so one object per size serves every use. */
const SIZED: Sc[] = [1, 2, 3, 4, 5, 6, 7].map((size) => sc(urange(0n, (1n << BigInt(8 * size)) - 1n)));
const UNKNOWN_SC = sc(UNKNOWN);
const unknownSized = (size: number): Sc => (size >= 8 ? UNKNOWN_SC : SIZED[size - 1] ?? sc(urange(0n, (1n << BigInt(8 * size)) - 1n)));

export interface LoopSite { fit: boolean; cb: number }

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
  0x10: 'jeq', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset', 0x50: 'jne', 0x60: 'jsgt', 0x70: 'jsge',
  0xa0: 'jlt', 0xb0: 'jle', 0xc0: 'jslt', 0xd0: 'jsle',
};
const ALU: Record<number, AluOp> = {
  0x00: 'add', 0x10: 'sub', 0x20: 'mul', 0x30: 'div', 0x40: 'or', 0x50: 'and', 0x60: 'lsh', 0x70: 'rsh',
  0x80: 'neg', 0x90: 'mod', 0xa0: 'xor', 0xc0: 'arsh',
};

/** Helpers returning a pointer that may be null, and what it points to. */
const NULLABLE_RET: Record<number, PtrKind> = {
  84: 'socket', 85: 'socket', 99: 'sock_common', 95: 'socket', 96: 'tcp_sock', 98: 'socket',
  107: 'map_value', 156: 'map_value', 145: 'map_value', 210: 'map_value', 131: 'mem', 153: 'mem', 195: 'mem',
  136: 'btf', 137: 'btf', 138: 'btf', 139: 'btf', 140: 'btf', 178: 'btf', 196: 'btf',
};
const NONNULL_RET: Record<number, PtrKind> = { 154: 'mem', 158: 'btf' };
/** Helpers whose pointer arguments are only read (stack contents survive the call). */
const READS_ONLY = new Set([1, 2, 3, 12, 51, 87, 107, 156, 145, 210, 164, 181, 25, 130, 84, 85, 99, 28, 6, 177, 5, 7, 8, 14, 15, 35, 118, 125, 170, 169, 171, 172]);
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
    const ob = o.b[i]!, x = nb[i]!;
    if (ob === 'i') continue;
    if (ob === 'm') { if (x === 'i' || (x === 's' && n!.spill!.t === 'ptr')) return false; continue; }
    if (ob === 'z') { if (x === 'z') continue; if (x === 's' && n!.spill!.t === 'scalar' && isConst(n!.spill!.s) && n!.spill!.s.v === 0n) continue; return false; }
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
  const use = new Uint16Array(n), def = new Uint16Array(n);
  const R = (r: number) => 1 << r;
  const ARGS = R(1) | R(2) | R(3) | R(4) | R(5);
  for (let pc = 0; pc < n; pc++) {
    const s = insns[pc]!;
    const c = cls(s.code);
    const x = (s.code & 8) !== 0;
    if (isLdImm64(s)) { def[pc] = R(s.dst); continue; }
    switch (c) {
      case BPF_ALU: case BPF_ALU64: {
        const op = s.code & 0xf0;
        if (op === 0xb0) use[pc] = x ? R(s.src) : 0; else use[pc] = R(s.dst) | (x && op !== 0x80 && op !== 0xd0 ? R(s.src) : 0);
        def[pc] = R(s.dst);
        break;
      }
      case BPF_LDX: use[pc] = R(s.src); def[pc] = R(s.dst); break;
      case BPF_ST: use[pc] = R(s.dst); break;
      case BPF_STX: use[pc] = R(s.dst) | R(s.src) | ((s.code & 0xe0) === 0xc0 && s.imm === 0xf1 ? R(0) : 0); if ((s.code & 0xe0) === 0xc0 && (s.imm & 1)) def[pc] = s.imm === 0xf1 ? R(0) : R(s.src); break;
      case BPF_LD: use[pc] = R(6) | ((s.code & 0xe0) === 0x40 ? R(s.src) : 0); def[pc] = R(0) | ARGS; break;
      case BPF_JMP: case BPF_JMP32: {
        const op = s.code & 0xf0;
        if (op === 0x80) { use[pc] = ARGS; def[pc] = R(0) | ARGS; } else if (op === 0x90) use[pc] = R(0);
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
      if (v !== live[pc]) { live[pc] = v; changed = true; }
    }
  }
  return live;
}

export function explore(input: XlatedInput): Exploration {
  const insns = decodeSlots(input.insns, input.order ?? 'le');
  const n = insns.length;
  const le = (input.order ?? 'le') === 'le';
  const seen = new Uint8Array(n);
  const ptrKind: (PtrKind | null)[] = new Array(n).fill(null);
  const callMap: (XlatedMap | 'poison' | undefined)[] = new Array(n).fill(undefined);
  const loops = new Map<number, LoopSite>();
  const notes = new Set<string>();
  const mapAt = new Map(input.maps.map((m) => [m.insn, m]));
  const globals = new Set(input.globalFuncs ?? []);
  const live = liveness(insns);
  const budget = input.budget ?? 1_000_000;
  const pt = input.progType;
  let nextId = 1;
  let seenDirectWrite = false;
  let tstampTypeAccess = false;

  // Prune points: jump targets, fall-throughs of conditional jumps, subprogram starts.
  const prune = new Uint8Array(n);
  for (let pc = 0; pc < n; pc++) {
    const s = insns[pc]!;
    const c = cls(s.code);
    if (isLdImm64(s)) { if (s.src === 4) prune[pc + 1 + s.imm] = 1; pc++; continue; }
    if (c === BPF_JMP || c === BPF_JMP32) {
      const op = s.code & 0xf0;
      if (op === 0x80 && s.src === 1) { prune[pc + 1 + s.imm] = 1; prune[pc + 1] = 1; }
      else if (op !== 0x80 && op !== 0x90) for (const t of successors(insns, pc)) if (t < n) prune[t] = 1;
    }
  }
  const stored = new Map<number, State[]>();

  const frameOf = (st: State) => st.frames[st.frames.length - 1]!;

  function covered(pc: number, st: State): boolean {
    const list = stored.get(pc);
    if (!list) return false;
    outer: for (const o of list) {
      if (o.frames.length !== st.frames.length) continue;
      for (let f = 0; f < st.frames.length; f++) {
        const of = o.frames[f]!, nf = st.frames[f]!;
        if (of.ret !== nf.ret || of.callback !== nf.callback) continue outer;
        const top = f === st.frames.length - 1;
        const mask = top ? live[pc]! : (live[st.frames[f + 1]!.ret] ?? 0x3ff) & 0x3c0;
        for (let r = 0; r < 10; r++) if (mask & (1 << r)) if (!regCovers(of.regs[r]!, nf.regs[r]!)) continue outer;
        for (const [k, slot] of of.stack) if (!slotCovers(slot, nf.stack.get(k))) continue outer;
      }
      return true;
    }
    return false;
  }

  function store(pc: number, st: State): void {
    let list = stored.get(pc);
    if (!list) stored.set(pc, (list = []));
    if (list.length < 64) list.push(cloneState(st));
  }

  // --- stack -------------------------------------------------------------------------------
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
      if (!s2 || s2.b[bi] !== 'z') { allZero = false; break; }
    }
    return allZero ? sc(constant(0n)) : unknownSized(size);
  }

  function clobberStackArgs(st: State, regs: Reg[]): void {
    for (let r = 1; r <= 5; r++) {
      const p = regs[r]!;
      if (p.t !== 'ptr' || p.k !== 'stack') continue;
      const nx = regs[r + 1];
      const size = nx && nx.t === 'scalar' && isConst(nx.s) && nx.s.v > 0n && nx.s.v <= 512n ? Number(nx.s.v) : 8;
      for (let i = 0; i < size; i += 1) stackWrite(st, p, i, 1, null, false, 1);
    }
  }

  // --- ctx ---------------------------------------------------------------------------------
  function ctxLoad(off: number, size: number): Reg {
    const skbLike = pt === P.SCHED_CLS || pt === P.SCHED_ACT || pt === P.CGROUP_SKB || pt === P.LWT_IN || pt === P.LWT_OUT ||
      pt === P.LWT_XMIT || pt === P.LWT_SEG6LOCAL || pt === P.SK_SKB;
    const ptr = (k: PtrKind, nullable = false): Ptr => ({ t: 'ptr', k, off: constant(0n), map: null, frame: 0, nullable, id: nullable ? nextId++ : 0, sub: 0 });
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
      if (off === 180) tstampTypeAccess = true;
    }
    if (pt === P.SK_MSG) {
      if (off === 0) return ptr('pkt');
      if (off === 8) return ptr('pkt_end');
    }
    if (pt === P.CGROUP_SOCK_ADDR && off === 64) return ptr('socket');
    return unknownSized(size);
  }

  function directRead(p: Ptr, off: number, size: number): Reg {
    const m = p.map;
    if (!m || !isConst(p.off)) return unknownSized(size);
    const at = Number(p.off.v) + off;
    if (!((m.flags & 0x80) && m.frozen && m.contents && m.type === MT.ARRAY && m.maxEntries === 1)) return unknownSized(size);
    if (at < 0 || at + size > m.valueSize || at + size > m.contents.length) return unknownSized(size);
    let v = 0n;
    for (let i = 0; i < size; i++) {
      const byte = BigInt(m.contents[at + (le ? size - 1 - i : i)]!);
      v = (v << 8n) | byte;
    }
    return sc(constant(v));
  }

  // --- registers ---------------------------------------------------------------------------
  /** Apply a refinement to every register and spill linked to `reg` (same non-zero id). */
  function syncScalar(st: State, r: number, v: Sc): void {
    const fr = frameOf(st);
    const old = fr.regs[r]!;
    fr.regs[r] = v;
    if (old.t === 'scalar' && old.id) {
      for (const f of st.frames) {
        for (let i = 0; i < 10; i++) { const x = f.regs[i]!; if (x.t === 'scalar' && x.id === old.id) f.regs[i] = { ...v, id: old.id }; }
        for (const [k, s] of f.stack) if (s.spill && s.spill.t === 'scalar' && s.spill.id === old.id) f.stack.set(k, { b: s.b, spill: { ...v, id: old.id } });
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
        if (x && x.t === 'ptr' && x.id === id && x.nullable) f.stack.set(k, { b: s.b, spill: isNull ? sc(constant(0n)) : { ...x, nullable: false, id: 0 } });
      }
    }
  }

  const notNull = (p: Ptr) => !p.nullable && (p.k === 'socket' || p.k === 'tcp_sock' || p.k === 'map_value' || p.k === 'sock_common' || p.k === 'mem' || p.k === 'map_ptr');

  // --- the walk ----------------------------------------------------------------------------
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

  const work: [number, State][] = [[0, initial()]];
  const globalsDone = new Set<number>();
  let processed = 0;
  let complete = true;

  while (work.length) {
    const item = work.pop()!;
    let pc = item[0], st = item[1];
    for (;;) {
      if (pc < 0 || pc >= n) break;
      if (prune[pc]) {
        if (covered(pc, st)) break;
        store(pc, st);
      }
      if (++processed > budget) { complete = false; break; }
      seen[pc] = 1;
      const s = insns[pc]!;
      const c = cls(s.code);
      const fr = frameOf(st);
      const R = fr.regs;

      if (isLdImm64(s)) {
        seen[pc + 1] = 1;
        const ml = mapAt.get(pc);
        const mk = (k: PtrKind, extra: Partial<Ptr> = {}): Ptr => ({ t: 'ptr', k, off: constant(0n), map: null, frame: 0, nullable: false, id: 0, sub: 0, ...extra });
        if (s.src === 0) R[s.dst] = sc(constant((BigInt(insns[pc + 1]!.imm >>> 0) << 32n) | BigInt(s.imm >>> 0)));
        else if ((s.src === 1 || s.src === 5) && ml) R[s.dst] = mk('map_ptr', { map: ml.map });
        else if ((s.src === 2 || s.src === 6) && ml) R[s.dst] = mk('map_value', { map: ml.map, off: constant(BigInt(ml.offset)) });
        else if (s.src === 4) R[s.dst] = mk('func', { sub: pc + 1 + s.imm });
        else R[s.dst] = mk('btf');
        pc += 2;
        continue;
      }

      if (c === BPF_ALU || c === BPF_ALU64) {
        const is64 = c === BPF_ALU64;
        const op = s.code & 0xf0;
        const x = (s.code & 8) !== 0;
        const dst = R[s.dst]!;
        if (op === 0xb0) {
          if (!x) R[s.dst] = sc(constant(is64 ? BigInt(s.imm) : BigInt(s.imm >>> 0)));
          else {
            const src = R[s.src]!;
            if (s.off === 8 || s.off === 16 || s.off === 32) {
              const v = src.t === 'scalar' ? sext(is64 ? src.s : subreg(src.s), s.off) : UNKNOWN;
              R[s.dst] = sc(is64 ? v : subreg(v));
            } else if (is64) {
              if (src.t === 'scalar') {
                if (!src.id) R[s.src] = sc(src.s, nextId++);
                R[s.dst] = sc((R[s.src] as Sc).s, (R[s.src] as Sc).id);
              } else R[s.dst] = src;
            } else {
              if (src.t === 'scalar') {
                if (src.s.umax <= M32) {
                  if (!src.id) R[s.src] = sc(src.s, nextId++);
                  R[s.dst] = sc((R[s.src] as Sc).s, (R[s.src] as Sc).id);
                } else R[s.dst] = sc(subreg(src.s));
              } else R[s.dst] = sc(urange(0n, M32));
            }
          }
          pc++;
          continue;
        }
        if (op === 0xd0) {
          const v = dst.t === 'scalar' ? dst.s : UNKNOWN;
          const bits = s.imm;
          let r: Scalar;
          if (isConst(v)) {
            const lim = (1n << BigInt(bits)) - 1n;
            const val = v.v & lim;
            const swap = is64 || (c === BPF_ALU && (s.code & 8) !== 0) !== !le;
            if (swap) {
              let out = 0n;
              for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((val >> BigInt(8 * i)) & 0xffn);
              r = constant(out);
            } else r = constant(val);
          } else r = bits >= 64 ? UNKNOWN : urange(0n, (1n << BigInt(bits)) - 1n);
          R[s.dst] = sc(r);
          pc++;
          continue;
        }
        if (op === 0x80) {
          const v = dst.t === 'scalar' ? dst.s : UNKNOWN;
          R[s.dst] = sc(isConst(v) ? (is64 ? constant(-v.v) : constant(BigInt.asUintN(32, -v.v))) : is64 ? UNKNOWN : urange(0n, M32));
          pc++;
          continue;
        }
        let aop = ALU[op] ?? 'add';
        if ((aop === 'div' || aop === 'mod') && s.off === 1) aop = aop === 'div' ? 'sdiv' : 'smod';
        const src: Reg = x ? R[s.src]! : sc(constant(is64 ? BigInt(s.imm) : BigInt(s.imm >>> 0)));
        if (dst.t === 'ptr' || src.t === 'ptr') {
          if (is64 && dst.t === 'ptr' && src.t === 'scalar' && (aop === 'add' || aop === 'sub')) {
            R[s.dst] = withOff(dst, alu64(aop, dst.off, src.s));
          } else if (is64 && dst.t === 'scalar' && src.t === 'ptr' && aop === 'add') {
            R[s.dst] = withOff(src, alu64('add', src.off, dst.s));
          } else R[s.dst] = sc(is64 ? UNKNOWN : urange(0n, M32));
          pc++;
          continue;
        }
        const a = dst.t === 'scalar' ? dst.s : UNKNOWN;
        const b = src.t === 'scalar' ? src.s : UNKNOWN;
        R[s.dst] = sc(is64 ? alu64(aop, a, b) : alu32(aop, a, b));
        pc++;
        continue;
      }

      if (c === BPF_LDX) {
        const size = sizeOf(s.code);
        const base = R[s.src]!;
        const sx = (s.code & 0xe0) === 0x80;
        let v: Reg = unknownSized(size);
        if (base.t === 'ptr') {
          if (ptrKind[pc] === null) ptrKind[pc] = base.k;
          if (base.k === 'stack') v = stackRead(st, base, s.off, size);
          else if (base.k === 'ctx') v = ctxLoad(s.off + Number(base.off.v), size);
          else if (base.k === 'map_value') v = directRead(base, s.off, size);
        }
        if (sx && v.t === 'scalar') v = sc(sext(v.s, size * 8));
        R[s.dst] = v.t === 'scalar' ? sc(v.s) : v;
        pc++;
        continue;
      }

      if (c === BPF_ST || c === BPF_STX) {
        const size = sizeOf(s.code);
        const base = R[s.dst]!;
        const atomic = (s.code & 0xe0) === 0xc0;
        if (base.t === 'ptr') {
          if (ptrKind[pc] === null) ptrKind[pc] = base.k;
          if (base.k === 'pkt' || base.k === 'pkt_meta') seenDirectWrite = true;
          if (base.k === 'stack') {
            if (atomic) stackWrite(st, base, s.off, size, sc(UNKNOWN), false, 0);
            else stackWrite(st, base, s.off, size, c === BPF_STX ? R[s.src]! : null, c === BPF_ST, s.imm);
          }
        }
        if (atomic && (s.imm & 1)) {
          if (s.imm === 0xf1) R[0] = unknownSized(size);
          else R[s.src] = unknownSized(size);
        }
        pc++;
        continue;
      }

      if (c === BPF_LD) {
        // LD_ABS / LD_IND: r0 = packet bytes, r1-r5 clobbered.
        R[0] = unknownSized(sizeOf(s.code));
        for (let r = 1; r <= 5; r++) R[r] = NONE;
        pc++;
        continue;
      }

      // jumps
      const op = s.code & 0xf0;
      if (op === 0x00) { pc = pc + 1 + (c === BPF_JMP32 ? s.imm : s.off); continue; }
      if (op === 0x90) {
        if (st.frames.length === 1) break;
        const callee = st.frames.pop()!;
        if (callee.callback) break;
        const caller = frameOf(st);
        caller.regs[0] = callee.regs[0]!.t === 'ptr' && (callee.regs[0] as Ptr).k === 'stack' ? sc(UNKNOWN) : callee.regs[0]!;
        for (let r = 1; r <= 5; r++) caller.regs[r] = NONE;
        pc = callee.ret;
        continue;
      }
      if (op === 0x80) {
        if (s.src === 1) {
          const target = pc + 1 + s.imm;
          if (globals.has(target)) {
            if (!globalsDone.has(target)) { globalsDone.add(target); work.push([target, globalEntry()]); }
            R[0] = sc(UNKNOWN);
            for (let r = 1; r <= 5; r++) R[r] = NONE;
            pc++;
            continue;
          }
          if (st.frames.length >= 8) { notes.add('call depth'); break; }
          const regs: Reg[] = new Array(11).fill(NONE);
          for (let r = 1; r <= 5; r++) regs[r] = R[r]!;
          regs[10] = { t: 'ptr', k: 'stack', off: constant(0n), map: null, frame: st.frames.length, nullable: false, id: 0, sub: 0 };
          st.frames.push({ regs, stack: new Map(), ret: pc + 1, callback: false });
          pc = target;
          continue;
        }
        if (s.src === 2) {
          notes.add('kfunc calls');
          R[0] = sc(UNKNOWN);
          for (let r = 1; r <= 5; r++) R[r] = NONE;
          pc++;
          continue;
        }
        const id = s.imm;
        const r1 = R[1]!;
        // map helpers: remember the map (poisoned when several reach the call)
        if ([1, 2, 3, 87, 88, 89, 51, 164, 195].includes(id) && r1.t === 'ptr' && r1.k === 'map_ptr') {
          const prev = callMap[pc];
          callMap[pc] = prev === undefined || prev === r1.map ? r1.map! : 'poison';
        }
        if (id === 181) {
          const cb = R[2]!, flags = R[4]!;
          const cbStart = cb.t === 'ptr' && cb.k === 'func' ? cb.sub : -1;
          const flagZero = flags.t === 'scalar' && isConst(flags.s) && flags.s.v === 0n;
          const prev = loops.get(pc);
          if (!prev) loops.set(pc, { fit: flagZero, cb: cbStart });
          else if (prev.fit) prev.fit = flagZero && prev.cb === cbStart;
        }
        const cbReg = CALLBACK_ARG[id];
        if (cbReg !== undefined) {
          const cb = R[cbReg]!;
          if (cb.t === 'ptr' && cb.k === 'func' && st.frames.length < 8) {
            const cst = cloneState(st);
            const regs: Reg[] = new Array(11).fill(NONE);
            const callerRegs = frameOf(cst).regs;
            const val = (m: XlatedMap | null): Ptr => ({ t: 'ptr', k: 'map_value', off: constant(0n), map: m, frame: 0, nullable: false, id: 0, sub: 0 });
            const other: Ptr = { t: 'ptr', k: 'other', off: constant(0n), map: null, frame: 0, nullable: false, id: 0, sub: 0 };
            if (id === 181) { regs[1] = sc(urange(0n, M32)); regs[2] = callerRegs[3]!; }
            else if (id === 164) { regs[1] = callerRegs[1]!; regs[2] = other; regs[3] = val(r1.t === 'ptr' ? r1.map : null); regs[4] = callerRegs[3]!; }
            else if (id === 170) { regs[1] = sc(UNKNOWN); regs[2] = other; regs[3] = other; }
            else if (id === 180) { regs[1] = other; regs[2] = other; regs[3] = callerRegs[4]!; }
            else { regs[1] = other; regs[2] = callerRegs[3]!; }
            regs[10] = { t: 'ptr', k: 'stack', off: constant(0n), map: null, frame: cst.frames.length, nullable: false, id: 0, sub: 0 };
            cst.frames.push({ regs, stack: new Map(), ret: pc + 1, callback: true });
            work.push([cb.sub, cst]);
          }
        }
        if (!READS_ONLY.has(id)) clobberStackArgs(st, R);
        let ret: Reg = sc(UNKNOWN);
        if (id === 1 && r1.t === 'ptr' && r1.k === 'map_ptr' && r1.map) {
          const m = r1.map;
          if ((m.type === MT.ARRAY_OF_MAPS || m.type === MT.HASH_OF_MAPS) && m.inner) {
            const inner: XlatedMap = { ...m.inner, frozen: false, contents: null, inner: null };
            ret = { t: 'ptr', k: 'map_ptr', off: constant(0n), map: innerCache(m, inner), frame: 0, nullable: true, id: nextId++, sub: 0 };
          } else ret = { t: 'ptr', k: 'map_value', off: constant(0n), map: m, frame: 0, nullable: true, id: nextId++, sub: 0 };
        } else if (NULLABLE_RET[id]) {
          ret = { t: 'ptr', k: NULLABLE_RET[id]!, off: constant(0n), map: null, frame: 0, nullable: true, id: nextId++, sub: 0 };
        } else if (NONNULL_RET[id]) {
          ret = { t: 'ptr', k: NONNULL_RET[id]!, off: constant(0n), map: null, frame: 0, nullable: false, id: 0, sub: 0 };
        } else if (id === 8) ret = sc(urange(0n, M32));
        R[0] = ret;
        for (let r = 1; r <= 5; r++) R[r] = NONE;
        pc++;
        continue;
      }

      // conditional jumps
      const cmp = CMP[op];
      if (!cmp) { // may_goto and unknown: both ways
        work.push([pc + 1 + s.off, cloneState(st)]);
        pc++;
        continue;
      }
      const is32 = c === BPF_JMP32;
      const x = (s.code & 8) !== 0;
      const a = R[s.dst]!;
      const b: Reg = x ? R[s.src]! : sc(constant(is32 ? BigInt(s.imm >>> 0) : BigInt(s.imm)));
      const target = pc + 1 + s.off;
      if (a.t === 'scalar' && b.t === 'scalar') {
        const signed = cmp === 'jsgt' || cmp === 'jsge' || cmp === 'jslt' || cmp === 'jsle';
        const view = (v: Scalar) => (!is32 ? v : signed ? sext(subreg(v), 32) : subreg(v));
        const av = view(a.s), bv = view(b.s);
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
        if (pred === 1) { const t = branch(true); if (t) { st = t; pc = target; continue; } break; }
        if (pred === 0) { const f = branch(false); if (f) { pc++; continue; } break; }
        const t = branch(true);
        const f = branch(false);
        if (t) work.push([target, t]);
        if (!f) break;
        pc++;
        continue;
      }
      // pointers
      const ptr = a.t === 'ptr' ? a : b.t === 'ptr' ? b : null;
      const other = ptr === a ? b : a;
      if (ptr && other.t === 'scalar' && isConst(other.s) && (is32 ? (other.s.v & M32) === 0n : other.s.v === 0n) && (cmp === 'jeq' || cmp === 'jne') && !is32) {
        if (ptr.nullable && ptr.id) {
          const t = cloneState(st);
          markNull(t, ptr.id, cmp === 'jeq');
          markNull(st, ptr.id, cmp !== 'jeq');
          work.push([target, t]);
          pc++;
          continue;
        }
        if (notNull(ptr)) {
          if (cmp === 'jne') { pc = target; continue; }
          pc++;
          continue;
        }
      }
      work.push([target, cloneState(st)]);
      pc++;
    }
  }

  if (!complete) notes.add(`exploration stopped after ${budget} instructions`);
  return {
    insns, seen, ptrKind, callMap, loops, seenDirectWrite, tstampTypeAccess, processed, complete, notes: [...notes],
  };
}

const innerMaps = new WeakMap<XlatedMap, XlatedMap>();
function innerCache(outer: XlatedMap, inner: XlatedMap): XlatedMap {
  let m = innerMaps.get(outer);
  if (!m) { m = inner; innerMaps.set(outer, m); }
  return m;
}

