/**
 * The auditor over C2SP tiles: `bpfsign log verify` audits a 100,000-entry log (built straight
 * through the store) with one request per 256 entries; killed half way (kill -9) and run again,
 * it resumes and ends with the same state as an audit that ran through; it continues from its
 * state when the log grows; and it catches a log whose entries do not build its signed root.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { buildBigLog, serveBigLog, type BigLog } from '../support/big-log.js';
import { auditLog, AuditError, parseEntryBundle, type AuditStateV2 } from '../../src/service/log-audit.js';
import { TransparencyLog } from '../../src/service/log.js';
import { SqliteStore } from '../../src/store/index.js';
import { ed25519Signer, ed25519VerifierKey, parseVerifierKey } from '../../src/signing/tlog/index.js';

const CLI = join(new URL('.', import.meta.url).pathname, '../../src/cli/main.js');
const N = 100_000;
const enc = new TextEncoder();

describe('entry bundles', () => {
  it('are split into their length-prefixed entries, and a short or overrunning one is refused', () => {
    const bundle = Uint8Array.of(0, 2, 0x61, 0x62, 0, 1, 0x63);
    assert.deepEqual(
      parseEntryBundle(bundle, 2, 0n).map((e) => Buffer.from(e).toString()),
      ['ab', 'c'],
    );
    assert.throws(() => parseEntryBundle(bundle, 3, 0n), { code: 'AUDIT_TILE' });
    assert.throws(() => parseEntryBundle(Uint8Array.of(0, 9, 1), 1, 0n), { code: 'AUDIT_TILE' });
  });
});

describe('the auditor against a log that lies', () => {
  it('catches entries that do not build the signed root, and a root that changed at the same size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-audit-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const vkey = ed25519VerifierKey('o', new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(12));
    const logs = await Promise.all(
      ['a', 'b'].map(async (tag) => {
        const store = new SqliteStore(':memory:');
        await store.migrate();
        const log = new TransparencyLog(store, ed25519Signer('o', pem), 'o', () => new Date());
        // b differs from a at entry 100 only: the same size, another root.
        await Promise.all(
          Array.from({ length: 300 }, (_, i) => log.append('t', `${i}`, enc.encode(i === 100 ? `entry ${i} ${tag}` : `entry ${i}`))),
        );
        return { log, store };
      }),
    );
    after(async () => {
      for (const l of logs) await l.store.close();
    });
    const [a, b] = logs;
    let state: AuditStateV2 | null = null;
    const run = (checkpointFrom: TransparencyLog, tilesFrom: TransparencyLog) =>
      auditLog({
        source: { checkpoint: async () => (await checkpointFrom.checkpoint()).note, entryBundle: (n, w) => tilesFrom.entryBundle(n, w) },
        logKeys: [parseVerifierKey(vkey)],
        state,
        save: (s) => {
          state = s;
        },
        checkEntry: () => 'ok',
      });
    // b's tiles under a's checkpoint: the entries do not build the signed root.
    await assert.rejects(run(a.log, b.log), (e: AuditError) => e.code === 'AUDIT_FORK' && /split view/.test(e.message));
    state = null;
    const r = await run(a.log, a.log);
    assert.equal(r.checkpoint.size, 300n);
    assert.equal(r.requests, 1 + 2);
    // Now b shows its own (validly signed) view of the same size: the root changed.
    await assert.rejects(run(b.log, b.log), (e: AuditError) => e.code === 'AUDIT_FORK' && /different root/.test(e.message));
  });
});

describe('bpfsign log verify over a 100,000-entry log', () => {
  let log: BigLog, srv: Awaited<ReturnType<typeof serveBigLog>>, dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bpfsign-biglog-'));
    log = await buildBigLog(dir, N);
    srv = await serveBigLog(log);
  });
  after(async () => {
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verifyArgs = (state: string) => [CLI, 'log', 'verify', '--server', srv.url, '--state', state, '--log-key', log.logVkey];
  // Spawned asynchronously: the server runs in this process and must keep answering.
  const runCli = (state: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, verifyArgs(state), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '',
        stderr = '';
      c.stdout.on('data', (d) => {
        stdout += d;
      });
      c.stderr.on('data', (d) => {
        stderr += d;
      });
      c.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('audits it from scratch: every entry read, 256 per request, the root matched', async () => {
    const r = await runCli(join(dir, 'through.json'));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // 391 entry bundles (390 full, one of 160) and the checkpoint.
    assert.match(
      r.stdout,
      new RegExp(`size ${N}, checkpoint signature OK; ${N} new entries included and signed; ${N} entries read in 392 requests`),
    );
    const st = JSON.parse(readFileSync(join(dir, 'through.json'), 'utf8')) as AuditStateV2;
    assert.equal(st.size, String(N));
    assert.equal(st.next, String(N));
  });

  it('resumes after a kill -9 half way, and ends with the same state', async () => {
    const state = join(dir, 'killed.json');
    const c = spawn(process.execPath, verifyArgs(state), { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
    let killedAt = -1;
    while (killedAt < 0) {
      await new Promise((r) => setTimeout(r, 5));
      if (c.exitCode !== null) break;
      if (!existsSync(state)) continue;
      let next = 0;
      try {
        next = Number((JSON.parse(readFileSync(state, 'utf8')) as AuditStateV2).next);
      } catch {
        continue;
      }
      if (next >= N / 2) {
        c.kill('SIGKILL');
        killedAt = next;
      }
    }
    await exited;
    assert.ok(killedAt >= N / 2 && killedAt < N, `the audit was killed half way (at entry ${killedAt})`);
    const partial = JSON.parse(readFileSync(state, 'utf8')) as AuditStateV2;
    assert.equal(partial.size, '0', 'no checkpoint was complete when it was killed');
    const r = await runCli(state);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /resumed at entry \d+/);
    const resumed = Number(/resumed at entry (\d+)/.exec(r.stdout)![1]);
    assert.ok(resumed >= N / 2, `resumed at ${resumed}, not from 0`);
    assert.equal(readFileSync(state, 'utf8'), readFileSync(join(dir, 'through.json'), 'utf8'));
  });

  it('continues from its state when the log grows, proving the new checkpoint extends the old', async () => {
    const entry = enc.encode('not a manifest');
    await Promise.all(Array.from({ length: 300 }, (_, i) => srv.tlog.append('test', `more-${i}`, entry)));
    const r = await runCli(join(dir, 'through.json'));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(
      r.stdout,
      new RegExp(
        `size ${N + 300}, checkpoint signature OK, consistent with size ${N}; 300 new entries included \\(0 loader records of known signers, 0 signed manifests, 300 of another shape not checked\\); 300 entries read in 3 requests`,
      ),
    );
  });
});
