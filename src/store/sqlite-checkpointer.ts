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
 * afresh). Past `walRestartBytes` a RESTART checkpoint follows the passive one: it makes the
 * writer wait while it copies what was committed meanwhile and syncs, and the next commit starts
 * the WAL afresh. Signing at ~2,000/s (~40 MB/s of log entries) without it, the WAL reached
 * `walLimitBytes` every few seconds, and the TRUNCATE checkpoint run there, which makes writers
 * wait while it finishes and empties the file, stalled every commit for ~150 ms. That TRUNCATE
 * stays as the hard bound on the WAL's size on disk, should restarts keep failing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointerData {
  path: string;
  /** Past this, a RESTART checkpoint after the passive one: the writer starts the WAL afresh. */
  walRestartBytes: number;
  /** Past this, a TRUNCATE checkpoint, which makes writers wait for as long as it takes. */
  walLimitBytes: number;
}

/** Pause between checkpoints: short while there is work, longer when the last one found none. */
const BUSY_MS = 20, IDLE_MS = 250;
/** How long a RESTART checkpoint waits for the writer's transaction or old readers before it gives up. */
const RESTART_WAIT_MS = 20;

if (parentPort) {
  const port = parentPort;
  const { path, walRestartBytes, walLimitBytes } = workerData as CheckpointerData;
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  let timer: NodeJS.Timeout | null = null;
  // Right after a passive checkpoint only the frames committed meanwhile are left to copy, so the
  // writers wait for little more than one fsync of the database file. Busy (a reader on an old
  // snapshot, a writer that would not yield soon): left for the next round.
  const restart = (): void => {
    db.pragma(`busy_timeout = ${RESTART_WAIT_MS}`);
    try {
      db.pragma('wal_checkpoint(RESTART)');
    } finally {
      db.pragma('busy_timeout = 5000');
    }
  };
  const run = (): void => {
    let wait = IDLE_MS;
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      if (r.log * pageSize > walLimitBytes) db.pragma('wal_checkpoint(TRUNCATE)');
      else if (r.log * pageSize > walRestartBytes) restart();
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
