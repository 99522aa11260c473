const Database = require('better-sqlite3');
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');
if (!isMainThread) {
  const db = new Database(workerData); db.pragma('busy_timeout = 0');
  let stop = false; parentPort.on('message', () => { stop = true; });
  const ts = [];
  const tick = () => { if (stop) { db.close(); parentPort.postMessage(ts); return; } const t = performance.now(); try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) {} ts.push(performance.now() - t); setTimeout(tick, Number(process.env.EVERY ?? 100)); };
  tick();
  return;
}
const fs = require('fs'); const d = fs.mkdtempSync('/tmp/fs-'); const path = d + '/x.db'; const db = new Database(path);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL'); db.pragma('wal_autocheckpoint = ' + (process.env.AC ?? 0));
db.exec('create table t (id integer primary key, b blob)');
const w = process.env.NOCK ? null : new Worker(__filename, { workerData: path });
const ins = db.prepare('insert into t (b) values (?)'); const body = Buffer.alloc(22000, 1);
const tx = db.transaction((n) => { for (let i = 0; i < n; i++) ins.run(body); });
const ts = [];
(async () => {
  for (let i = 0; i < 400; i++) { const t = performance.now(); tx(20); ts.push(performance.now() - t); await new Promise((r) => setImmediate(r)); }
  ts.sort((a, b) => a - b);
  console.log('commit of 20 rows: p50', ts[200].toFixed(2), 'p90', ts[360].toFixed(2), 'p99', ts[396].toFixed(2), 'max', ts[399].toFixed(2), 'ms; wal MB', (fs.statSync(path + '-wal').size / 1e6).toFixed(1));
  if (w) { w.postMessage('stop'); w.once('message', (c) => { c.sort((a, b) => a - b); console.log('checkpoints', c.length, 'p50', c[c.length >> 1].toFixed(1), 'max', c[c.length - 1].toFixed(1)); }); }
})();
