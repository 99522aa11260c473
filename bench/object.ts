/**
 * Object parse: our parseObject() of the largest fixture (~100 KB, test/fixtures/obj/big.*)
 * beside libbpf's bpf_object__open_mem() of the same bytes, both warm and in process.
 * Target: ≤ 2 ms for ours.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseObject } from '../src/loader/object/index.js';

export interface BenchResult {
  name: string;
  ours_ms: number;
  peer: string;
  peer_ms: number | null;
  ratio: number | null;
  target: string;
  ok: boolean;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function timeMedian(fn: () => void, runs: number, warmup = 20): number {
  for (let i = 0; i < warmup; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

export function benchObject(root: string): BenchResult {
  const dir = join(root, 'test/fixtures/obj');
  const candidates = readdirSync(dir)
    .filter((f) => f.startsWith('big.') && f.endsWith('.o'))
    .map((f) => join(dir, f));
  const path = candidates.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  const bytes = new Uint8Array(readFileSync(path));
  const ours = timeMedian(() => parseObject(bytes, { name: 'big' }), 300, 300); // warm, in process, as libbpf's figure is
  let peer: number | null = null;
  let note: string | undefined;
  try {
    const exe = join(mkdtempSync(join(tmpdir(), 'bpfsign-bench-')), 'obj_open');
    execFileSync('gcc', ['-O2', '-o', exe, join(root, 'bench/obj_open.c'), '-lbpf']);
    peer = (JSON.parse(execFileSync(exe, [path, '200'], { encoding: 'utf8' })) as { median_ms: number }).median_ms;
  } catch (e) {
    note = `libbpf peer unavailable: ${(e as Error).message.split('\n')[0]}`;
  }
  return {
    name: `parseObject ${path.replace(/^.*\//, '')} (${(bytes.length / 1024).toFixed(0)} KiB)`,
    ours_ms: ours,
    peer: 'libbpf bpf_object__open_mem',
    peer_ms: peer,
    ratio: peer ? ours / peer : null,
    target: 'ours ≤ 2 ms',
    ok: ours <= 2,
    note,
  };
}
