/**
 * Test support: compare what two loader runs left in the kernel (runner reports): program
 * names, types, xlated lengths and tags; map names, types, sizes, max_entries, flags, frozen
 * state, contents and PROG_ARRAY slots (as program names).
 */
import type { RunnerMap, RunnerProg, RunnerReport } from './harness.js';

export const BPF_F_MMAPABLE = 0x400;

export interface CompareOptions {
  /**
   * Map indexes whose BPF_F_MMAPABLE bit is compared masked: libbpf 1.1 sets it on every
   * .data/.rodata/.bss map, libbpf v1.7 only when the section has a non-static variable.
   */
  mmapableMasked?: ReadonlySet<number>;
}

export interface Comparison {
  /** Differences (empty: same result). */
  diffs: string[];
  /** Expected, documented differences that were masked. */
  notes: string[];
}

function slotNames(m: RunnerMap, progs: RunnerProg[]): (string | number)[] | undefined {
  return m.prog_ids?.map((id) => (id > 0 ? (progs.find((p) => p.id === id)?.name ?? `id ${id} (not in ctx)`) : id));
}

function compareMap(i: number, a: RunnerMap, b: RunnerMap, ours: RunnerReport, ref: RunnerReport, masked: boolean, out: Comparison): void {
  const tag = `map ${i} (${a.name ?? b.name ?? '?'})`;
  if (a.fd > 0 !== b.fd > 0) {
    out.diffs.push(`${tag}: fd ${a.fd} vs ${b.fd}`);
    return;
  }
  if (a.fd <= 0) return;
  for (const k of ['name', 'type', 'key_size', 'value_size', 'max_entries', 'frozen', 'contents'] as const) {
    if (a[k] !== b[k]) {
      const show = (v: unknown) =>
        typeof v === 'string' && v.length > 40 ? `${v.slice(0, 40)}… (${v.length / 2} bytes)` : JSON.stringify(v);
      out.diffs.push(`${tag}: ${k} ${show(a[k])} vs ${show(b[k])}`);
    }
  }
  let fa = a.flags ?? 0,
    fb = b.flags ?? 0;
  if (masked && (fa ^ fb) === BPF_F_MMAPABLE) {
    out.notes.push(
      `${tag}: flags 0x${fa.toString(16)} (v1.7) vs 0x${fb.toString(16)} (libbpf 1.1): BPF_F_MMAPABLE masked (internal map with only static variables)`,
    );
    fa &= ~BPF_F_MMAPABLE;
    fb &= ~BPF_F_MMAPABLE;
  }
  if (fa !== fb) out.diffs.push(`${tag}: flags 0x${fa.toString(16)} vs 0x${fb.toString(16)}`);
  const sa = slotNames(a, ours.progs),
    sb = slotNames(b, ref.progs);
  if (JSON.stringify(sa) !== JSON.stringify(sb)) out.diffs.push(`${tag}: prog_array slots ${JSON.stringify(sa)} vs ${JSON.stringify(sb)}`);
}

/** Compare `ours` with the reference run `ref`. */
export function compareReports(ours: RunnerReport, ref: RunnerReport, opts: CompareOptions = {}): Comparison {
  const out: Comparison = { diffs: [], notes: [] };
  if (ours.stage !== ref.stage || ours.errno !== ref.errno)
    out.diffs.push(`stage ${ours.stage}/errno ${ours.errno} vs ${ref.stage}/errno ${ref.errno}`);
  if (ours.retval !== ref.retval) out.diffs.push(`loader retval ${ours.retval} vs ${ref.retval}`);
  if (ours.maps.length !== ref.maps.length) out.diffs.push(`ctx map count ${ours.maps.length} vs ${ref.maps.length}`);
  if (ours.progs.length !== ref.progs.length) out.diffs.push(`ctx program count ${ours.progs.length} vs ${ref.progs.length}`);
  for (let i = 0; i < Math.min(ours.maps.length, ref.maps.length); i++) {
    compareMap(i, ours.maps[i], ref.maps[i], ours, ref, opts.mmapableMasked?.has(i) ?? false, out);
  }
  for (let i = 0; i < Math.min(ours.progs.length, ref.progs.length); i++) {
    const a = ours.progs[i],
      b = ref.progs[i];
    const tag = `prog ${i} (${a.name ?? b.name ?? '?'})`;
    if (a.fd > 0 !== b.fd > 0) {
      out.diffs.push(`${tag}: fd ${a.fd} vs ${b.fd}`);
      continue;
    }
    if (a.fd <= 0) continue;
    for (const k of ['name', 'type', 'xlated_prog_len', 'tag'] as const) {
      if (a[k] !== b[k]) out.diffs.push(`${tag}: ${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
    }
  }
  return out;
}
