/**
 * The embedded default: one SQLite file (better-sqlite3), WAL mode. Writes to the log, bundles
 * and checkpoints run on a writer thread with its own connection (a commit and its fsync no
 * longer stop the event loop, and appends that arrive meanwhile join the next commit); reads
 * run here. A checkpointer thread copies the WAL back into the file in the background, so commits
 * never wait for a checkpoint (sqlite-checkpointer.ts). `:memory:` databases, and
 * `{ writer: 'inline' }`, write (and checkpoint) on this thread.
 */
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { fromWriteFailure, LOG_SIZE_SQL, openSqlite, SqliteWrites, type WriteFailure } from './sqlite-writes.js';
import type { WriteRequest } from './sqlite-writer.js';
import type { CheckpointerData } from './sqlite-checkpointer.js';
import { bundleFrom, schemaStatements, tokenFrom } from './schema.js';
import { StoreError, type BundleRecord, type KeyRecord, type LogEntry, type LogEntryInput, type Store, type TokenRecord } from './types.js';

type Row = Record<string, unknown>;
/**
 * The writer's and the checkpointer's heaps: what they hold lives for one transaction (rows,
 * whose bytes are outside the heap) or is nothing at all, so a young generation of 4 MB does
 * (V8's default, as large as the main thread's, left each thread tens of MB resident).
 */
const WRITER_LIMITS = { maxYoungGenerationSizeMb: 4 };
const u8 = (b: unknown) => new Uint8Array(b as Buffer);

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  /** Prepared statements by their text: preparing costs more than running the small reads here. */
  readonly #prepared = new Map<string, Database.Statement>();
  readonly #path: string;
  readonly #threaded: boolean;
  #inline: SqliteWrites | null = null;
  #worker: Worker | null = null;
  #checkpointer: Worker | null = null;
  readonly #walLimitBytes: number;
  readonly #walRestartBytes: number;
  #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #nextCall = 0;

  /**
   * `walRestartBytes`: the WAL size past which the checkpointer has the writer start the WAL
   * afresh (default 64 MiB; the usual bound on its size); `walLimitBytes`: past which it makes
   * writers wait for a full checkpoint and empties the file (default 256 MiB; the hard bound).
   */
  constructor(path: string, opts: { writer?: 'thread' | 'inline'; walRestartBytes?: number; walLimitBytes?: number } = {}) {
    this.#path = path;
    this.#walLimitBytes = opts.walLimitBytes ?? 256 << 20;
    this.#walRestartBytes = opts.walRestartBytes ?? 64 << 20;
    this.#threaded = (opts.writer ?? 'thread') === 'thread' && path !== ':memory:' && path !== '';
    try {
      this.#db = openSqlite(path);
    } catch (e) {
      throw new StoreError('STORE_UNAVAILABLE', `sqlite: cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async migrate(): Promise<void> {
    for (const s of schemaStatements('sqlite')) this.#db.exec(s);
  }

  /** Runs a write inline or on the writer thread (started on first use, after migrate). */
  #write<K extends 'appendLog' | 'putBundles' | 'putCheckpoints'>(
    op: K,
    ...args: Parameters<SqliteWrites[K]>
  ): Promise<ReturnType<SqliteWrites[K]>> {
    if (!this.#threaded) {
      this.#inline ??= new SqliteWrites(this.#db);
      try {
        return Promise.resolve((this.#inline[op] as (...a: unknown[]) => ReturnType<SqliteWrites[K]>)(...args));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (!this.#worker) {
      // Set by the checkpointer, read by the writer: a RESTART checkpoint is wanted (sqlite-checkpointer.ts).
      const restartFlag = new Int32Array(new SharedArrayBuffer(4));
      this.#worker = new Worker(new URL('./sqlite-writer.js', import.meta.url), {
        workerData: { path: this.#path, restartFlag },
        resourceLimits: WRITER_LIMITS,
      });
      this.#worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: WriteFailure }) => {
        const call = this.#calls.get(m.id);
        if (!call) return;
        this.#calls.delete(m.id);
        if (this.#calls.size === 0) this.#worker?.unref();
        if (m.ok) call.resolve(m.value);
        else call.reject(fromWriteFailure(m.error!));
      });
      this.#worker.on('error', (e) => this.#failAll(new StoreError('STORE_UNAVAILABLE', `sqlite writer: ${e.message}`, { cause: e })));
      this.#worker.on('exit', () => {
        this.#worker = null;
        this.#failAll(new StoreError('STORE_UNAVAILABLE', 'sqlite writer stopped'));
      });
      // The writer's own checkpoints are off: this thread does them. It never keeps the process alive.
      this.#checkpointer = new Worker(new URL('./sqlite-checkpointer.js', import.meta.url), {
        workerData: {
          path: this.#path,
          walRestartBytes: this.#walRestartBytes,
          walLimitBytes: this.#walLimitBytes,
          restartFlag,
        } satisfies CheckpointerData,
        resourceLimits: WRITER_LIMITS,
      });
      this.#checkpointer.unref();
      // Should it stop other than by close(), the writer's commits take the checkpoints over again.
      const onStop = () => {
        if (this.#checkpointer) {
          this.#checkpointer = null;
          this.#worker?.postMessage({ op: 'autocheckpoint' });
        }
      };
      this.#checkpointer.on('error', onStop);
      this.#checkpointer.on('exit', onStop);
    }
    const id = this.#nextCall++;
    // The thread keeps the process alive only while a write is in flight.
    if (this.#calls.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker!.postMessage({ id, op, args } as WriteRequest);
    });
  }

  #failAll(e: Error): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const c of calls) c.reject(e);
  }

  #sql(text: string): Database.Statement {
    let st = this.#prepared.get(text);
    if (st === undefined) this.#prepared.set(text, (st = this.#db.prepare(text)));
    return st;
  }

  appendLog(entries: LogEntryInput[], at: string): Promise<{ first: bigint; size: bigint }> {
    return this.#write('appendLog', entries, at);
  }

  async logSize(): Promise<bigint> {
    return (this.#sql(LOG_SIZE_SQL).get() as { n: bigint }).n;
  }

  async leafHashes(from: bigint, to: bigint): Promise<Uint8Array[]> {
    const rows = this.#sql('SELECT leaf_hash FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx').all(from, to) as Row[];
    if (BigInt(rows.length) !== to - from) throw new StoreError('STORE_CORRUPT', `log: ${rows.length} leaves in [${from}, ${to})`);
    return rows.map((r) => u8(r.leaf_hash));
  }

  async logEntry(index: bigint): Promise<LogEntry | null> {
    return (await this.logEntries(index, index + 1n))[0] ?? null;
  }

  async logEntries(from: bigint, to: bigint): Promise<LogEntry[]> {
    const rows = this.#sql('SELECT * FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx').all(from, to) as Row[];
    return rows.map((r) => ({
      index: BigInt(r.idx as bigint),
      leafHash: u8(r.leaf_hash),
      kind: r.kind as string,
      ref: r.ref as string,
      body: u8(r.body),
      createdAt: r.created_at as string,
    }));
  }

  /**
   * Checkpoints are written together: while one write of them is in flight, the ones that arrive
   * wait and go in the next, as one transaction (the log signs one per commit, and with fsync'd
   * commits a write each doubled the fsyncs of signing).
   */
  putCheckpoint(size: bigint, note: string, at: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#checkpointQueue.push({ c: { size, note, at }, resolve, reject });
      if (!this.#checkpointFlushing) this.#flushCheckpoints();
    });
  }

  #checkpointQueue: { c: { size: bigint; note: string; at: string }; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #checkpointFlushing = false;

  #flushCheckpoints(): void {
    const batch = this.#checkpointQueue.splice(0);
    if (batch.length === 0) {
      this.#checkpointFlushing = false;
      return;
    }
    this.#checkpointFlushing = true;
    this.#write(
      'putCheckpoints',
      batch.map((q) => q.c),
    )
      .then(
        () => {
          for (const q of batch) q.resolve();
        },
        (e) => {
          for (const q of batch) q.reject(e);
        },
      )
      .finally(() => this.#flushCheckpoints());
  }

  async latestCheckpoint(): Promise<{ size: bigint; note: string } | null> {
    const r = this.#sql('SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1').get() as Row | undefined;
    return r ? { size: BigInt(r.size as bigint), note: r.note as string } : null;
  }

  async checkpointAt(size: bigint): Promise<{ size: bigint; note: string } | null> {
    const r = this.#sql('SELECT size, note FROM checkpoints WHERE size = ?').get(size) as Row | undefined;
    return r ? { size: BigInt(r.size as bigint), note: r.note as string } : null;
  }

  /**
   * Bundles arriving in the same turn of the event loop are written in one transaction (one
   * fsync instead of one each); each caller still learns its own outcome, after the commit.
   */
  putBundle(b: BundleRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#bundleQueue.push({ b, resolve, reject });
      if (this.#bundleQueue.length === 1) setImmediate(() => this.#flushBundles());
    });
  }

  #bundleQueue: { b: BundleRecord; resolve: () => void; reject: (e: unknown) => void }[] = [];

  #flushBundles(): void {
    const batch = this.#bundleQueue.splice(0);
    this.#write(
      'putBundles',
      batch.map((q) => q.b),
    ).then(
      (outcome) => batch.forEach((q, i) => (outcome[i] === null ? q.resolve() : q.reject(fromWriteFailure(outcome[i]!)))),
      (e) => {
        for (const q of batch) q.reject(e);
      },
    );
  }

  async getBundle(id: string): Promise<BundleRecord | null> {
    const r = this.#sql('SELECT * FROM bundles WHERE id = ?').get(id) as Row | undefined;
    return r ? bundleFrom(r) : null;
  }

  async getBlob(sha256: string): Promise<Uint8Array | null> {
    const r = this.#sql('SELECT bytes FROM blobs WHERE sha256 = ?').get(sha256) as Row | undefined;
    return r ? u8(r.bytes) : null;
  }

  async listBundles(opts: { limit: number; after?: string }): Promise<BundleRecord[]> {
    const rows = this.#sql('SELECT * FROM bundles WHERE id > ? ORDER BY id LIMIT ?').all(opts.after ?? '', opts.limit) as Row[];
    return rows.map(bundleFrom);
  }

  async bundlesByDigest(sha256: string, limit: number): Promise<BundleRecord[]> {
    const rows = this.#sql(
      'SELECT * FROM bundles WHERE object_sha256 = ? OR insns_sha256 = ? OR id IN (SELECT bundle_id FROM bundle_manifests WHERE manifest_sha256 = ?) ORDER BY created_at, id LIMIT ?',
    ).all(sha256, sha256, sha256, limit) as Row[];
    return rows.map(bundleFrom);
  }

  async putKey(k: KeyRecord): Promise<void> {
    this.#sql('INSERT INTO signing_keys (id, created_at, kind, certificate_pem, key_ref, active) VALUES (?, ?, ?, ?, ?, ?)').run(
      k.id,
      k.createdAt,
      k.kind,
      k.certificatePem,
      k.keyRef,
      k.active ? 1 : 0,
    );
  }

  async listKeys(): Promise<KeyRecord[]> {
    return (this.#sql('SELECT * FROM signing_keys ORDER BY created_at, id').all() as Row[]).map((r) => ({
      id: r.id as string,
      createdAt: r.created_at as string,
      kind: r.kind as string,
      certificatePem: r.certificate_pem as string,
      keyRef: r.key_ref as string,
      active: Number(r.active) === 1,
    }));
  }

  async setActiveKey(id: string): Promise<void> {
    const tx = this.#db.transaction(() => {
      const n = this.#sql('UPDATE signing_keys SET active = (id = ?)').run(id);
      if (!this.#sql('SELECT 1 FROM signing_keys WHERE id = ?').get(id)) throw new StoreError('STORE_NOT_FOUND', `no key ${id}`);
      return n;
    });
    tx.immediate();
  }

  async putToken(t: TokenRecord): Promise<void> {
    this.#sql('INSERT INTO api_tokens (id, name, token_sha256, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      t.id,
      t.name,
      t.tokenSha256,
      t.scopes.join(' '),
      t.createdAt,
      t.revokedAt,
    );
  }

  async activeToken(tokenSha256: string): Promise<TokenRecord | null> {
    const r = this.#sql('SELECT * FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL').get(tokenSha256) as Row | undefined;
    return r ? tokenFrom(r) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.#sql('SELECT * FROM api_tokens ORDER BY created_at, id').all() as Row[]).map(tokenFrom);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    return this.#sql('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0;
  }

  async close(): Promise<void> {
    const c = this.#checkpointer;
    if (c) {
      this.#checkpointer = null;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.ref();
        c.postMessage({ op: 'close' });
      });
    }
    const w = this.#worker;
    if (w) {
      this.#worker = null;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.ref();
        w.postMessage({ op: 'close' });
      });
    }
    this.#db.close();
  }
}
