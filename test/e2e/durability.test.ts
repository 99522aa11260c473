/**
 * The log under stress: two server processes on one PostgreSQL signing concurrently (no gaps, no
 * forks, every acknowledged entry provable), and kill -9 in the middle of a burst of signing
 * requests (after a restart no acknowledged entry is missing and the log verifies).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FIXTURES } from '../support/objects.js';
import { CLI, startServer } from './support.js';

const PG = process.env.BPFSIGN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));

async function sign(url: string, i: number): Promise<{ id: string; logIndex: string } | null> {
  try {
    const r = await fetch(`${url}/v1/loaders?name=obj${i}`, {
      method: 'POST',
      body: obj,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (r.status !== 201) return null;
    const j = (await r.json()) as { id: string; bundle: { tlog: { logIndex: string } } };
    return { id: j.id, logIndex: j.bundle.tlog.logIndex };
  } catch {
    return null; // the server died before answering: not acknowledged
  }
}

const auditor = (url: string) => spawnSync(process.execPath, [CLI, 'log', 'verify', '--server', url], { encoding: 'utf8' });

describe('two servers on one PostgreSQL', () => {
  it('hand out every log index exactly once, and every entry is provable', async (t) => {
    const admin = new pg.Client({ connectionString: PG, connectionTimeoutMillis: 2000 });
    try {
      await admin.connect();
    } catch (e) {
      return t.skip(`PostgreSQL not reachable at ${PG}: ${(e as Error).message}`);
    }
    const db = `bpfsign_two_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    await admin.query(`CREATE DATABASE ${db}`);
    const env = { BPFSIGN_DATABASE_URL: PG.replace(/\/[^/]*$/, `/${db}`) };
    const a = await startServer(env);
    // Same data dir: both replicas share the signing and log keys, as replicas behind one name do.
    const b = await startServer(env, a.dataDir);
    after(async () => {
      a.proc.kill();
      b.proc.kill();
      await new Promise((r) => setTimeout(r, 300));
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    });
    const acks = (await Promise.all(Array.from({ length: 30 }, (_, i) => sign(i % 2 ? b.url : a.url, i)))).filter((x) => x !== null);
    assert.equal(acks.length, 30);
    assert.deepEqual(
      acks.map((x) => Number(x!.logIndex)).sort((p, q) => p - q),
      Array.from({ length: 30 }, (_, i) => i),
      'indices 0..29, each once',
    );
    for (const url of [a.url, b.url]) {
      const r = auditor(url);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /size 30, checkpoint signature OK; 30 new entries included, loader records of known signers/);
    }
  });
});

describe('kill -9 during a burst of signing', () => {
  it('loses no acknowledged entry, and the log verifies after a restart', async () => {
    const first = await startServer({});
    const acked: { id: string; logIndex: string }[] = [];
    let killed = false;
    const burst = Array.from({ length: 60 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 15));
      const ack = await sign(first.url, i);
      if (ack) acked.push(ack);
      if (acked.length >= 15 && !killed) {
        killed = true;
        first.proc.kill('SIGKILL');
      }
    });
    await Promise.all(burst);
    assert.ok(killed, 'the server was killed mid-burst');
    assert.ok(acked.length >= 15);
    const again = await startServer({}, first.dataDir);
    after(() => again.proc.kill());
    const r = auditor(again.url);
    assert.equal(r.status, 0, r.stderr);
    const size = Number(/size (\d+)/.exec(r.stdout)![1]);
    assert.ok(size >= acked.length, `log size ${size} < ${acked.length} acknowledged`);
    for (const ack of acked) {
      const bundle = (await (await fetch(`${again.url}/v1/loaders/${ack.id}`)).json()) as { tlog: { logIndex: string } };
      assert.equal(bundle.tlog.logIndex, ack.logIndex, `acknowledged loader ${ack.id} is stored with its log index`);
      const entry = (await (await fetch(`${again.url}/v1/log/entries/${ack.logIndex}`)).json()) as { ref: string };
      assert.equal(entry.ref, ack.id, `log entry ${ack.logIndex} is loader ${ack.id}`);
    }
  });
});
