/**
 * The SQLite writer thread: its own connection to the database file, running the store's writes
 * (SqliteWrites) one message at a time and answering each after its transaction committed.
 * Readers on the main thread see a write once its answer has arrived (WAL: a committed
 * transaction is visible to every later read transaction).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, SqliteWrites, writeFailure } from './sqlite-writes.js';

export type WriteRequest =
  | { id: number; op: 'appendLog'; args: Parameters<SqliteWrites['appendLog']> }
  | { id: number; op: 'putBundles'; args: Parameters<SqliteWrites['putBundles']> }
  | { id: number; op: 'putCheckpoints'; args: Parameters<SqliteWrites['putCheckpoints']> };

if (parentPort) {
  const port = parentPort;
  const { path, restartFlag } = workerData as { path: string; restartFlag: Int32Array };
  const db = openSqlite(path);
  // Waiting for another process's write lock is done here (withRetry), not by SQLite's busy handler.
  db.pragma('busy_timeout = 0');
  // Checkpoints run on the checkpointer thread (sqlite-checkpointer.ts), never inside a commit here.
  db.pragma('wal_autocheckpoint = 0');
  const writes = new SqliteWrites(db);
  port.on('message', (m: WriteRequest | { op: 'close' } | { op: 'autocheckpoint' }) => {
    if (m.op === 'close') {
      db.close();
      port.close();
      return;
    }
    // The checkpointer stopped: commits checkpoint again themselves, as SQLite does by default.
    if (m.op === 'autocheckpoint') {
      db.pragma('wal_autocheckpoint = 1000');
      return;
    }
    // The checkpointer asks for the WAL to start afresh (see sqlite-checkpointer.ts): done here,
    // between two transactions, so no commit of this process competes for the lock meanwhile.
    if (Atomics.exchange(restartFlag, 0, 0) === 1) restartWal(db);
    // The request's bytes go back with the answer (transferred, not copied): held here, they would
    // be freed only by this thread's next collection, which its small heap makes rare, and the
    // thread's malloc arena grew by tens of MB of written rows under a load of signs.
    const spent = buffersOf(m.args);
    try {
      const value = withRetry(() => (writes[m.op] as (...a: unknown[]) => unknown)(...m.args));
      port.postMessage({ id: m.id, ok: true, value }, spent);
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: writeFailure(e) }, spent);
    }
  });
}

/** The distinct ArrayBuffers under a message's plain data (arrays, objects, typed arrays). */
export function buffersOf(value: unknown, into = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) into.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const v of value) buffersOf(v, into);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) buffersOf(v, into);
  }
  return [...into];
}

/** How long a RESTART checkpoint waits for readers (or another process's writer) before it gives up. */
const RESTART_WAIT_MS = 20;

/**
 * A RESTART checkpoint: copies the frames the checkpointer has not (those committed since its
 * last passive checkpoint), syncs the database file, and waits for readers to leave the WAL, so
 * the next commit writes at its start. Busy (a reader on an old snapshot, another process's
 * write): left undone; the checkpointer asks again after its next passive checkpoint.
 */
function restartWal(db: ReturnType<typeof openSqlite>): void {
  db.pragma(`busy_timeout = ${RESTART_WAIT_MS}`);
  try {
    db.pragma('wal_checkpoint(RESTART)');
  } catch {
    // SQLITE_BUSY or the like: the write that follows is what matters
  } finally {
    db.pragma('busy_timeout = 0');
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** How long a write waits for the database's write lock before it fails (as busy_timeout did). */
const LOCK_WAIT_MS = 5000,
  POLL_MS = 0.25;

/**
 * Runs a write, retrying while another process holds SQLite's write lock (several server
 * processes on one file). SQLite's own busy handler sleeps longer and longer between tries, so a
 * process whose commits follow each other back to back (with an fsync each) took the lock again
 * and again while the other slept, and the sleeping worker's requests made the tail. Polling
 * every quarter millisecond catches the lock between two commits. A transaction that got
 * SQLITE_BUSY was rolled back whole (better-sqlite3's transaction wrapper), so running it again
 * is safe.
 */
function withRetry<T>(write: () => T): T {
  const deadline = performance.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return write();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code !== 'SQLITE_BUSY' && !code?.startsWith('SQLITE_BUSY_')) || performance.now() > deadline) throw e;
      Atomics.wait(sleeper, 0, 0, POLL_MS);
    }
  }
}
