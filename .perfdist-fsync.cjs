const Database = require('better-sqlite3');
const fs = require('fs'); const d = fs.mkdtempSync('/tmp/fs-'); const db = new Database(d + '/x.db');
db.pragma('journal_mode = WAL'); if (process.env.SYNC) db.pragma('synchronous = ' + process.env.SYNC); if (process.env.AC) db.pragma('wal_autocheckpoint = ' + process.env.AC);
db.exec('create table t (id integer primary key, b blob)');
const ins = db.prepare('insert into t (b) values (?)'); const body = Buffer.alloc(22000, 1);
const tx = db.transaction((n) => { for (let i = 0; i < n; i++) ins.run(body); });
const ts = [];
for (let i = 0; i < 400; i++) { const t = performance.now(); tx(20); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log('commit of 20 rows: p50', ts[200].toFixed(2), 'p90', ts[360].toFixed(2), 'p99', ts[396].toFixed(2), 'max', ts[399].toFixed(2), 'ms; synchronous', db.pragma('synchronous', { simple: true }));
