/**
 * The SQLite store's writes to the log, bundles and checkpoints, on one connection. Run inline or
 * in the writer thread (sqlite-writer.ts), so that commits (and their fsync) do not stop the
 * event loop that serves requests.
 */
import Database from 'better-sqlite3';
import { StoreError, type BundleRecord, type LogEntryInput } from './types.js';

/** What a failed write reports across the thread boundary: a StoreError with its code, or another error by name. */
export type WriteFailure =
  | { name: 'StoreError'; store: true; code: StoreError['code']; message: string }
  | { name: string; store: false; code?: string; message: string };

export function writeFailure(e: unknown): WriteFailure {
  if (e instanceof StoreError) return storeFailure(e.code, e.message);
  const err = e as Error & { code?: string };
  return { name: err.name ?? 'Error', store: false, code: err.code, message: err.message ?? String(e) };
}

function storeFailure(code: StoreError['code'], message: string): WriteFailure {
  return { name: 'StoreError', store: true, code, message };
}

export function fromWriteFailure(f: WriteFailure): Error {
  if (f.store) return new StoreError(f.code, f.message);
  return Object.assign(new Error(f.message), { name: f.name, code: f.code });
}

/** Each connection's page cache, in KiB (SQLite's default; a negative cache_size is in KiB). */
export const SQLITE_CACHE_KIB = 2000;

/** Indices are dense from 0, so the log's size is the last index + 1 (an index lookup, not a scan). */
export const LOG_SIZE_SQL = 'SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM log_entries';

/**
 * A connection as the store uses one: WAL, a busy timeout for the other connection's writes,
 * bigints, and synchronous = FULL — each commit's WAL frames are fsynced before it returns, so
 * an acknowledged log entry survives a power loss, not only a crash of the process (better-sqlite3's
 * default, NORMAL, syncs the WAL only at checkpoints). Its page cache is SQLite's own default
 * (SQLITE_CACHE_KIB) instead of better-sqlite3's 16 MB: the writer's cache filled with the rows
 * it had just written, 16 MB more resident set per connection, and the reads are by key.
 */
export function openSqlite(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  db.pragma('busy_timeout = 5000');
  db.defaultSafeIntegers(true);
  return db;
}

export class SqliteWrites {
  readonly #insLog: Database.Statement;
  readonly #insBundle: Database.Statement;
  readonly #size: Database.Statement;
  readonly #insCheckpoint: Database.Statement;
  readonly #insBlob: Database.Statement;
  readonly #insManifest: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.#insLog = db.prepare('INSERT INTO log_entries (idx, leaf_hash, kind, ref, body, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#insBundle = db.prepare(
      'INSERT INTO bundles (id, created_at, object_sha256, insns_sha256, scheme, signer, log_index, bundle) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#size = db.prepare(LOG_SIZE_SQL);
    this.#insCheckpoint = db.prepare('INSERT OR IGNORE INTO checkpoints (size, note, created_at) VALUES (?, ?, ?)');
    this.#insBlob = db.prepare('INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?, ?)');
    this.#insManifest = db.prepare('INSERT INTO bundle_manifests (bundle_id, manifest_sha256) VALUES (?, ?)');
  }

  /** Appends the entries (and the bundles stored with them) in one write transaction. */
  appendLog(entries: LogEntryInput[], at: string): { first: bigint; size: bigint } {
    return this.db
      .transaction(() => {
        const size = (this.#size.get() as { n: bigint }).n;
        entries.forEach((e, i) => this.#insLog.run(size + BigInt(i), Buffer.from(e.leafHash), e.kind, e.ref, Buffer.from(e.body), at));
        entries.forEach((e, i) => {
          if (e.bundle) this.#insertBundle({ ...e.bundle, logIndex: size + BigInt(i) });
        });
        return { first: size, size: size + BigInt(entries.length) };
      })
      .immediate();
  }

  #insertBundle(b: BundleRecord): void {
    this.#insBundle.run(b.id, b.createdAt, b.objectSha256, b.insnsSha256, b.scheme, b.signer, b.logIndex, b.bundle);
    for (const x of b.blobs ?? []) this.#insBlob.run(x.sha256, Buffer.from(x.bytes));
    if (b.manifestSha256 !== undefined) this.#insManifest.run(b.id, b.manifestSha256);
  }

  /**
   * Bundles in one transaction; each outcome on its own (a failed INSERT is rolled back alone,
   * SQLite's ABORT, and the others commit). null = stored.
   */
  putBundles(batch: BundleRecord[]): (WriteFailure | null)[] {
    const outcome: (WriteFailure | null)[] = [];
    this.db
      .transaction(() => {
        for (const b of batch) {
          try {
            this.#insertBundle(b);
            outcome.push(null);
          } catch (e) {
            outcome.push(
              (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
                ? storeFailure('STORE_CONFLICT', `bundle ${b.id} exists`)
                : writeFailure(e),
            );
          }
        }
      })
      .immediate();
    return outcome;
  }

  /** Checkpoints in one transaction (INSERT OR IGNORE: a replica may have stored the same note). */
  putCheckpoints(list: { size: bigint; note: string; at: string }[]): void {
    this.db
      .transaction(() => {
        for (const c of list) this.#insCheckpoint.run(c.size, c.note, c.at);
      })
      .immediate();
  }
}
