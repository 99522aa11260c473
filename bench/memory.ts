/**
 * The server's memory under a long run of signs: the real server (`bpfsign serve`, one process,
 * SQLite on a temporary data folder; or PostgreSQL with BPFSIGN_BENCH_PG=postgres://…; `env`
 * adds to its environment, such as MALLOC_ARENA_MAX) takes 10,000 sign requests, 16 at a time,
 * and its resident set (VmRSS of /proc/PID/status) and V8 heap (its /metrics) are read after the
 * 2,000th and the 10,000th. The requests rotate through the fixture objects, each under a name of
 * its own (`?name=`), so that every request builds a loader the caches have not seen: what the
 * caches keep is bounded by their limits, not by the few distinct requests of a short test.
 * Target: under 250 MB at both points, and flat between them (growing by at most a tenth of the
 * target).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './service.js';

export const MEMORY_TARGET_MB = 250;
const SIGNS = 10_000;
const CHECKPOINTS = [2_000, 4_000, 6_000, 8_000, 10_000];
const CONCURRENCY = 16;

export interface MemorySample {
  signs: number;
  rssMb: number;
  heapUsedMb: number | null;
  externalMb: number | null;
}
export interface MemoryBench {
  store: 'sqlite' | 'postgres';
  env: Record<string, string>;
  samples: MemorySample[];
  errors: number;
  seconds: number;
  ok: boolean;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`bench: /proc/${pid}/status has no VmRSS`);
  return Number(m[1]) / 1024;
}

/** A gauge of prom-client's default metrics in MB, or null when /metrics does not show it. */
function gaugeMb(metrics: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) / (1 << 20) : null;
}

async function sample(url: string, pid: number, signs: number): Promise<MemorySample> {
  const metrics = await fetch(`${url}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  return {
    signs,
    rssMb: rssMb(pid),
    heapUsedMb: gaugeMb(metrics, 'nodejs_heap_size_used_bytes'),
    externalMb: gaugeMb(metrics, 'nodejs_external_memory_bytes'),
  };
}

/** The fixture objects the server signs (tried once each; those it refuses are left out). */
async function signable(root: string, url: string): Promise<{ stem: string; bytes: Uint8Array }[]> {
  const dir = join(root, 'test/fixtures/obj');
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.clang-el.o'))
    .sort()
    .map((f) => ({ stem: f.slice(0, -'.clang-el.o'.length), bytes: readFileSync(join(dir, f)) }));
  const ok = await Promise.all(all.map((o) => postSign(url, o.bytes, `${o.stem}_probe`)));
  return all.filter((_, i) => ok[i]);
}

function postSign(url: string, body: Uint8Array, name: string): Promise<boolean> {
  return fetch(`${url}/v1/loaders?name=${name}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } }).then(
    async (r) => {
      await r.arrayBuffer();
      return r.status === 201;
    },
    () => false,
  );
}

export async function benchMemory(
  root: string,
  store: 'sqlite' | 'postgres' = 'sqlite',
  env: Record<string, string> = {},
): Promise<MemoryBench> {
  const srv = await startServer(root, 1, true, env);
  try {
    const objects = await signable(root, srv.url);
    if (objects.length === 0) throw new Error('bench: the server signed none of the fixture objects');
    const samples: MemorySample[] = [];
    let next = 0,
      errors = 0;
    const t0 = performance.now();
    for (const upTo of CHECKPOINTS) {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = next++; i < upTo; i = next++) {
            const o = objects[i % objects.length];
            if (!(await postSign(srv.url, o.bytes, `${o.stem}_${i}`))) errors++;
          }
        }),
      );
      next = upTo;
      samples.push(await sample(srv.url, srv.pid, upTo));
    }
    const at = (n: number) => samples.find((s) => s.signs === n)!;
    const first = at(2_000).rssMb,
      last = at(SIGNS).rssMb;
    const ok = errors === 0 && first < MEMORY_TARGET_MB && last < MEMORY_TARGET_MB && last - first <= MEMORY_TARGET_MB / 10;
    return { store, env, samples, errors, seconds: (performance.now() - t0) / 1000, ok };
  } finally {
    await srv.stop();
  }
}

/** The bench's lines: RSS after 2,000 and 10,000 signs beside the target, and the samples between. */
export function printMemory(m: MemoryBench): void {
  const at = (n: number) => m.samples.find((s) => s.signs === n)!;
  const a = at(2_000),
    b = at(SIGNS);
  const shown = Object.entries(m.env)
    .filter(([k]) => k !== 'BPFSIGN_DATABASE_URL')
    .map(([k, v]) => `, ${k}=${v}`)
    .join('');
  console.log(
    `${m.ok ? 'PASS' : 'MISS'}  server RSS over ${SIGNS.toLocaleString('en')} signs (${m.store}${shown}): ${a.rssMb.toFixed(0)} MB after 2,000, ${b.rssMb.toFixed(0)} MB after 10,000, ${m.errors} errors, ${m.seconds.toFixed(0)} s (target < ${MEMORY_TARGET_MB} MB, flat: +${MEMORY_TARGET_MB / 10} MB at most)`,
  );
  const mb = (v: number | null) => (v === null ? 'n/a' : v.toFixed(0));
  console.log(
    `      RSS / V8 heap used / external, MB: ${m.samples.map((s) => `${s.signs}: ${s.rssMb.toFixed(0)} / ${mb(s.heapUsedMb)} / ${mb(s.externalMb)}`).join('; ')}`,
  );
}
