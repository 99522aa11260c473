/**
 * The SQLite checkpointer thread: its own connection, copying committed WAL frames back into the
 * database file (PRAGMA wal_checkpoint(PASSIVE)) in the background, so that the writer thread's
 * commits never run a checkpoint themselves (the writer's automatic checkpoint is off).
 *
 * Why: a checkpoint writes pages into the database file and fsyncs it, 25–45 ms on this project's
 * disk. Run by the committing connection (SQLite's default, every 1,000 WAL pages), it stopped the
 * log's commits for that long every 60 or so signatures, and the ~30 requests waiting meanwhile
 * made the signing latency's upper third (measured: commits p50 0.9 ms, p99 31 ms; request p90
 * 73 ms against p50 44 ms).
 *
 * A passive checkpoint never waits for the writer, so under sustained writes the WAL keeps
 * growing until a quiet moment lets the checkpoint catch up (the writer then starts the WAL
 * afresh). Past `walLimitBytes` the checkpointer runs a TRUNCATE checkpoint instead, which makes
 * writers wait while it finishes and empties the file: the bound on the WAL's size on disk.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointerData {
  path: string;
  walLimitBytes: number;
}

/** Pause between checkpoints: short while there is work, longer when the last one found none. */
const BUSY_MS = 20, IDLE_MS = 250;

if (parentPort) {
  const port = parentPort;
  const { path, walLimitBytes } = workerData as CheckpointerData;
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  let timer: NodeJS.Timeout | null = null;
  const run = (): void => {
    let wait = IDLE_MS;
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      if (r.log * pageSize > walLimitBytes) db.pragma('wal_checkpoint(TRUNCATE)');
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
