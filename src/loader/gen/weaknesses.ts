/**
 * Weaknesses of a light-skeleton loader, read from its instructions (and, when there is one, from
 * the header that carries it), not from knowing who generated it:
 *
 *  - CTX_OVERRIDES_MAP: the loader reads a map's `max_entries` or `initial_value` from its ctx
 *    (struct bpf_loader_ctx + struct bpf_map_desc[i], which the process running the loader fills
 *    in). Neither the signature nor the metadata hash covers the ctx, so whoever runs a signed
 *    loader picks the map size and the initial contents (libbpf v1.7.0 keeps both reads in signed
 *    loaders; later libbpf drops them with gen_hash). One finding per read.
 *  - METADATA_MAP_NOT_EXCLUSIVE: the metadata map the signed check relies on need not be
 *    exclusive to the loader. From the instructions: the loader compares the kernel's `map->sha`
 *    (struct bpf_map offsets 0..31) but never reads `map->excl` (offset 32), so a map created
 *    without excl_prog_hash passes, and another BPF program may write it after the kernel hashed
 *    it. From the header: it is signed but sets no `opts.excl_prog_hash`, so skel_internal.h's
 *    bpf_load_and_run creates `__loader.map` without one.
 *
 * How ctx reads are found: a forward data-flow pass over the instructions tracks which registers
 * may hold the ctx pointer (r1 at entry; libbpf's loaders copy it to r6 and keep it there) or a
 * `struct bpf_map *` (ld_imm64 with BPF_PSEUDO_MAP_IDX), with their constant offsets, through
 * moves, constant adds and every branch; loads through them are classified by offset. Merging
 * paths keeps "may hold" (a read on any path counts), so the analysis errs towards reporting.
 */
import { LoaderError } from '../errors.js';
import {
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_EXIT,
  BPF_FETCH,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_MOV,
  BPF_PSEUDO_MAP_IDX,
  BPF_STX,
  BPF_SUB,
  BPF_X,
  decodeInsns,
  opClass,
  opCode,
  opMode,
  opSrc,
  sizeBytes,
  type ByteOrder,
  type Insn,
} from '../isa/index.js';
import { BPF_LOADER_CTX, BPF_MAP_DESC } from '../uapi/index.js';

export type LoaderWeaknessCode = 'CTX_OVERRIDES_MAP' | 'METADATA_MAP_NOT_EXCLUSIVE';

export interface LoaderWeakness {
  code: LoaderWeaknessCode;
  message: string;
  details: Record<string, unknown>;
}

export interface LoaderWeaknessOptions {
  /** Byte order of `insns`. Default 'le'. */
  order?: ByteOrder;
  /**
   * What the light-skeleton header says (parseLightSkeleton's fields): whether it is signed, whether
   * it asks for an exclusive metadata map, and the skeleton's map members (to name map indexes).
   */
  header?: { signature: Uint8Array | null; exclProgHash: Uint8Array | null; maps: readonly string[] };
}

/** What a register may point into: the loader ctx or a kernel struct bpf_map (by fd_array index), at a constant offset (null: unknown). */
type Ptr = { kind: 'ctx'; off: number | null } | { kind: 'map'; index: number; off: number | null } | null;
type State = Ptr[];

const CTX_SIZE = BPF_LOADER_CTX.size;
const DESC_SIZE = BPF_MAP_DESC.size;
const MAX_ENTRIES = BPF_MAP_DESC.fields.max_entries.offset;
const INITIAL_VALUE = BPF_MAP_DESC.fields.initial_value.offset;
/** struct bpf_map in Linux 6.18: `u8 sha[32]` first; bpf-next (June 2026) adds `excl` right after it. */
const MAP_SHA_END = 32;
const MAP_EXCL = 32;

function joinPtr(a: Ptr, b: Ptr): Ptr {
  if (a === null) return b;
  if (b === null) return a;
  if (a.kind === 'ctx' && b.kind === 'ctx') return { kind: 'ctx', off: a.off === b.off ? a.off : null };
  if (a.kind === 'map' && b.kind === 'map' && a.index === b.index)
    return { kind: 'map', index: a.index, off: a.off === b.off ? a.off : null };
  // Different kinds on two paths: keep the ctx (what the findings are about), offset unknown.
  return a.kind === 'ctx' ? { kind: 'ctx', off: null } : b.kind === 'ctx' ? { kind: 'ctx', off: null } : a;
}

const samePtr = (a: Ptr, b: Ptr): boolean =>
  a === b ||
  (a !== null && b !== null && a.kind === b.kind && a.off === b.off && (a.kind !== 'map' || a.index === (b as { index: number }).index));

interface Read {
  slot: number;
  base: 'ctx' | 'map';
  mapIndex: number;
  off: number | null;
  size: number;
}

/** Runs the data-flow pass; returns every load through a ctx or struct bpf_map pointer. */
function pointerReads(insns: Insn[], slots: number[]): Read[] {
  const bySlot = new Map<number, number>();
  slots.forEach((s, i) => bySlot.set(s, i));
  const states: (State | null)[] = new Array(insns.length).fill(null);
  const entry: State = new Array(11).fill(null);
  entry[1] = { kind: 'ctx', off: 0 };
  states[0] = insns.length ? entry : null;
  const work: number[] = insns.length ? [0] : [];
  const reads = new Map<string, Read>();
  const flow = (to: number, from: number, st: State): void => {
    const i = bySlot.get(to);
    if (i === undefined) {
      throw new LoaderError('INSN_INVALID', `loader: instruction ${slots[from]} jumps to ${to}, which is not the start of an instruction`, {
        offset: slots[from] * 8,
        got: to,
      });
    }
    const cur = states[i];
    if (!cur) {
      states[i] = st.slice();
      work.push(i);
      return;
    }
    let changed = false;
    for (let r = 0; r < st.length; r++) {
      const j = joinPtr(cur[r], st[r]);
      if (!samePtr(j, cur[r])) {
        cur[r] = j;
        changed = true;
      }
    }
    if (changed) work.push(i);
  };
  /** Applies instruction i to a copy of its entry state; returns the state after it and the successor slots. */
  const step = (i: number, record: boolean): { s: State; succ: number[] } => {
    const s = states[i]!.slice();
    const ins = insns[i];
    const slot = slots[i];
    const next = slot + ins.width;
    const cls = opClass(ins.opcode);
    const code = opCode(ins.opcode);
    const regSrc = opSrc(ins.opcode) === BPF_X;
    const dst = ins.dst & 0xf;
    let succ: number[] = [next];
    if (ins.width === 2) {
      s[dst] = ins.src === BPF_PSEUDO_MAP_IDX ? { kind: 'map', index: ins.imm, off: 0 } : null;
    } else if (cls === BPF_LDX || (cls === BPF_STX && opMode(ins.opcode) === BPF_ATOMIC && ins.imm === BPF_LOAD_ACQ)) {
      // A load (or load-acquire: dst = *(src + off)) through a tracked pointer.
      const p = s[ins.src & 0xf];
      if (p && record) {
        const off = p.off === null ? null : p.off + ins.off;
        const r: Read = { slot, base: p.kind, mapIndex: p.kind === 'map' ? p.index : -1, off, size: sizeBytes(ins.opcode) };
        reads.set(`${slot}:${r.base}:${r.mapIndex}:${off}`, r);
      }
      s[dst] = null;
    } else if (cls === BPF_ALU64 || cls === BPF_ALU) {
      // Only a 64-bit register move and constant adds keep a pointer (with its offset).
      const p = s[dst];
      if (cls === BPF_ALU64 && code === BPF_MOV && regSrc && ins.off === 0) s[dst] = s[ins.src & 0xf];
      else if (cls === BPF_ALU64 && (code === BPF_ADD || code === BPF_SUB) && p) {
        const delta = regSrc ? null : code === BPF_ADD ? ins.imm : -ins.imm;
        s[dst] = { ...p, off: p.off === null || delta === null ? null : p.off + delta };
      } else s[dst] = null;
    } else if (cls === BPF_STX && opMode(ins.opcode) === BPF_ATOMIC) {
      // Fetching atomics write the source register; cmpxchg writes r0.
      if (ins.imm & BPF_FETCH) s[ins.src & 0xf] = null;
      s[0] = null;
    } else if (cls === BPF_JMP || cls === BPF_JMP32) {
      if (code === BPF_CALL) {
        for (let r = 0; r <= 5; r++) s[r] = null;
      } else if (code === BPF_EXIT) succ = [];
      else if (code === BPF_JA) succ = [next + (cls === BPF_JMP32 ? ins.imm : ins.off)];
      else succ = [next, next + ins.off];
    } else if (cls === BPF_LD) {
      // Legacy packet loads (ld_imm64 is handled above) clobber r0..r5.
      for (let r = 0; r <= 5; r++) s[r] = null;
    }
    return { s, succ };
  };
  const end = slots.length ? slots[slots.length - 1] + insns[insns.length - 1].width : 0;
  while (work.length) {
    const i = work.pop()!;
    const { s, succ } = step(i, false);
    for (const t of succ) if (t < end) flow(t, i, s);
  }
  // Reads are taken from the fixed point only: an early visit may still see a narrower state.
  for (let i = 0; i < insns.length; i++) if (states[i]) step(i, true);
  return [...reads.values()].sort((a, b) => a.slot - b.slot);
}

type MapField = 'max_entries' | 'initial_value' | 'map_fd' | 'unknown';

/**
 * A ctx offset → map desc index and field. The number of maps is not bounded by the header's list:
 * bpftool leaves out of the struct the internal maps it cannot name while the loader's ctx
 * offsets count every map, so a bound could hide a read. (Loaders never read the prog descs that
 * follow the map descs; they only write them.)
 */
function classifyCtx(off: number | null): { mapIndex: number | null; field: MapField } | null {
  if (off === null) return { mapIndex: null, field: 'unknown' };
  if (off < CTX_SIZE) return null; // sz, flags, log_level, log_size, log_buf: the loader's own inputs
  const rel = off - CTX_SIZE;
  const idx = Math.floor(rel / DESC_SIZE);
  const within = rel % DESC_SIZE;
  if (within >= INITIAL_VALUE) return { mapIndex: idx, field: 'initial_value' };
  if (within >= MAX_ENTRIES) return { mapIndex: idx, field: 'max_entries' };
  return { mapIndex: idx, field: 'map_fd' };
}

/** The weaknesses of a loader (see the module comment); [] when there are none. */
export function loaderWeaknesses(insns: Uint8Array, opts: LoaderWeaknessOptions = {}): LoaderWeakness[] {
  const order = opts.order ?? 'le';
  const decoded = decodeInsns(insns, order);
  const slots: number[] = [];
  let at = 0;
  for (const d of decoded) {
    slots.push(at);
    at += d.width;
  }
  const reads = pointerReads(decoded, slots);
  const header = opts.header;

  // The in-loader metadata check (6.18 scheme): all four words of map->sha read through struct bpf_map pointers.
  const shaReads = reads.filter((r) => r.base === 'map' && r.off !== null && r.off < MAP_SHA_END);
  const shaWords = new Set(shaReads.map((r) => r.off));
  const hashCheck = [0, 8, 16, 24].every((o) => shaWords.has(o));
  const checkEnd = hashCheck ? Math.max(...shaReads.map((r) => r.slot)) : -1;
  const exclCheck = reads.some((r) => r.base === 'map' && r.off === MAP_EXCL);

  const out: LoaderWeakness[] = [];
  for (const r of reads) {
    if (r.base !== 'ctx') continue;
    const c = classifyCtx(r.off);
    if (!c || c.field === 'map_fd') continue;
    const name = c.mapIndex !== null && header?.maps[c.mapIndex] !== undefined ? header.maps[c.mapIndex] : null;
    const after = hashCheck && r.slot > checkEnd;
    const which =
      c.mapIndex === null ? 'a map field at an unknown ctx offset' : `map ${c.mapIndex}${name ? ` (${name})` : ''}'s ${c.field}`;
    out.push({
      code: 'CTX_OVERRIDES_MAP',
      message: `loader instruction ${r.slot} reads ${which} from its ctx${after ? ' after the metadata hash check' : ''}: the process running the loader, not the signature, decides it`,
      details: { insn: r.slot, mapIndex: c.mapIndex, map: name, field: c.field, ctxOffset: r.off, size: r.size, afterMetadataCheck: after },
    });
  }
  if (hashCheck && !exclCheck) {
    out.push({
      code: 'METADATA_MAP_NOT_EXCLUSIVE',
      message: `the loader checks its metadata map's hash (map->sha, instructions ${shaReads[0].slot}..${checkEnd}) but not map->excl: a metadata map created without excl_prog_hash passes, and another BPF program may write it after the kernel hashed it`,
      details: { source: 'insns', mapIndex: shaReads[0].mapIndex, hashCheckInsns: [shaReads[0].slot, checkEnd] },
    });
  }
  if (header?.signature && !header.exclProgHash) {
    out.push({
      code: 'METADATA_MAP_NOT_EXCLUSIVE',
      message:
        'the header is signed but sets no opts.excl_prog_hash: bpf_load_and_run creates __loader.map without excl_prog_hash, so it is not exclusive to the loader',
      details: { source: 'header' },
    });
  }
  return out;
}
