/**
 * The service under load: the real server (SQLite, development mode) on loopback, 50 concurrent
 * connections for a few seconds each for POST /v1/loaders (sign) and POST /v1/verifications,
 * requests/s and p99 latency; beside `bpftool gen skeleton -L` + `openssl cms -sign` per object
 * (this machine's bpftool 7.1 has no -S), objects/s, measured in the same run.
 * Targets: ≥ 10× bpftool's objects/s; sign p99 < 50 ms, verify p99 < 20 ms.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function load(n: number, seconds: number, fn: () => Promise<boolean>): Promise<{ rps: number; p99: number; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: n }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const ok = await fn().catch(() => false);
      lat.push(performance.now() - t0);
      if (!ok) errors++;
    }
  }));
  lat.sort((a, b) => a - b);
  return { rps: lat.length / seconds, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN, errors };
}

export async function benchService(root: string): Promise<Record<string, unknown>> {
  const obj = readFileSync(join(root, 'test/fixtures/obj/xdp_filter.clang-el.o'));
  const dataDir = mkdtempSync(join(tmpdir(), 'bpfsign-bench-'));
  const port = 30000 + Math.floor(Math.random() * 20000);
  const proc = spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'serve', '--port', String(port)], {
    env: { ...process.env, BPFSIGN_DATA_DIR: dataDir, BPFSIGN_LOG_LEVEL: 'error', BPFSIGN_RATE_LIMIT: '100000000' }, stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 150; i++) { try { if ((await fetch(`${url}/readyz`)).ok) break; } catch { /* starting */ } await new Promise((r) => setTimeout(r, 100)); }
    const signOnce = async () => (await fetch(`${url}/v1/loaders?name=xdp_filter`, { method: 'POST', body: obj, headers: { 'content-type': 'application/octet-stream' } })).status === 201;
    const first = await (await fetch(`${url}/v1/loaders?name=xdp_filter`, { method: 'POST', body: obj, headers: { 'content-type': 'application/octet-stream' } })).json() as { bundle: unknown };
    const body = JSON.stringify({ bundle: first.bundle });
    const verifyOnce = async () => (await fetch(`${url}/v1/verifications`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).ok;
    const sign = await load(50, 4, signOnce);
    const verify = await load(50, 4, verifyOnce);
    // Peer: bpftool gen skeleton -L, then openssl cms -sign of the loader instructions, per object.
    let peer: number | null = null;
    try {
      const d = mkdtempSync(join(tmpdir(), 'bpfsign-peer-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(d, 'k.pem'), '-out', join(d, 'c.pem'), '-subj', '/CN=peer', '-days', '1'], { stdio: 'ignore' });
      writeFileSync(join(d, 'o.o'), obj);
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 3000) {
        execFileSync('bpftool', ['gen', 'skeleton', '-L', join(d, 'o.o')], { stdio: ['ignore', 'pipe', 'ignore'] });
        execFileSync('openssl', ['cms', '-sign', '-binary', '-nocerts', '-noattr', '-keyid', '-outform', 'DER', '-md', 'sha256', '-in', join(d, 'o.o'), '-signer', join(d, 'c.pem'), '-inkey', join(d, 'k.pem'), '-out', join(d, 's.p7s')]);
        n++;
      }
      peer = n / ((performance.now() - t0) / 1000);
    } catch { /* bpftool or openssl missing */ }
    return { sign_rps: sign.rps, sign_p99_ms: sign.p99, sign_errors: sign.errors, verify_rps: verify.rps, verify_p99_ms: verify.p99, verify_errors: verify.errors, peer_objects_per_s: peer };
  } finally {
    proc.kill();
  }
}
