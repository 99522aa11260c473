/**
 * `bpfsign serve --workers 2` on the embedded SQLite store: two worker processes share the port
 * and the database file; concurrent signing hands out every log index once, every entry is
 * provable from either worker, and SIGTERM to the primary stops them all.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { CLI, startServer } from './support.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));

describe('a cluster of two workers on SQLite', () => {
  it('signs concurrently with every log index handed out once, and the auditor verifies the log', async () => {
    const srv = await startServer({ BPFSIGN_WORKERS: '2' });
    try {
      const acks = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const r = await fetch(`${srv.url}/v1/loaders?name=obj${i}`, {
            method: 'POST',
            body: obj,
            headers: { 'content-type': 'application/octet-stream' },
          });
          assert.equal(r.status, 201, await r.clone().text());
          return ((await r.json()) as { bundle: { tlog: { logIndex: string } } }).bundle.tlog.logIndex;
        }),
      );
      assert.deepEqual(
        acks.map(Number).sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i),
      );
      const audit = spawnSync(process.execPath, [CLI, 'log', 'verify', '--server', srv.url], { encoding: 'utf8' });
      assert.equal(audit.status, 0, audit.stderr);
      assert.match(audit.stdout, /size 40, checkpoint signature OK; 40 new entries included, loader records of known signers/);
    } finally {
      const exited = new Promise((r) => srv.proc.once('exit', r));
      srv.proc.kill('SIGTERM');
      await exited;
    }
    assert.equal(srv.proc.exitCode, 0);
  });
});
