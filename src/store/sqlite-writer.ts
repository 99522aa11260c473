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
  | { id: number; op: 'putCheckpoint'; args: Parameters<SqliteWrites['putCheckpoint']> };

if (parentPort) {
  const port = parentPort;
  const db = openSqlite((workerData as { path: string }).path);
  // Checkpoints run on the checkpointer thread (sqlite-checkpointer.ts), never inside a commit here.
  db.pragma('wal_autocheckpoint = 0');
  const writes = new SqliteWrites(db);
  port.on('message', (m: WriteRequest | { op: 'close' } | { op: 'autocheckpoint' }) => {
    if (m.op === 'close') { db.close(); port.close(); return; }
    // The checkpointer stopped: commits checkpoint again themselves, as SQLite does by default.
    if (m.op === 'autocheckpoint') { db.pragma('wal_autocheckpoint = 1000'); return; }
    try {
      const value = (writes[m.op] as (...a: unknown[]) => unknown)(...m.args);
      port.postMessage({ id: m.id, ok: true, value });
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: writeFailure(e) });
    }
  });
}
