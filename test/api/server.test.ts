/**
 * `bpfsign serve` as processes: replicas starting together on one empty data folder end with one
 * CA, one signing key and one log key and all serve them; production mode refuses generated
 * keys unless allowed; development mode says so in one plain banner; logs are readable lines on
 * a terminal and JSON otherwise.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../e2e/support.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'bpfsign-serve-'));
const port = () => 20000 + Math.floor(Math.random() * 20000);
const BASE = { BPFSIGN_VERIFY_WORKERS: '0', BPFSIGN_LOG_LEVEL: 'info' };

interface Served {
  url: string;
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

/** `bpfsign serve` on `dataDir`, resolved once it answers /readyz (or rejected with its stderr when it exits). */
async function serve(dataDir: string, env: Record<string, string> = {}): Promise<Served> {
  const p = port();
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', String(p)], {
    env: { ...process.env, ...BASE, BPFSIGN_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const url = `http://127.0.0.1:${p}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, proc, stdout: () => out, stderr: () => err };
    } catch {
      /* not yet */
    }
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`server did not become ready: ${err}`);
}

async function stop(s: Served): Promise<void> {
  if (s.proc.exitCode !== null) return;
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
}

type Trust = { caCertificate: string; keys: { id: string }[]; logKey: string };

describe('replicas starting together on one empty data folder', () => {
  it('end with one CA, one signing key and one log key, and all serve the same key ids', async () => {
    const dir = fresh();
    const started = await Promise.allSettled([1, 2, 3, 4].map(() => serve(dir)));
    const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      assert.deepEqual(
        started.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : [])),
        [],
        'every replica started',
      );
      const ring = JSON.parse(readFileSync(join(dir, 'keys/keys.json'), 'utf8')) as { keys: { id: string }[] };
      assert.equal(ring.keys.length, 1, 'one signing key');
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.startsWith('.')),
        [],
        'no temporaries left behind',
      );
      assert.equal(readdirSync(join(dir, 'keys')).filter((n) => n.endsWith('-key.pem')).length, 2, 'one CA key and one signing key');
      const trusts = await Promise.all(servers.map(async (s) => (await (await fetch(`${s.url}/v1/keys`)).json()) as Trust));
      for (const t of trusts) {
        assert.deepEqual(
          t.keys.map((k) => k.id),
          ring.keys.map((k) => k.id),
        );
        assert.equal(t.caCertificate, readFileSync(join(dir, 'keys/ca.pem'), 'utf8'));
        assert.equal(t.logKey, trusts[0]!.logKey);
      }
      const banners = servers.filter((s) => /made now: .*CA and signing key/.test(s.stderr()));
      assert.equal(banners.length, 1, 'one replica made the keyring');
    } finally {
      await Promise.all(servers.map(stop));
    }
  });
});

describe('production mode', () => {
  it('refuses to start without keys of its own, in one line with exit 2, and writes nothing', () => {
    const dir = fresh();
    const r = spawnSync(process.execPath, [CLI, 'serve', '--port', String(port())], {
      env: { ...process.env, ...BASE, BPFSIGN_DATA_DIR: dir, BPFSIGN_MODE: 'production' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^bpfsign serve: production mode: no log key .*BPFSIGN_ALLOW_DEV_KEYS=true\n$/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses the keys a development start generated', async () => {
    const dir = fresh();
    await stop(await serve(dir));
    const r = spawnSync(process.execPath, [CLI, 'serve', '--port', String(port())], {
      env: { ...process.env, ...BASE, BPFSIGN_DATA_DIR: dir, BPFSIGN_MODE: 'production', BPFSIGN_API_TOKENS: 't'.repeat(20) },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /a generated log key .*the development CA/);
  });

  it('starts on development keys when BPFSIGN_ALLOW_DEV_KEYS=true, and prints no banner', async () => {
    const s = await serve(fresh(), { BPFSIGN_MODE: 'production', BPFSIGN_ALLOW_DEV_KEYS: 'true' });
    await stop(s);
    assert.doesNotMatch(s.stderr(), /DEVELOPMENT MODE/);
    assert.match(s.stdout(), /production mode on development keys/);
  });
});

describe('development mode and logs', () => {
  it('prints one plain banner on stderr and logs JSON lines to a pipe', async () => {
    const s = await serve(fresh());
    await fetch(`${s.url}/healthz`);
    await stop(s);
    assert.equal(s.stderr().match(/DEVELOPMENT MODE/g)?.length, 1);
    assert.match(s.stderr(), /^bpfsign: DEVELOPMENT MODE/);
    assert.doesNotMatch(s.stderr(), /[{}]/, 'plain text, not a JSON log line');
    const lines = s.stdout().trim().split('\n');
    assert.ok(lines.length > 0);
    for (const l of lines) assert.equal(typeof (JSON.parse(l) as { msg: unknown }).msg, 'string');
  });

  it('logs readable lines on a terminal', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0)
      return t.skip('script(1) is not installed: no pseudo-terminal to run the server on');
    const dir = fresh();
    const p = port();
    const cmd = `exec env BPFSIGN_DATA_DIR=${dir} BPFSIGN_VERIFY_WORKERS=0 ${process.execPath} ${CLI} serve --port ${p}`;
    const proc = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    for (let i = 0; i < 300 && !/bpfsign listening/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    assert.match(out, /\d\d:\d\d:\d\d\.\d{3} \x1b\[32mINFO \x1b\[0m bpfsign listening url=http:\/\/127\.0\.0\.1:\d+ store=sqlite/);
    assert.doesNotMatch(out, /"level":/);
  });
});
