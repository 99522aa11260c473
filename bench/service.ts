/**
 * The service under load: the real server (SQLite, development mode) on loopback, 50 concurrent
 * connections for a few seconds each (after as long again of the same load, unmeasured) against
 * POST /v1/loaders (sign) and POST /v1/verifications (the bundle; its loader is replayed in the
 * kernel model), requests/s and p99 latency — once with one process and once with one worker
 * per core (`serve --workers N`). The load comes from wrk (Debian's package; C, so the client
 * takes little of the CPU it shares with the server), or, when wrk is missing, from an
 * in-process fetch loop (which the output says). The peer, measured in the same run, before the
 * loads and after: `bpftool gen skeleton -L` + `openssl cms -sign` per object, objects/s (this
 * machine's bpftool 7.1 has no -S). Targets: ≥ 10× the peer's objects/s; sign p99 < 50 ms,
 * verify p99 < 20 ms. Sign and the first verify load send the same request again and again, as
 * the issue states the target, so the service's content-addressed caches (made loaders, replay
 * outcomes, parsed bodies and verified signatures) answer the repeated work; a second verify
 * load posts 2,560 bundles of the object, each signed anew, in turn (a CI gate checking each
 * build's new bundle), and one run more with the caches off (BPFSIGN_CACHE_ENTRIES=0) shows the
 * cost without them.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  tool: 'wrk' | 'fetch';
}

const CONNECTIONS = 50;
const SECONDS = 5;
/**
 * Each measured load follows the same load for this long, unmeasured: a new process compiles
 * its hot paths and fills its caches in the first second or so (with several workers, each its
 * own), and those first requests were most of the p99 (measured: 1 worker, verify p99 70–95 ms
 * cold, 32–40 ms after 2 s of the same load, p50 unchanged). The targets are steady-state ones.
 */
const WARMUP_SECONDS = 2;

/**
 * wrk's Lua hooks: POST the body file (BPFSIGN_BENCH_BODY), or, when BPFSIGN_BENCH_N is above 1,
 * the files BODY.1 … BODY.N in turn; then print the summary as one JSON line.
 */
const WRK_SCRIPT = `
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("BPFSIGN_BENCH_CT")
local path, n = os.getenv("BPFSIGN_BENCH_BODY"), tonumber(os.getenv("BPFSIGN_BENCH_N"))
local function slurp(p) local f = assert(io.open(p, "rb")); local b = f:read("*a"); f:close(); return b end
if n == 1 then
  wrk.body = slurp(path)
else
  local bodies, i = {}, 0
  for k = 1, n do bodies[k] = slurp(path .. "." .. k) end
  request = function() i = i % n + 1; return wrk.format(nil, nil, nil, bodies[i]) end
end
done = function(summary, latency, requests)
  io.write(string.format('\\nBENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`;

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** `body`: a file, or with `n` > 1 the prefix of the files body.1 … body.n, posted in turn. */
async function wrkLoad(url: string, body: string, contentType: string, dir: string, seconds = SECONDS, n = 1): Promise<LoadResult> {
  const script = join(dir, 'post.lua');
  writeFileSync(script, WRK_SCRIPT);
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url], {
      env: { ...process.env, BPFSIGN_BENCH_BODY: body, BPFSIGN_BENCH_CT: contentType, BPFSIGN_BENCH_N: String(n) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let s = '';
    p.stdout.on('data', (d) => {
      s += d;
    });
    p.on('error', reject);
    p.on('exit', () => resolve(s));
  });
  const m = /BENCH (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk printed no summary: ${out.slice(-300)}`);
  const j = JSON.parse(m[1]) as { requests: number; duration_us: number; p50_us: number; p99_us: number; errors: number };
  return { rps: j.requests / (j.duration_us / 1e6), p50: j.p50_us / 1000, p99: j.p99_us / 1000, errors: j.errors, tool: 'wrk' };
}

async function fetchLoad(url: string, bodies: Uint8Array[], contentType: string, seconds = SECONDS): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0,
    next = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const body = bodies[next++ % bodies.length];
        const t0 = performance.now();
        const ok = await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } }).then(
          async (r) => {
            await r.arrayBuffer();
            return r.ok;
          },
          () => false,
        );
        lat.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return {
    rps: lat.length / seconds,
    p50: lat[lat.length >> 1] ?? NaN,
    p99: lat[Math.floor(lat.length * 0.99)] ?? NaN,
    errors,
    tool: 'fetch',
  };
}

/**
 * Starts `serve` on a free port and waits until it answers /readyz. Ports are drawn below Linux's
 * ephemeral range (32768–60999), where the bench's own client connections take theirs; a server
 * that exits before it is ready (a port taken after all) is started again on another port.
 */
export async function startServer(
  root: string,
  workers: number,
  caches: boolean,
  env: Record<string, string> = {},
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bpfsign-bench-'));
  for (let attempt = 1; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const proc = spawn(
      process.execPath,
      [join(root, 'dist/src/cli/main.js'), 'serve', '--port', String(port), '--workers', String(workers)],
      {
        env: {
          ...process.env,
          BPFSIGN_DATA_DIR: dataDir,
          BPFSIGN_LOG_LEVEL: 'error',
          BPFSIGN_RATE_LIMIT: '100000000',
          ...(caches ? {} : { BPFSIGN_CACHE_ENTRIES: '0' }),
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    proc.stderr!.on('data', (d) => {
      stderr = (stderr + d).slice(-2000);
    });
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const url = `http://127.0.0.1:${port}`;
    let ready = false;
    for (let i = 0; i < 200 && !ready && !exited; i++) {
      try {
        ready = (await fetch(`${url}/readyz`)).ok;
      } catch {
        /* starting */
      }
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    if (!ready) {
      if (!exited) proc.kill('SIGKILL');
      if (attempt < 5) continue;
      throw new Error(
        `bench: the server did not become ready on port ${port} (${exited ? 'it exited' : 'no answer in 20 s'}): ${stderr.trim()}`,
      );
    }
    // With several workers, wait until every one answers (each opens the store and the profile).
    await new Promise((r) => setTimeout(r, workers > 1 ? 1500 : 0));
    // The data folder goes with the server: a run writes a few hundred MB of log into each.
    const stop = () =>
      new Promise<void>((r) => {
        if (exited) r();
        else {
          proc.once('exit', () => r());
          proc.kill('SIGTERM');
        }
      }).then(() => rmSync(dataDir, { recursive: true, force: true }));
    return { url, pid: proc.pid!, stop };
  }
}

/** bpftool gen skeleton -L, then openssl cms -sign of the loader instructions' source object, per object, for 3 s. */
function peerObjectsPerSecond(obj: Uint8Array): number | null {
  try {
    const d = mkdtempSync(join(tmpdir(), 'bpfsign-peer-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          join(d, 'k.pem'),
          '-out',
          join(d, 'c.pem'),
          '-subj',
          '/CN=peer',
          '-days',
          '1',
        ],
        { stdio: 'ignore' },
      );
      writeFileSync(join(d, 'o.o'), obj);
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 3000) {
        writeFileSync(
          join(d, 'o.lskel.h'),
          execFileSync('bpftool', ['gen', 'skeleton', '-L', join(d, 'o.o')], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }),
        );
        execFileSync('openssl', [
          'cms',
          '-sign',
          '-binary',
          '-nocerts',
          '-noattr',
          '-keyid',
          '-outform',
          'DER',
          '-md',
          'sha256',
          '-in',
          join(d, 'o.lskel.h'),
          '-signer',
          join(d, 'c.pem'),
          '-inkey',
          join(d, 'k.pem'),
          '-out',
          join(d, 's.p7s'),
        ]);
        n++;
      }
      return n / ((performance.now() - t0) / 1000);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  } catch {
    return null; // bpftool or openssl missing
  }
}

export interface ServiceBench {
  workers: number;
  /** false: BPFSIGN_CACHE_ENTRIES=0, every request makes its loader, replays and verifies every signature. */
  caches: boolean;
  sign: LoadResult;
  /** The same bundle again and again. */
  verify: LoadResult;
  /**
   * FRESH_BUNDLES bundles of the object, each signed anew (its own signature, manifest signature,
   * log entry and checkpoint), posted in turn: a CI gate checking each build's new bundle. With the
   * caches on, only what depends on the loader's bytes alone (its replay) is answered from them;
   * every body is parsed and every signature, chain and proof checked. Caches-on runs only (with
   * the caches off every verification is already fresh).
   */
  verifyFresh?: LoadResult;
}

/**
 * More than any of the service's caches and memos hold, so that posted in turn none is found in
 * them: parsed bodies and shared bundles (BPFSIGN_CACHE_ENTRIES, default 64), and verified
 * signatures (4,096; each bundle brings two of its own, the loader's and the manifest's, and
 * shares its checkpoint's with the bundles committed with it).
 */
const FRESH_BUNDLES = 2560;

export async function benchService(
  root: string,
): Promise<{ runs: ServiceBench[]; peer_objects_per_s: number | null; peer_before: number | null; peer_after: number | null }> {
  const obj = readFileSync(join(root, 'test/fixtures/obj/xdp_filter.clang-el.o'));
  const peerBefore = peerObjectsPerSecond(obj);
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-bench-bodies-'));
  const wrk = hasWrk();
  const runs: ServiceBench[] = [];
  const cores = availableParallelism();
  // Warm (the same object and bundle again and again, as the issue's target is stated: the
  // content-addressed caches answer the repeated work) and cold (caches off), each with one
  // process and with one per core: on SQLite, whose file one connection writes at a time, more
  // processes are not always faster.
  const configs = [
    { workers: 1, caches: true },
    ...(cores > 1 ? [{ workers: cores, caches: true }] : []),
    { workers: 1, caches: false },
    ...(cores > 1 ? [{ workers: cores, caches: false }] : []),
  ];
  writeFileSync(join(dir, 'obj.o'), obj);
  try {
    for (const { workers, caches } of configs) {
      const srv = await startServer(root, workers, caches);
      try {
        const signUrl = `${srv.url}/v1/loaders?name=xdp_filter`,
          verifyUrl = `${srv.url}/v1/verifications`;
        const bodies: Uint8Array[] = new Array(caches ? FRESH_BUNDLES : 1);
        let made = 0;
        /** One bundle, signed over HTTP; a failed request is tried again, twice. */
        const signOne = async (): Promise<unknown> => {
          let last: unknown;
          for (let t = 0; t < 3; t++) {
            try {
              const r = await fetch(signUrl, { method: 'POST', body: obj, headers: { 'content-type': 'application/octet-stream' } });
              if (r.status === 201) return ((await r.json()) as { bundle: unknown }).bundle;
              last = new Error(`HTTP ${r.status}: ${(await r.text()).slice(0, 300)}`);
            } catch (e) {
              last = e;
            }
          }
          throw new Error(
            `bench: signing a bundle failed three times: ${String((last as Error)?.message ?? last)}${(last as Error)?.cause ? ` (${String((last as Error).cause)})` : ''}`,
          );
        };
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            for (let i = made++; i < bodies.length; i = made++) {
              bodies[i] = new TextEncoder().encode(JSON.stringify({ bundle: await signOne() }));
              writeFileSync(join(dir, `verify.json.${i + 1}`), bodies[i]);
            }
          }),
        );
        const load = async (url: string, file: string, body: Uint8Array[], contentType: string): Promise<LoadResult> => {
          if (wrk) {
            await wrkLoad(url, file, contentType, dir, WARMUP_SECONDS, body.length);
            return wrkLoad(url, file, contentType, dir, SECONDS, body.length);
          }
          await fetchLoad(url, body, contentType, WARMUP_SECONDS);
          return fetchLoad(url, body, contentType);
        };
        const sign = await load(signUrl, join(dir, 'obj.o'), [obj], 'application/octet-stream');
        const verify = await load(verifyUrl, join(dir, 'verify.json.1'), [bodies[0]], 'application/json');
        const verifyFresh = caches ? await load(verifyUrl, join(dir, 'verify.json'), bodies, 'application/json') : undefined;
        runs.push({ workers, caches, sign, verify, ...(verifyFresh ? { verifyFresh } : {}) });
      } finally {
        await srv.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const peerAfter = peerObjectsPerSecond(obj);
  // The peer's better rate of the two, before and after the loads (after, the disk may still be
  // writing back what the servers wrote, which slows the peer's many small files more than us).
  const peers = [peerBefore, peerAfter].filter((p): p is number => p !== null);
  return { runs, peer_objects_per_s: peers.length ? Math.max(...peers) : null, peer_before: peerBefore, peer_after: peerAfter };
}
