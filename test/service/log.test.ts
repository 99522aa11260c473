/**
 * The log service on real stores: concurrent appends are group-committed (many entries, few
 * transactions), every acknowledged entry has its own index and an inclusion proof that
 * verifies against a signed checkpoint, and two log services on one PostgreSQL (two replicas)
 * follow each other's entries.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { TransparencyLog } from '../../src/service/log.js';
import { PostgresStore, SqliteStore, type Store } from '../../src/store/index.js';
import {
  ed25519Signer,
  ed25519VerifierKey,
  hashLeaf,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  verifyTlogProof,
} from '../../src/signing/tlog/index.js';

const PG_URL = process.env.BPFSIGN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const ORIGIN = 'bpfsign.test/log';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signer = ed25519Signer(ORIGIN, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
const verifier = parseVerifierKey(
  ed25519VerifierKey(ORIGIN, new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(12)),
);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const body = (tag: string, i: number) => new TextEncoder().encode(`{"entry":"${tag}-${i}"}`);

async function pgStores(n: number): Promise<{ stores: Store[]; cleanup: () => Promise<void> } | string> {
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (e) {
    return `PostgreSQL not reachable at ${PG_URL}: ${(e as Error).message}`;
  }
  const schema = `bpfsign_log_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const stores = Array.from({ length: n }, () => new PostgresStore(PG_URL, { schema }));
  await stores[0].migrate();
  return {
    stores,
    cleanup: async () => {
      for (const s of stores) await s.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

async function checkBurst(log: TransparencyLog, tag: string, count: number): Promise<bigint[]> {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => log.append('loader', `${tag}-${i}`, body(tag, i))));
  for (const [i, r] of results.entries()) {
    const p = await log.inclusion(r.index);
    const cp = parseCheckpoint(openNote(p.checkpoint, [verifier]).text);
    verifyInclusion(r.index, cp.size, hashLeaf(body(tag, i)), p.hashes.map(b64), cp.root);
    verifyTlogProof(await log.proofFile(r.index), body(tag, i), [verifier], ORIGIN);
  }
  return results.map((r) => r.index);
}

function suite(name: string, make: () => Promise<{ stores: Store[]; cleanup: () => Promise<void> } | string>): void {
  describe(name, () => {
    it('group-commits a burst of 300 concurrent appends: distinct consecutive indices, fewer transactions than entries, every one provable', async (t) => {
      const ctx = await make();
      if (typeof ctx === 'string') return t.skip(ctx);
      after(ctx.cleanup);
      const log = new TransparencyLog(ctx.stores[0], signer, ORIGIN, () => new Date());
      const indices = await checkBurst(log, 'burst', 300);
      assert.deepEqual(
        [...indices].sort((a, b) => (a < b ? -1 : 1)),
        Array.from({ length: 300 }, (_, i) => BigInt(i)),
      );
      t.diagnostic(`${log.stats.entries} entries in ${log.stats.commits} transactions`);
      assert.equal(log.stats.entries, 300);
      assert.ok(log.stats.commits < 300, `${log.stats.commits} transactions for 300 entries`);
      assert.equal(log.stats.leafReads, 0, 'a lone replica proves its entries from the tree it extends at each commit');
      // A second burst extends the tree consistently.
      const cp1 = parseCheckpoint(openNote((await log.checkpoint()).note, [verifier]).text);
      await checkBurst(log, 'more', 50);
      const cp2 = parseCheckpoint(openNote((await log.checkpoint()).note, [verifier]).text);
      const c = await log.consistency(cp1.size, cp2.size);
      verifyConsistency(cp1.size, cp2.size, cp1.root, cp2.root, c.hashes.map(b64));
    });
  });
}

suite('TransparencyLog on SQLite', async () => {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'bpfsign-log-')), 'log.db'));
  await store.migrate();
  return { stores: [store], cleanup: () => store.close() };
});

suite('TransparencyLog on PostgreSQL', () => pgStores(1));

describe('two log services on one PostgreSQL', () => {
  it("hand out disjoint indices and each proves the other's entries", async (t) => {
    const ctx = await pgStores(2);
    if (typeof ctx === 'string') return t.skip(ctx);
    after(ctx.cleanup);
    const [a, b] = ctx.stores.map((s) => new TransparencyLog(s, signer, ORIGIN, () => new Date()));
    const [ia, ib] = await Promise.all([checkBurst(a, 'a', 120), checkBurst(b, 'b', 120)]);
    const all = [...ia, ...ib].sort((x, y) => (x < y ? -1 : 1));
    t.diagnostic(`leaf reads from the store: a ${a.stats.leafReads}, b ${b.stats.leafReads}`);
    assert.deepEqual(
      all,
      Array.from({ length: 240 }, (_, i) => BigInt(i)),
    );
    for (const i of ib.slice(0, 20)) {
      const p = await a.inclusion(i);
      const e = await ctx.stores[0].logEntry(i);
      const cp = parseCheckpoint(openNote(p.checkpoint, [verifier]).text);
      verifyInclusion(i, cp.size, hashLeaf(e!.body), p.hashes.map(b64), cp.root);
    }
  });
});
