/**
 * Scalars as the verifier knows them: a tnum (known bits) and unsigned and signed 64-bit
 * bounds, kept in step after every operation. A smaller cousin of kernel/bpf/tnum.c and the
 * bounds logic of verifier.c: enough to decide the branches the verifier decides.
 */

const M64 = (1n << 64n) - 1n;
const M32 = 0xffffffffn;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

export interface Scalar {
  /** tnum value: bits known to be 1. */
  readonly v: bigint;
  /** tnum mask: unknown bits. */
  readonly m: bigint;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
}

const toS64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const toU64 = (x: bigint): bigint => BigInt.asUintN(64, x);

export function constant(x: bigint): Scalar {
  const u = toU64(x);
  const s = toS64(u);
  return { v: u, m: 0n, umin: u, umax: u, smin: s, smax: s };
}

export const UNKNOWN: Scalar = { v: 0n, m: M64, umin: 0n, umax: M64, smin: S64_MIN, smax: S64_MAX };

export function isConst(s: Scalar): boolean {
  return s.m === 0n;
}

/** Scalar from an unsigned range (tnum derived). */
export function urange(lo: bigint, hi: bigint): Scalar {
  if (lo === 0n && hi > 0n && hi <= M64 && (hi & (hi + 1n)) === 0n) return LOW_BITS.get(hi)!;
  return normalize({ ...tnumRange(lo, hi), umin: lo, umax: hi, smin: S64_MIN, smax: S64_MAX });
}

function tnumRange(lo: bigint, hi: bigint): { v: bigint; m: bigint } {
  const chi = lo ^ hi;
  if (chi === 0n) return { v: lo, m: 0n };
  const bits = chi.toString(2).length;
  if (bits > 63) return { v: 0n, m: M64 };
  const delta = (1n << BigInt(bits)) - 1n;
  return { v: lo & ~delta & M64, m: delta };
}

/** Tighten bounds against the tnum and each other (the kernel's reg_bounds_sync, roughly). */
export function normalize(s: Scalar): Scalar {
  let { v, m, umin, umax, smin, smax } = s;
  v &= M64;
  m &= M64;
  v &= ~m;
  // tnum -> unsigned bounds
  if (umin < v) umin = v;
  if (umax > (v | m)) umax = v | m;
  // signed from tnum
  const signKnown = m >> 63n === 0n;
  if (signKnown) {
    const tmin = toS64(v),
      tmax = toS64(v | m);
    if (smin < tmin) smin = tmin;
    if (smax > tmax) smax = tmax;
  }
  // unsigned <-> signed when the range does not cross the sign boundary
  if (umin >> 63n === umax >> 63n) {
    const a = toS64(umin),
      b = toS64(umax);
    if (smin < a) smin = a;
    if (smax > b) smax = b;
  }
  if (smin < 0n === smax < 0n) {
    const a = toU64(smin),
      b = toU64(smax);
    if (umin < a) umin = a;
    if (umax > b) umax = b;
  }
  // bounds -> tnum
  if (umin <= umax) {
    const t = tnumRange(umin, umax);
    const nv = (v | t.v) & ~(m & ~t.m) & M64;
    const nm = m & t.m;
    // keep only when consistent
    if ((nv & ~nm & M64) === (nv & M64)) {
      v = nv & ~nm;
      m = nm;
    }
  }
  if (umin === umax) {
    v = umin;
    m = 0n;
    smin = smax = toS64(umin);
  }
  return { v, m, umin, umax, smin, smax };
}

/** The low 32 bits as a scalar (zero-extended), as the verifier's subreg view. */
export function subreg(s: Scalar): Scalar {
  if (s.umax <= M32) return s;
  if (s.m === 0n) return constant(s.v & M32);
  return normalize({ v: s.v & M32, m: s.m & M32, umin: 0n, umax: M32, smin: 0n, smax: M32 });
}

/** Sign-extend the low `bits` bits. */
export function sext(s: Scalar, bits: number): Scalar {
  if (isConst(s)) return constant(BigInt.asIntN(bits, s.v));
  const b = BigInt(bits);
  const lim = 1n << (b - 1n);
  if (s.umax < lim) return normalize({ ...UNKNOWN, umin: s.umin, umax: s.umax, v: s.v, m: s.m });
  return normalize({ ...UNKNOWN, smin: -lim, smax: lim - 1n });
}

function tnumAdd(a: Scalar, b: Scalar): { v: bigint; m: bigint } {
  const sm = (a.m + b.m) & M64;
  const sv = (a.v + b.v) & M64;
  const sigma = (sm + sv) & M64;
  const chi = sigma ^ sv;
  const mu = chi | a.m | b.m;
  return { v: sv & ~mu & M64, m: mu & M64 };
}

function tnumSub(a: Scalar, b: Scalar): { v: bigint; m: bigint } {
  const dv = (a.v - b.v) & M64;
  const alpha = (dv + a.m) & M64;
  const beta = (dv - b.m) & M64;
  const chi = alpha ^ beta;
  const mu = chi | a.m | b.m;
  return { v: dv & ~mu & M64, m: mu & M64 };
}

export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'or' | 'and' | 'lsh' | 'rsh' | 'neg' | 'mod' | 'xor' | 'arsh' | 'sdiv' | 'smod';

/** dst op src in 64 bits. */
export function alu64(op: AluOp, a: Scalar, b: Scalar): Scalar {
  if (isConst(a) && isConst(b)) return constant(evalConst(op, a.v, b.v, 64));
  switch (op) {
    case 'add': {
      const t = tnumAdd(a, b);
      let umin = a.umin + b.umin,
        umax = a.umax + b.umax;
      if (umax > M64) {
        umin = 0n;
        umax = M64;
      }
      let smin = a.smin + b.smin,
        smax = a.smax + b.smax;
      if (smin < S64_MIN || smax > S64_MAX) {
        smin = S64_MIN;
        smax = S64_MAX;
      }
      return normalize({ ...t, umin, umax, smin, smax });
    }
    case 'sub': {
      const t = tnumSub(a, b);
      let umin = a.umin - b.umax,
        umax = a.umax - b.umin;
      if (umin < 0n) {
        umin = 0n;
        umax = M64;
      }
      let smin = a.smin - b.smax,
        smax = a.smax - b.smin;
      if (smin < S64_MIN || smax > S64_MAX) {
        smin = S64_MIN;
        smax = S64_MAX;
      }
      return normalize({ ...t, umin, umax, smin, smax });
    }
    case 'and': {
      const v = a.v & b.v,
        m = (a.m | a.v) & (b.m | b.v) & ~v;
      const umax = a.umax < b.umax ? a.umax : b.umax;
      return normalize({ v, m, umin: v, umax, smin: S64_MIN, smax: S64_MAX });
    }
    case 'or': {
      const v = a.v | b.v,
        m = (a.m | b.m) & ~v;
      const umin = a.umin > b.umin ? a.umin : b.umin;
      return normalize({ v, m, umin, umax: M64, smin: S64_MIN, smax: S64_MAX });
    }
    case 'xor': {
      const m = a.m | b.m,
        v = (a.v ^ b.v) & ~m;
      return normalize({ v, m, umin: 0n, umax: M64, smin: S64_MIN, smax: S64_MAX });
    }
    case 'mul': {
      if (a.umax <= M32 && b.umax <= M32) return urange(a.umin * b.umin, a.umax * b.umax);
      return UNKNOWN;
    }
    case 'lsh': {
      if (!isConst(b)) return UNKNOWN;
      const sh = b.v & 63n;
      const v = (a.v << sh) & M64,
        m = (a.m << sh) & M64;
      if (a.umax << sh <= M64) return normalize({ v, m, umin: a.umin << sh, umax: a.umax << sh, smin: S64_MIN, smax: S64_MAX });
      return normalize({ v, m, umin: 0n, umax: M64, smin: S64_MIN, smax: S64_MAX });
    }
    case 'rsh': {
      if (!isConst(b)) return a.umax === 0n ? a : urange(0n, a.umax);
      const sh = b.v & 63n;
      return normalize({ v: a.v >> sh, m: a.m >> sh, umin: a.umin >> sh, umax: a.umax >> sh, smin: S64_MIN, smax: S64_MAX });
    }
    case 'arsh': {
      if (!isConst(b)) return UNKNOWN;
      const sh = b.v & 63n;
      const sv = toS64(a.v),
        sm = toS64(a.m);
      return normalize({ v: toU64(sv >> sh), m: toU64(sm >> sh), umin: 0n, umax: M64, smin: a.smin >> sh, smax: a.smax >> sh });
    }
    case 'mod': {
      if (isConst(b) && b.v !== 0n) return urange(0n, a.umax < b.v - 1n ? a.umax : b.v - 1n);
      return a.umax === 0n ? a : urange(0n, a.umax);
    }
    case 'div': {
      if (isConst(b) && b.v !== 0n) return urange(a.umin / b.v, a.umax / b.v);
      return a.umax === 0n ? a : urange(0n, a.umax);
    }
    default:
      return UNKNOWN;
  }
}

/** dst op src in 32 bits (operands' low halves), zero-extended. */
export function alu32(op: AluOp, a: Scalar, b: Scalar): Scalar {
  const a32 = subreg(a),
    b32 = subreg(b);
  if (isConst(a32) && isConst(b32)) return constant(evalConst(op, a32.v, b32.v, 32));
  if (op === 'lsh' || op === 'arsh' || op === 'sdiv' || op === 'smod' || op === 'mul') {
    if (op === 'mul' && a32.umax <= 0xffffn && b32.umax <= 0xffffn) return urange(a32.umin * b32.umin, a32.umax * b32.umax);
    if (op === 'lsh' && isConst(b32)) {
      const sh = b32.v & 31n;
      if (a32.umax << sh <= M32) return urange(a32.umin << sh, a32.umax << sh);
      return normalize({ v: (a32.v << sh) & M32, m: (a32.m << sh) & M32, umin: 0n, umax: M32, smin: 0n, smax: M32 });
    }
    return urange(0n, M32);
  }
  const r = alu64(op, a32, b32);
  if (r.umax <= M32) return r;
  return subreg(r);
}

export function evalConst(op: AluOp, x: bigint, y: bigint, bits: 32 | 64): bigint {
  const mask = bits === 64 ? M64 : M32;
  x &= mask;
  y &= mask;
  const sx = BigInt.asIntN(bits, x),
    sy = BigInt.asIntN(bits, y);
  const shmask = BigInt(bits - 1);
  let r: bigint;
  switch (op) {
    case 'add':
      r = x + y;
      break;
    case 'sub':
      r = x - y;
      break;
    case 'mul':
      r = x * y;
      break;
    case 'div':
      r = y === 0n ? 0n : x / y;
      break;
    case 'mod':
      r = y === 0n ? x : x % y;
      break;
    case 'sdiv':
      r = sy === 0n ? 0n : sx / sy;
      break;
    case 'smod':
      r = sy === 0n ? sx : sx % sy;
      break;
    case 'or':
      r = x | y;
      break;
    case 'and':
      r = x & y;
      break;
    case 'xor':
      r = x ^ y;
      break;
    case 'lsh':
      r = x << (y & shmask);
      break;
    case 'rsh':
      r = x >> (y & shmask);
      break;
    case 'arsh':
      r = sx >> (y & shmask);
      break;
    case 'neg':
      r = -x;
      break;
    default:
      r = 0n;
  }
  return BigInt.asUintN(bits, r);
}

export type CmpOp = 'jeq' | 'jne' | 'jgt' | 'jge' | 'jlt' | 'jle' | 'jsgt' | 'jsge' | 'jslt' | 'jsle' | 'jset';

/** 1 = always taken, 0 = never taken, -1 = unknown (is_branch_taken on scalars). */
export function branchTaken(op: CmpOp, a: Scalar, b: Scalar): 1 | 0 | -1 {
  switch (op) {
    case 'jeq':
      if (isConst(a) && isConst(b)) return a.v === b.v ? 1 : 0;
      if (a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin) return 0;
      if (((a.v ^ b.v) & ~(a.m | b.m)) !== 0n) return 0;
      return -1;
    case 'jne': {
      const r = branchTaken('jeq', a, b);
      return r === -1 ? -1 : r === 1 ? 0 : 1;
    }
    case 'jset':
      if ((a.v & b.v) !== 0n) return 1;
      if (((a.v | a.m) & (b.v | b.m)) === 0n) return 0;
      return -1;
    case 'jgt':
      if (a.umin > b.umax) return 1;
      if (a.umax <= b.umin) return 0;
      return -1;
    case 'jge':
      if (a.umin >= b.umax) return 1;
      if (a.umax < b.umin) return 0;
      return -1;
    case 'jlt':
      return branchTaken('jgt', b, a);
    case 'jle':
      return branchTaken('jge', b, a);
    case 'jsgt':
      if (a.smin > b.smax) return 1;
      if (a.smax <= b.smin) return 0;
      return -1;
    case 'jsge':
      if (a.smin >= b.smax) return 1;
      if (a.smax < b.smin) return 0;
      return -1;
    case 'jslt':
      return branchTaken('jsgt', b, a);
    case 'jsle':
      return branchTaken('jsge', b, a);
  }
}

const NEGATE: Record<CmpOp, CmpOp> = {
  jeq: 'jne',
  jne: 'jeq',
  jgt: 'jle',
  jge: 'jlt',
  jlt: 'jge',
  jle: 'jgt',
  jsgt: 'jsle',
  jsge: 'jslt',
  jslt: 'jsge',
  jsle: 'jsgt',
  jset: 'jset',
};
const FLIP: Record<CmpOp, CmpOp> = {
  jeq: 'jeq',
  jne: 'jne',
  jgt: 'jlt',
  jge: 'jle',
  jlt: 'jgt',
  jle: 'jge',
  jsgt: 'jslt',
  jsge: 'jsle',
  jslt: 'jsgt',
  jsle: 'jsge',
  jset: 'jset',
};

function withBounds(s: Scalar, p: Partial<Scalar>): Scalar | null {
  const r = normalize({ ...s, ...p });
  if (r.umin > r.umax || r.smin > r.smax) return null;
  return r;
}

/**
 * Refine a and b given that `a op b` holds (taken) or not. Returns null when the
 * combination is impossible (the verifier would not have reached it).
 */
export function refine(op: CmpOp, taken: boolean, a: Scalar, b: Scalar): [Scalar, Scalar] | null {
  if (!taken) {
    if (op === 'jset') {
      // no bit of b is set in a
      if (isConst(b)) {
        const r = withBounds(a, { v: a.v & ~b.v, m: a.m & ~b.v });
        return r ? [r, b] : null;
      }
      return [a, b];
    }
    return refine(NEGATE[op], true, a, b);
  }
  switch (op) {
    case 'jeq': {
      const umin = a.umin > b.umin ? a.umin : b.umin,
        umax = a.umax < b.umax ? a.umax : b.umax;
      const smin = a.smin > b.smin ? a.smin : b.smin,
        smax = a.smax < b.smax ? a.smax : b.smax;
      if (((a.v ^ b.v) & ~(a.m | b.m)) !== 0n) return null;
      const v = a.v | b.v,
        m = a.m & b.m;
      const r = withBounds(a, { v, m, umin, umax, smin, smax });
      return r ? [r, r] : null;
    }
    case 'jne': {
      let ra: Scalar | null = a,
        rb: Scalar | null = b;
      if (isConst(b)) ra = excludeEnd(a, b.v);
      if (isConst(a)) rb = excludeEnd(b, a.v);
      if (isConst(a) && isConst(b) && a.v === b.v) return null;
      return ra && rb ? [ra, rb] : null;
    }
    case 'jset': {
      if (isConst(b) && (b.v & (b.v - 1n)) === 0n && b.v !== 0n) {
        const r = withBounds(a, { v: a.v | b.v, m: a.m & ~b.v });
        return r ? [r, b] : null;
      }
      return [a, b];
    }
    case 'jgt': {
      const ra = withBounds(a, { umin: max(a.umin, b.umin + 1n) });
      const rb = withBounds(b, { umax: min(b.umax, a.umax - 1n) });
      if (b.umin + 1n > M64 || a.umax === 0n) return null;
      return ra && rb ? [ra, rb] : null;
    }
    case 'jge': {
      const ra = withBounds(a, { umin: max(a.umin, b.umin) });
      const rb = withBounds(b, { umax: min(b.umax, a.umax) });
      return ra && rb ? [ra, rb] : null;
    }
    case 'jsgt': {
      if (b.smin === S64_MAX || a.smax === S64_MIN) return null;
      const ra = withBounds(a, { smin: max(a.smin, b.smin + 1n) });
      const rb = withBounds(b, { smax: min(b.smax, a.smax - 1n) });
      return ra && rb ? [ra, rb] : null;
    }
    case 'jsge': {
      const ra = withBounds(a, { smin: max(a.smin, b.smin) });
      const rb = withBounds(b, { smax: min(b.smax, a.smax) });
      return ra && rb ? [ra, rb] : null;
    }
    default: {
      const r = refine(FLIP[op], true, b, a);
      return r ? [r[1], r[0]] : null;
    }
  }
}

function excludeEnd(a: Scalar, k: bigint): Scalar | null {
  k = toU64(k);
  if (isConst(a)) return a.v === k ? null : a;
  if (a.umin === k) return withBounds(a, { umin: a.umin + 1n });
  if (a.umax === k) return withBounds(a, { umax: a.umax - 1n });
  const sk = toS64(k);
  if (a.smin === sk) return withBounds(a, { smin: a.smin + 1n });
  if (a.smax === sk) return withBounds(a, { smax: a.smax - 1n });
  return a;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** Whether `a` covers every value `b` may take (state pruning). */
export function covers(a: Scalar, b: Scalar): boolean {
  return a.umin <= b.umin && a.umax >= b.umax && a.smin <= b.smin && a.smax >= b.smax && (b.m & ~a.m) === 0n && ((a.v ^ b.v) & ~a.m) === 0n;
}

export function sameScalar(a: Scalar, b: Scalar): boolean {
  return a.v === b.v && a.m === b.m && a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax;
}

export { M32, M64 };

/**
 * urange(0, 2^k - 1) for k = 1..64, made once when the module loads: asked for all the time
 * (zero-extended values), and scalars are never changed in place, so they are shared.
 */
const LOW_BITS: ReadonlyMap<bigint, Scalar> = new Map(
  Array.from({ length: 64 }, (_, k) => {
    const hi = (1n << BigInt(k + 1)) - 1n;
    return [hi, normalize({ ...tnumRange(0n, hi), umin: 0n, umax: hi, smin: S64_MIN, smax: S64_MAX })] as const;
  }),
);
