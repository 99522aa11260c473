/**
 * The verifier's rewrites after do_check, as instruction-count deltas, in the kernel's order:
 * optimize_bpf_loop, opt_hard_wire_dead_code_branches + opt_remove_dead_code + opt_remove_nops
 * (privileged loads), convert_ctx_accesses (prologue, per-field ctx rewrites, narrow loads) and
 * do_misc_fixups (div/mod guards, LD_ABS, may_goto, map lookup inlining, helper inlining).
 * Numbers are those of Linux 6.18 on x86-64 with the JIT on and bypass_spec_v1/v4 (CAP_PERFMON).
 */
import { ATTACH_TYPE as A, MAP_TYPE as MT, PROG_TYPE as P } from '../../loader/uapi/index.js';
import type { Exploration } from './explore.js';
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
  isCondJump,
  isLdImm64,
  sizeOf,
  type Slot,
} from './insn.js';
import type { XlatedInput, XlatedStep } from './types.js';

const BPF_F_INNER_MAP = 0x1000;

/** Program types whose verifier ops have no convert_ctx_access: ctx loads stay as they are. */
const NO_CTX_CONVERT: ReadonlySet<number> = new Set<number>([
  P.KPROBE,
  P.TRACEPOINT,
  P.RAW_TRACEPOINT,
  P.RAW_TRACEPOINT_WRITABLE,
  P.TRACING,
  P.LSM,
  P.SYSCALL,
  P.EXT,
  P.CGROUP_DEVICE,
  P.LIRC_MODE2,
  P.NETFILTER,
]);
const SKB_TYPES: ReadonlySet<number> = new Set<number>([
  P.SOCKET_FILTER,
  P.SCHED_CLS,
  P.SCHED_ACT,
  P.CGROUP_SKB,
  P.LWT_IN,
  P.LWT_OUT,
  P.LWT_XMIT,
  P.LWT_SEG6LOCAL,
]);
/** Types whose gen_prologue un-clones the skb when packet data is written (bpf_unclone_prologue: 11 insns for 1). */
const UNCLONE_PROLOGUE: ReadonlySet<number> = new Set<number>([P.SCHED_CLS, P.SCHED_ACT, P.LWT_XMIT, P.SK_SKB]);

interface CtxRewrite {
  /** Instructions the field access becomes. */
  cnt: number;
  /** Size of the kernel field read (for narrow loads). */
  target: number;
  /** ctx_field_size recorded by is_valid_access (0: narrow loads not converted). */
  fieldSize: number;
}

/** __sk_buff field reads: [offset, end, cnt, target size, ctx_field_size]. */
const SKB_READ: [number, number, number, number, number][] = [
  [0, 4, 1, 4, 4],
  [4, 8, 2, 1, 4],
  [8, 12, 1, 4, 4],
  [12, 16, 1, 2, 4],
  [16, 20, 1, 2, 4],
  [20, 24, 3, 4, 4],
  [24, 28, 1, 2, 4],
  [28, 32, 1, 2, 4],
  [32, 36, 1, 4, 4],
  [36, 40, 1, 4, 4],
  [40, 44, 3, 4, 4],
  [44, 48, 1, 2, 4],
  [48, 68, 1, 4, 0],
  [68, 72, 1, 4, 4],
  [72, 76, 1, 2, 4],
  [76, 80, 1, 8, 0],
  [80, 84, 1, 8, 0],
  [84, 88, 3, 4, 4],
  [88, 92, 2, 2, 4],
  [92, 96, 2, 4, 0],
  [96, 100, 2, 4, 0],
  [100, 116, 2, 4, 0],
  [116, 132, 2, 4, 0],
  [132, 136, 3, 2, 4],
  [136, 140, 2, 2, 4],
  [140, 144, 1, 8, 0],
  [152, 160, 8, 8, 0],
  [160, 164, 1, 4, 4],
  [164, 168, 4, 2, 4],
  [168, 176, 1, 8, 0],
  [176, 180, 4, 2, 4],
  [180, 181, 2, 1, 0],
  [184, 192, 4, 8, 0],
];

function skbCtx(pt: number, s: Slot, write: boolean, tstampTypeAccess: boolean): CtxRewrite | null {
  const size = sizeOf(s.code);
  if (write) {
    const off = s.off;
    if (off === 12) {
      if (cls(s.code) === BPF_ST) return { cnt: 1, target: 2, fieldSize: 0 };
      return { cnt: 2, target: 2, fieldSize: 0 };
    }
    if (off >= 152 && off < 160) return { cnt: tstampTypeAccess ? 1 : 6, target: 8, fieldSize: 0 };
    if (off === 8 || off === 32 || off === 44 || (off >= 48 && off < 68) || off === 72 || off === 0)
      return { cnt: 1, target: size, fieldSize: 0 };
    return null;
  }
  const aligned = s.off & ~3;
  for (const [lo, hi, cnt, target, fieldSize] of SKB_READ) {
    if (aligned >= lo && aligned < hi) {
      let c = cnt;
      if (lo === 40 && (pt === P.SCHED_CLS || pt === P.SCHED_ACT)) c = 2;
      if (lo === 152 && tstampTypeAccess) c = 1;
      return { cnt: c, target, fieldSize };
    }
  }
  return null;
}

function xdpCtx(s: Slot, write: boolean): CtxRewrite | null {
  if (write) return null;
  const cnt: Record<number, number> = { 0: 1, 4: 1, 8: 1, 12: 3, 16: 2, 20: 3 };
  const c = cnt[s.off];
  return c === undefined ? null : { cnt: c, target: 4, fieldSize: 0 };
}

function sockAddrCtx(s: Slot, write: boolean): CtxRewrite | null {
  const off = s.off;
  const narrowable = off === 4 || (off >= 8 && off < 24) || off === 24 || off === 40 || (off >= 44 && off < 60);
  if (write) return narrowable ? { cnt: 4, target: 4, fieldSize: 0 } : null;
  if (off === 64) return { cnt: 1, target: 8, fieldSize: 0 };
  const aligned = off & ~3;
  if (aligned === 24) return { cnt: 2, target: 2, fieldSize: 4 };
  if (aligned === 4 || (aligned >= 8 && aligned < 24) || aligned === 40 || (aligned >= 44 && aligned < 60))
    return { cnt: 2, target: 4, fieldSize: 4 };
  if (off === 0 || off === 28 || off === 32 || off === 36) return { cnt: 2, target: 4, fieldSize: 0 };
  return null;
}

/** map_gen_lookup sizes (x86-64, bypass_spec_v1): instructions replacing the call, or 0 when not inlined. */
function lookupInline(type: number, flags: number): number {
  switch (type) {
    case MT.ARRAY:
      return flags & BPF_F_INNER_MAP ? 0 : 7;
    case MT.PERCPU_ARRAY:
      return flags & BPF_F_INNER_MAP ? 0 : 9;
    case MT.HASH:
      return 3;
    case MT.LRU_HASH:
      return 6;
    case MT.PERCPU_HASH:
      return 5;
    case MT.ARRAY_OF_MAPS:
      return 9;
    case MT.HASH_OF_MAPS:
      return 4;
    case MT.XSKMAP:
      return 8;
    default:
      return 0;
  }
}

export function rewrite(input: XlatedInput, ex: Exploration): { count: number; steps: XlatedStep[]; unmodelled: string[] } {
  const { insns, seen } = ex;
  const n = insns.length;
  const pt = input.progType;
  const steps: XlatedStep[] = [];
  const unmodelled = new Set<string>(ex.notes);
  const privileged = input.privileged ?? true;
  if (!privileged) unmodelled.add('unprivileged loads (sanitize_dead_code, pointer arithmetic masking)');
  let count = n;

  // optimize_bpf_loop
  for (const [at, site] of ex.loops) if (site.fit && seen[at]) steps.push({ kind: 'loop-inline', at, delta: 18 });

  // dead code and nops
  if (privileged) {
    let dead = 0,
      firstDead = -1;
    for (let i = 0; i < n; i++) {
      if (!seen[i]) {
        if (firstDead < 0) firstDead = i;
        dead++;
      } else if (firstDead >= 0) {
        steps.push({ kind: 'dead-code', at: firstDead, delta: -dead });
        dead = 0;
        firstDead = -1;
      }
    }
    if (firstDead >= 0) steps.push({ kind: 'dead-code', at: firstDead, delta: -dead });
    for (const at of removedNops(insns, seen)) steps.push({ kind: 'nop', at, delta: -1 });
  }

  // convert_ctx_accesses: prologue
  if (UNCLONE_PROLOGUE.has(pt) && ex.seenDirectWrite) steps.push({ kind: 'prologue', at: 0, delta: 10, detail: 'bpf_unclone_prologue' });
  if (pt === P.CGROUP_SOCKOPT) unmodelled.add('cgroup sockopt prologue');
  if (pt === P.STRUCT_OPS) unmodelled.add('struct_ops epilogue');

  const eat = input.expectedAttachType;
  const mayGotoSubprogs = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (!seen[i]) continue;
    const s = insns[i]!;
    const c = cls(s.code);
    if (isLdImm64(s)) {
      i++;
      continue;
    }

    // ctx accesses
    if (
      (c === BPF_LDX && ((s.code & 0xe0) === 0x60 || (s.code & 0xe0) === 0x80)) ||
      ((c === BPF_ST || c === BPF_STX) && (s.code & 0xe0) === 0x60)
    ) {
      const kind = ex.ptrKind[i];
      const write = c !== BPF_LDX;
      if (kind === 'ctx' && !NO_CTX_CONVERT.has(pt)) {
        let r: CtxRewrite | null = null;
        if (pt === P.XDP) r = xdpCtx(s, write);
        else if (SKB_TYPES.has(pt)) r = skbCtx(pt, s, write, ex.tstampTypeAccess);
        else if (pt === P.CGROUP_SOCK_ADDR) r = sockAddrCtx(s, write);
        if (!r) unmodelled.add(`ctx ${write ? 'write' : 'read'} at offset ${s.off} for program type ${pt}`);
        else {
          if (r.cnt !== 1) steps.push({ kind: 'ctx-access', at: i, delta: r.cnt - 1, detail: `off ${s.off}` });
          const size = sizeOf(s.code);
          if (!write && r.fieldSize && size < r.fieldSize && size < r.target) {
            const shift = s.off & (r.fieldSize - 1);
            steps.push({ kind: 'ctx-narrow', at: i, delta: shift ? 2 : 1 });
          }
          if (!write && (s.code & 0xe0) === 0x80) steps.push({ kind: 'ctx-narrow', at: i, delta: 1, detail: 'sign extension' });
        }
      } else if (kind === 'socket' || kind === 'sock_common' || kind === 'tcp_sock' || kind === 'xdp_sock') {
        unmodelled.add(`${kind} field access`);
      }
      continue;
    }

    // do_misc_fixups
    if (c === BPF_ALU || c === BPF_ALU64) {
      const op = s.code & 0xf0;
      const x = (s.code & 8) !== 0;
      const is64 = c === BPF_ALU64;
      if ((op === 0x30 || op === 0x90) && x) {
        const div = op === 0x30,
          signed = s.off === 1;
        const cnt = signed ? (div ? 8 : is64 ? 7 : 9) : div ? 4 : is64 ? 2 : 4;
        steps.push({ kind: 'div-guard', at: i, delta: cnt - 1 });
      }
      continue;
    }
    if (c === BPF_LD) {
      const ind = (s.code & 0xe0) === 0x40;
      steps.push({ kind: 'ld-abs', at: i, delta: ind && s.imm ? 6 : 5 });
      continue;
    }
    if (c !== BPF_JMP && c !== BPF_JMP32) continue;
    const op = s.code & 0xf0;
    if (op === 0xe0 && c === BPF_JMP) {
      steps.push({ kind: 'may-goto', at: i, delta: 3 });
      mayGotoSubprogs.add(subprogOf(insns, i));
      continue;
    }
    if (op !== 0x80 || c !== BPF_JMP) continue;
    if (s.src === 1) continue;
    if (s.src === 2) {
      unmodelled.add('kfunc call fixups');
      continue;
    }
    const id = s.imm;
    const helper = (delta: number, detail: string) => {
      if (delta) steps.push({ kind: 'helper-inline', at: i, delta, detail });
    };
    if (id === 170) {
      steps.push({ kind: 'timer-aux', at: i, delta: 2 });
      continue;
    }
    if (id === 107 || id === 156 || id === 145 || id === 210) {
      steps.push({ kind: 'storage-get-gfp', at: i, delta: 1 });
      continue;
    }
    if (id === 1) {
      const m = ex.callMap[i];
      if (m && m !== 'poison') {
        const cnt = lookupInline(m.type, m.flags);
        if (cnt) steps.push({ kind: 'map-lookup-inline', at: i, delta: cnt - 1, detail: `map type ${m.type}` });
      } else if (m === undefined) unmodelled.add(`map lookup at ${i} with an unknown map`);
      continue;
    }
    if (id === 118) {
      helper(2, 'jiffies64');
      continue;
    }
    if (id === 8) {
      helper(2, 'get_smp_processor_id');
      continue;
    }
    if (pt === P.TRACING) {
      if (id === 183) {
        helper(8, 'get_func_arg');
        continue;
      }
      if (id === 184) {
        helper(eat === A.TRACE_FEXIT || eat === A.MODIFY_RETURN ? 5 : 0, 'get_func_ret');
        continue;
      }
    }
    if (id === 176) {
      helper(10, 'get_branch_snapshot');
      continue;
    }
    if (id === 194) {
      helper(1, 'kptr_xchg');
      continue;
    }
  }
  for (const sub of mayGotoSubprogs) steps.push({ kind: 'may-goto', at: sub, delta: 1, detail: 'stack slot init' });

  for (const st of steps) count += st.delta;
  return { count, steps, unmodelled: [...unmodelled] };
}

/**
 * opt_hard_wire_dead_code_branches, opt_remove_dead_code, then opt_remove_nops: conditional
 * jumps with one side never visited become `ja`, unvisited slots go, and every `ja +0` left
 * (original, hard-wired never-taken branches, and jumps whose skipped code was removed) is
 * dropped, scanning forward once as the kernel does. Returns the slots of the dropped jumps.
 */
function removedNops(insns: Slot[], seen: Uint8Array): number[] {
  const n = insns.length;
  // Remaining slots, in order; for each, the slot its `ja` targets (or -1 when not a `ja`).
  const list: number[] = [];
  for (let i = 0; i < n; i++) if (seen[i]) list.push(i);
  const half = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (isLdImm64(insns[i]!)) half[++i] = 1;
  const nextSeen = (t: number): number => {
    while (t < n && !seen[t]) t++;
    return t;
  };
  const ja: number[] = list.map((i) => {
    const s = insns[i]!;
    if (half[i]) return -1;
    if (s.code === 0x05 && s.dst === 0 && s.src === 0 && s.imm === 0) return nextSeen(i + 1 + s.off);
    if (isCondJump(s.code)) {
      if (!seen[i + 1]) return nextSeen(i + 1 + s.off);
      if (!seen[i + 1 + s.off]) return nextSeen(i + 1);
    }
    return -1;
  });
  // Jumps are tracked by target slot; removing element k retargets jumps at it to element k+1.
  const target: (number | null)[] = ja.map((t) => (t < 0 ? null : t));
  const out: number[] = [];
  const alive = list.slice();
  for (let k = 0; k < alive.length; k++) {
    const t = target[k];
    if (t === null || t === undefined) continue;
    const next = alive[k + 1];
    const tIdx = t >= n ? alive.length : alive.indexOf(t);
    if (tIdx === k + 1 || (next === undefined && tIdx >= alive.length)) {
      out.push(alive[k]!);
      alive.splice(k, 1);
      target.splice(k, 1);
      // jumps to the removed slot now go to the one after it
      for (let j = 0; j < target.length; j++) if (target[j] === out[out.length - 1]) target[j] = alive[k] ?? n;
      k--;
    }
  }
  return out;
}

/** Start of the subprogram holding slot `at` (bpf-to-bpf call and callback targets split the program). */
function subprogOf(insns: Slot[], at: number): number {
  let best = 0;
  for (let i = 0; i < insns.length; i++) {
    const s = insns[i]!;
    let t = -1;
    if (s.code === 0x85 && s.src === 1) t = i + 1 + s.imm;
    if (isLdImm64(s) && s.src === 4) t = i + 1 + s.imm;
    if (t > best && t <= at) best = t;
  }
  return best;
}
