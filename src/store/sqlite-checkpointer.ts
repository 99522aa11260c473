/**
 * The SQLite checkpointer thread: its own connection, copying committed WAL frames back into the
 * database file (PRAGMA wal_checkpoint(PASSIVE)) in the background, so that the writer thread's
 * commits never run a checkpoint themselves (the writer's automatic checkpoint is off).
 *
 * Why: a checkpoint writes pages into the database file and fsyncs it, which takes many commits'
 * time. Run by the committing connection (SQLite's default, every 1,000 WAL pages), it stopped the
 * log's commits for that long every few dozen signatures, and the requests waiting meanwhile made
 * the upper part of the signing latency.
 *
 * A passive checkpoint never waits for the writer, so under sustained writes the WAL keeps
 * growing until a quiet moment lets the checkpoint catch up (the writer then starts the WAL
 * afresh). Past `walRestartBytes` this thread raises `restartFlag`, and the writer thread runs a
 * RESTART checkpoint before its next transaction: it copies what was committed since the passive
 * one and syncs, and the next commit starts the WAL afresh. (Run here, the RESTART had to win the
 * write lock from back-to-back commits through SQLite's sleeping busy handler, and often lost.)
 * Under sustained signing without restarts, the WAL reached `walLimitBytes` every few seconds,
 * and the TRUNCATE checkpoint run there, which makes writers wait while it finishes and empties
 * the file, stalled every commit meanwhile. That TRUNCATE
 * stays as the hard bound on the WAL's size on disk, should restarts keep failing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SQLITE_CACHE_KIB } from './sqlite-writes.js';

export interface CheckpointerData {
  path: string;
  /** Past this, `restartFlag` is raised: the writer runs a RESTART checkpoint before its next transaction. */
  walRestartBytes: number;
  /** Shared with the writer thread (one Int32: 1 = restart wanted). */
  restartFlag: Int32Array;
  /** Past this, a TRUNCATE checkpoint, which makes writers wait for as long as it takes. */
  walLimitBytes: number;
}

/** Pause between checkpoints: short while there is work, longer when the last one found none. */
const BUSY_MS = 20,
  IDLE_MS = 250;

if (parentPort) {
  const port = parentPort;
  const { path, walRestartBytes, walLimitBytes, restartFlag } = workerData as CheckpointerData;
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  let timer: NodeJS.Timeout | null = null;
  const run = (): void => {
    let wait = IDLE_MS;
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      if (r.log * pageSize > walLimitBytes) db.pragma('wal_checkpoint(TRUNCATE)');
      else if (r.log * pageSize > walRestartBytes) Atomics.store(restartFlag, 0, 1);
      if (r.log > 0) wait = BUSY_MS;
    } catch {
      wait = BUSY_MS; // another connection's checkpoint, or the database is busy: try again soon
    }
    timer = setTimeout(run, wait);
  };
  port.on('message', (m: { op: 'close' }) => {
    if (m.op !== 'close') return;
    if (timer) clearTimeout(timer);
    db.close();
    port.close();
  });
  run();
}
