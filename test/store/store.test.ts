/**
 * Both stores, real databases: a SQLite file and the PostgreSQL server on 127.0.0.1:5432
 * (database `test`, a fresh schema per run). Log appends from concurrent writers never
 * share or skip an index.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore, SqliteStore, type Store } from '../../src/store/index.js';
import { openSqlite, SQLITE_CACHE_KIB } from '../../src/store/sqlite-writes.js';
import { buffersOf } from '../../src/store/sqlite-writer.js';

const PG_URL = process.env.BPFSIGN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pgAvailable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return null;
  } catch (e) {
    return `PostgreSQL not reachable at ${PG_URL}: ${(e as Error).message}`;
  }
}

const leaf = (i: number) => new Uint8Array(32).fill(i & 0xff);

function suite(name: string, make: () => Promise<{ store: Store; second: () => Store; cleanup: () => Promise<void> } | string>): void {
  describe(name, () => {
    let ctx: { store: Store; second: () => Store; cleanup: () => Promise<void> } | string;
    before(async () => {
      ctx = await make();
    });
    after(async () => {
      if (typeof ctx !== 'string') await ctx.cleanup();
    });

    it('appends log entries at consecutive indices and reads them back', async (t) => {
      if (typeof ctx === 'string') return t.skip(ctx);
      const { first, size } = await ctx.store.appendLog(
        [0, 1, 2].map((i) => ({ leafHash: leaf(i), kind: 'bundle', ref: `b${i}`, body: new Uint8Array([i]) })),
        '2026-11-25T00:00:00Z',
      );
      assert.equal(first, 0n);
      assert.equal(size, 3n);
      assert.equal(await ctx.store.logSize(), 3n);
      assert.deepEqual(
        (await ctx.store.leafHashes(1n, 3n)).map((h) => h[0]),
        [1, 2],
      );
      const e = await ctx.store.logEntry(2n);
      assert.equal(e?.ref, 'b2');
      assert.deepEqual([...e!.body], [2]);
      assert.equal(await ctx.store.logEntry(99n), null);
      assert.deepEqual(
        (await ctx.store.logEntries(1n, 99n)).map((x) => x.ref),
        ['b1', 'b2'],
        'a range read stops at the end of the log',
      );
    });

    it('serializes concurrent appends from two connections: no index is shared or skipped', async (t) => {
      if (typeof ctx === 'string') return t.skip(ctx);
      const other = ctx.second();
      await other.migrate();
      const before = await ctx.store.logSize();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? other : (ctx as { store: Store }).store).appendLog(
            [{ leafHash: leaf(i), kind: 'bundle', ref: `c${i}`, body: new Uint8Array() }],
            '2026-11-25T00:00:01Z',
          ),
        ),
      );
      const firsts = results.map((r) => r.first).sort((a, b) => (a < b ? -1 : 1));
      assert.deepEqual(
        firsts,
        Array.from({ length: 40 }, (_, i) => before + BigInt(i)),
      );
      assert.equal(await ctx.store.logSize(), before + 40n);
      await other.close();
    });

    it("stores a bundle with its log entry in one transaction: both, at the entry's index, or neither", async (t) => {
      if (typeof ctx === 'string') return t.skip(ctx);
      const s = ctx.store;
      const blob = { sha256: 'f'.repeat(64), bytes: new Uint8Array([9, 8, 7]) };
      const bundle = (id: string) => ({
        id,
        createdAt: '2026-11-25T00:00:10Z',
        objectSha256: 'o'.repeat(64),
        insnsSha256: 'i'.repeat(64),
        scheme: 'linux-6.18',
        signer: 'k1',
        bundle: `{"id":"${id}"}`,
        blobs: [blob],
      });
      const before = await s.logSize();
      const { first } = await s.appendLog(
        [
          { leafHash: leaf(200), kind: 'loader', ref: 'tx-a', body: new Uint8Array([1]), bundle: bundle('tx-a') },
          { leafHash: leaf(201), kind: 'loader', ref: 'plain', body: new Uint8Array([2]) },
          { leafHash: leaf(202), kind: 'loader', ref: 'tx-b', body: new Uint8Array([3]), bundle: bundle('tx-b') },
        ],
        '2026-11-25T00:00:10Z',
      );
      assert.equal(first, before);
      assert.equal((await s.getBundle('tx-a'))?.logIndex, before);
      assert.equal((await s.getBundle('tx-b'))?.logIndex, before + 2n);
      assert.equal((await s.getBundle('tx-b'))?.bundle, '{"id":"tx-b"}');
      assert.deepEqual([...(await s.getBlob(blob.sha256))!], [9, 8, 7], 'a blob two bundles refer to is stored once and read back');
      assert.equal(await s.getBlob('0'.repeat(64)), null);
      await s.putBundle({ ...bundle('tx-d'), logIndex: null, blobs: [blob, { sha256: 'e'.repeat(64), bytes: new Uint8Array([1]) }] });
      assert.deepEqual([...(await s.getBlob('e'.repeat(64)))!], [1]);
      await assert.rejects(s.putBundle({ ...bundle('tx-d'), logIndex: null }), (e: any) => e.code === 'STORE_CONFLICT');
      // A bundle id that exists already: the whole append rolls back, the log does not grow.
      await assert.rejects(
        s.appendLog(
          [
            { leafHash: leaf(203), kind: 'loader', ref: 'tx-c', body: new Uint8Array([4]), bundle: bundle('tx-c') },
            { leafHash: leaf(204), kind: 'loader', ref: 'tx-a', body: new Uint8Array([5]), bundle: bundle('tx-a') },
          ],
          '2026-11-25T00:00:11Z',
        ),
      );
      assert.equal(await s.logSize(), before + 3n);
      assert.equal(await s.getBundle('tx-c'), null);
    });

    it('stores checkpoints, bundles and keys', async (t) => {
      if (typeof ctx === 'string') return t.skip(ctx);
      const s = ctx.store;
      await s.putCheckpoint(3n, 'note-3', '2026-11-25T00:00:02Z');
      await s.putCheckpoint(5n, 'note-5', '2026-11-25T00:00:03Z');
      assert.deepEqual(await s.latestCheckpoint(), { size: 5n, note: 'note-5' });
      assert.deepEqual(await s.checkpointAt(3n), { size: 3n, note: 'note-3' });
      const b = {
        id: 'bnd-1',
        createdAt: '2026-11-25T00:00:04Z',
        objectSha256: 'aa',
        insnsSha256: 'bb',
        scheme: 'linux-6.18',
        signer: 'CN=x',
        logIndex: 7n,
        bundle: '{}',
      };
      await s.putBundle(b);
      assert.deepEqual(await s.getBundle('bnd-1'), b);
      await assert.rejects(s.putBundle(b), (e: any) => e.code === 'STORE_CONFLICT');
      assert.deepEqual((await s.listBundles({ limit: 10 })).map((x) => x.id).sort(), ['bnd-1', 'tx-a', 'tx-b', 'tx-d']);
      await s.putKey({
        id: 'k1',
        createdAt: '2026-11-25T00:00:05Z',
        kind: 'development',
        certificatePem: 'PEM1',
        keyRef: 'file:k1',
        active: true,
      });
      await s.putKey({
        id: 'k2',
        createdAt: '2026-11-25T00:00:06Z',
        kind: 'development',
        certificatePem: 'PEM2',
        keyRef: 'file:k2',
        active: false,
      });
      await s.setActiveKey('k2');
      assert.deepEqual(
        (await s.listKeys()).map((k) => [k.id, k.active]),
        [
          ['k1', false],
          ['k2', true],
        ],
      );
      await assert.rejects(s.setActiveKey('nope'), (e: any) => e.code === 'STORE_NOT_FOUND');
      await s.putToken({
        id: 't1',
        name: 'ci',
        tokenSha256: 'ab'.repeat(32),
        scopes: ['verify', 'audit'],
        createdAt: '2026-11-25T00:00:07Z',
        revokedAt: null,
      });
      assert.deepEqual((await s.activeToken('ab'.repeat(32)))?.scopes, ['verify', 'audit']);
      assert.equal(await s.revokeToken('t1', '2026-11-25T00:00:08Z'), true);
      assert.equal(await s.revokeToken('t1', '2026-11-25T00:00:09Z'), false, 'already revoked');
      assert.equal(await s.activeToken('ab'.repeat(32)), null);
      assert.equal((await s.listTokens())[0].revokedAt, '2026-11-25T00:00:08Z');
    });

    // Last: the checkpoints it stores outrank every earlier test's.
    it('reads entries and the latest checkpoint in numeric order past one decimal digit', async (t) => {
      if (typeof ctx === 'string') return t.skip(ctx);
      const start = await ctx.store.logSize();
      await ctx.store.appendLog(
        Array.from({ length: 12 }, (_, i) => ({ leafHash: leaf(i), kind: 'bundle', ref: `n${i}`, body: new Uint8Array([i]) })),
        '2026-11-25T00:00:00Z',
      );
      const got = await ctx.store.logEntries(start, start + 12n);
      assert.deepEqual(
        got.map((e) => e.index),
        Array.from({ length: 12 }, (_, i) => start + BigInt(i)),
        'by index, not as text (2 after 10)',
      );
      for (const size of [9n, 12n, 10n]) await ctx.store.putCheckpoint(start + size, `note ${size}`, '2026-11-25T00:00:00Z');
      assert.equal((await ctx.store.latestCheckpoint())?.size, start + 12n);
    });
  });
}

suite('SqliteStore', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'bpfsign-store-')), 'bpfsign.db');
  const store = new SqliteStore(path);
  await store.migrate();
  return { store, second: () => new SqliteStore(path), cleanup: () => store.close() };
});

suite('PostgresStore', async () => {
  const why = await pgAvailable();
  if (why) return why;
  const schema = `bpfsign_test_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const store = new PostgresStore(PG_URL, { schema });
  await store.migrate();
  return {
    store,
    second: () => new PostgresStore(PG_URL, { schema }),
    cleanup: async () => {
      await store.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
});

describe('SqliteStore connections', () => {
  it("keep SQLite's own page cache (2 MB), not better-sqlite3's 16 MB", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-cache-'));
    const db = openSqlite(join(dir, 'db.sqlite'));
    try {
      assert.equal(SQLITE_CACHE_KIB, 2000);
      assert.equal(Number(db.pragma('cache_size', { simple: true })), -SQLITE_CACHE_KIB);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hand each write request back with its buffers: every distinct one under its plain data, once', () => {
    const shared = new Uint8Array(8);
    const a = new Uint8Array(4),
      b = new Uint16Array(2);
    const found = buffersOf([
      [{ leafHash: a, body: shared.subarray(0, 4), bundle: { blobs: [{ sha256: 'x', bytes: shared.subarray(4) }] } }],
      { list: [b, 'text', 7n, null] },
    ]);
    assert.equal(found.length, 3);
    assert.ok(found.includes(a.buffer) && found.includes(shared.buffer) && found.includes(b.buffer as ArrayBuffer));
    assert.deepEqual(buffersOf(['no bytes', { n: 1 }]), []);
  });
});

describe('SqliteStore checkpoints', () => {
  const big = (i: number) => ({ leafHash: leaf(i), kind: 'bundle', ref: `c${i}`, body: new Uint8Array(20_000).fill(i & 0xff) });
  const until = async (what: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!what()) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };

  /** A store in a new directory, migrated, closed and removed after `body`. */
  const inNewStore = async (
    opts: ConstructorParameters<typeof SqliteStore>[1],
    body: (store: SqliteStore, path: string) => Promise<void>,
  ) => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-ckpt-'));
    const path = join(dir, 'bpfsign.db');
    const store = new SqliteStore(path, opts);
    try {
      await store.migrate();
      await body(store, path);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("copy the WAL back into the database file in the background (the writer's commits leave them to the checkpointer thread)", () =>
    inNewStore({}, async (store, path) => {
      // ~2 MB per append: past SQLite's own automatic checkpoint size (1,000 pages) several times over.
      for (let b = 0; b < 6; b++)
        await store.appendLog(
          Array.from({ length: 100 }, (_, i) => big(b * 100 + i)),
          '2026-11-26T00:00:00Z',
        );
      assert.equal(await store.logSize(), 600n);
      assert.ok(
        await until(() => statSync(path).size > 12_000_000, 20_000),
        `the entries reach the database file itself (now ${statSync(path).size} bytes)`,
      );
      assert.deepEqual([...(await store.logEntry(599n))!.body.subarray(0, 2)], [599 & 0xff, 599 & 0xff]);
    }));

  // The writer and the checkpointer threads on their own, with a restart flag the test holds, so
  // that what each does with it is seen step by step, whatever the disk's speed. (Driven through
  // the store under back-to-back writes, how far the WAL grew between restarts depended on how
  // long each passive checkpoint took: 15–137 MB of 200 on this machine.)
  const threadUrl = (name: string) => new URL(`../../src/store/${name}.js`, import.meta.url);
  /** The WAL header's checkpoint sequence number, which SQLite increments each time the WAL starts afresh. */
  const walSequence = (path: string): number => {
    const b = Buffer.alloc(16);
    const fd = openSync(`${path}-wal`, 'r');
    try {
      readSync(fd, b, 0, 16, 0);
    } finally {
      closeSync(fd);
    }
    return b.readUInt32BE(12);
  };
  const writerThread = (path: string, restartFlag: Int32Array) => {
    const w = new Worker(threadUrl('sqlite-writer'), { workerData: { path, restartFlag } });
    let next = 0;
    return {
      append: (from: number) =>
        new Promise<void>((resolve, reject) => {
          const id = next++;
          const on = (m: { id: number; ok: boolean; error?: { message: string } }) => {
            if (m.id !== id) return;
            w.off('message', on);
            if (m.ok) resolve();
            else reject(new Error(m.error!.message));
          };
          w.on('message', on);
          w.postMessage({ id, op: 'appendLog', args: [Array.from({ length: 100 }, (_, i) => big(from + i)), '2026-11-26T00:00:00Z'] });
        }),
      close: async () => {
        w.postMessage({ op: 'close' });
        await once(w, 'exit');
      },
    };
  };

  it('have the writer start the WAL afresh before its next transaction once the restart flag is raised, and not before', () =>
    inNewStore({}, async (store, path) => {
      const restartFlag = new Int32Array(new SharedArrayBuffer(4));
      const writer = writerThread(path, restartFlag);
      try {
        await writer.append(0); // ~2 MB
        const seq = walSequence(path),
          size = statSync(`${path}-wal`).size;
        await writer.append(100);
        assert.equal(walSequence(path), seq, 'without the flag the WAL goes on');
        const grown = statSync(`${path}-wal`).size;
        assert.ok(grown > size, `and grows (${size} → ${grown} bytes)`);
        Atomics.store(restartFlag, 0, 1);
        await writer.append(200);
        assert.equal(Atomics.load(restartFlag, 0), 0, 'the writer took the flag');
        assert.equal(walSequence(path), seq + 1, 'and the WAL started afresh');
        assert.equal(statSync(`${path}-wal`).size, grown, "the append was written over the WAL's start, not after its end");
        assert.equal(await store.logSize(), 300n);
      } finally {
        await writer.close();
      }
    }));

  it('have the checkpointer raise the restart flag when the WAL it checkpointed is past the restart bound, and not below it', () =>
    inNewStore({}, async (_store, path) => {
      const writer = writerThread(path, new Int32Array(new SharedArrayBuffer(4)));
      await writer.append(0); // ~2 MB of WAL, which nothing starts afresh
      await writer.close();
      const checkpointer = async (walRestartBytes: number, body: (flag: Int32Array) => Promise<void>) => {
        const restartFlag = new Int32Array(new SharedArrayBuffer(4));
        const c = new Worker(threadUrl('sqlite-checkpointer'), {
          workerData: { path, walRestartBytes, walLimitBytes: 1 << 30, restartFlag },
        });
        try {
          await body(restartFlag);
        } finally {
          c.postMessage({ op: 'close' });
          await once(c, 'exit');
        }
      };
      await checkpointer(1 << 29, async (flag) => {
        assert.ok(
          await until(() => statSync(path).size > 2_000_000, 20_000),
          `a passive checkpoint copies the WAL into the database file (now ${statSync(path).size} bytes)`,
        );
        assert.equal(Atomics.load(flag, 0), 0, 'a WAL below the bound raises nothing');
      });
      await checkpointer(1 << 20, async (flag) => {
        assert.ok(await until(() => Atomics.load(flag, 0) === 1, 20_000), 'a WAL past the bound raises the flag');
      });
    }));

  it('empty the WAL once it passes its bound, so the file on disk stays bounded under sustained writes', () =>
    inNewStore({ walLimitBytes: 1 << 20 }, async (store, path) => {
      let max = 0;
      // Each append (~2 MB) alone passes the 1 MiB bound, so whatever the checkpointer did during
      // the loop, the WAL it finds after the last one is past the bound and gets emptied.
      for (let b = 0; b < 10; b++) {
        await store.appendLog(
          Array.from({ length: 100 }, (_, i) => big(b * 100 + i)),
          '2026-11-26T00:00:00Z',
        );
        max = Math.max(max, statSync(`${path}-wal`).size);
      }
      assert.ok(
        await until(() => statSync(`${path}-wal`).size === 0, 20_000),
        `a TRUNCATE checkpoint empties the WAL file (now ${statSync(`${path}-wal`).size} bytes)`,
      );
      assert.ok(max < 64 << 20, `the WAL stayed bounded (largest seen: ${max} bytes)`);
      assert.equal(await store.logSize(), 1000n);
    }));
});
