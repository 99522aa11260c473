/**
 * BTF parse benchmark: our parseBtf against libbpf's btf__parse() on the same
 * file (default /sys/kernel/btf/vmlinux), both warm and in-process, median of
 * N runs after warm-up. The C peer (bench/btf_parse.c) is built into a
 * temporary directory with gcc and Debian's libbpf.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBtf } from '../src/loader/btf/index.js';

export interface BtfBenchResult {
  name: string;
  /** Our median: read the file + parseBtf (what btf__parse does). */
  ours_ms: number;
  /** libbpf btf__parse() median. */
  peer_ms: number;
  /** ours_ms / peer_ms. */
  ratio: number;
  /** Maximum acceptable ratio. */
  target: number;
  /** parseBtf alone on bytes already in memory. */
  parse_only_ms: number;
  /** Read + parse + decode every type to an object (type(id) for all ids). */
  parse_touch_ms: number;
  types: number;
  path: string;
}

const TARGET_RATIO = 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeIt(n: number, warmup: number, f: () => void): number {
  for (let i = 0; i < warmup; i++) f();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Source of the C peer, found relative to this file (dist/bench/btf.js → bench/btf_parse.c). */
function peerSource(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'btf_parse.c'), resolve(here, '../../bench/btf_parse.c')]) {
    try {
      readFileSync(p);
      return p;
    } catch {
      // try next
    }
  }
  throw new Error('bench/btf_parse.c not found');
}

export async function benchBtf(opts: { path?: string; iterations?: number } = {}): Promise<BtfBenchResult> {
  const path = opts.path ?? '/sys/kernel/btf/vmlinux';
  const n = opts.iterations ?? 50;

  const dir = mkdtempSync(join(tmpdir(), 'bench-btf-'));
  let peer: { median_ms: number; types: number };
  try {
    const exe = join(dir, 'btf_parse');
    execFileSync('gcc', ['-O2', peerSource(), '-lbpf', '-o', exe]);
    peer = JSON.parse(execFileSync(exe, [path, String(n)], { encoding: 'utf8' })) as { median_ms: number; types: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const warmup = 10;
  const bytes = new Uint8Array(readFileSync(path));
  let types = 0;
  const oursMs = timeIt(n, warmup, () => {
    types = parseBtf(new Uint8Array(readFileSync(path))).typeCount;
  });
  const parseOnlyMs = timeIt(n, warmup, () => {
    parseBtf(bytes);
  });
  const touchMs = timeIt(Math.max(5, Math.floor(n / 5)), 3, () => {
    const btf = parseBtf(new Uint8Array(readFileSync(path)));
    for (let id = 1; id < btf.totalCount; id++) btf.type(id);
  });
  if (types !== peer.types) throw new Error(`type count differs: ours ${types}, libbpf ${peer.types}`);

  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    name: 'btf_parse_vmlinux',
    ours_ms: round(oursMs),
    peer_ms: round(peer.median_ms),
    ratio: round(oursMs / peer.median_ms),
    target: TARGET_RATIO,
    parse_only_ms: round(parseOnlyMs),
    parse_touch_ms: round(touchMs),
    types,
    path,
  };
}

// Run directly: node dist/bench/btf.js
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await benchBtf(), null, 2));
}
