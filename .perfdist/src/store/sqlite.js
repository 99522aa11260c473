/** The embedded default: one SQLite file (better-sqlite3), WAL mode. */
import Database from 'better-sqlite3';
import { schemaStatements } from './schema.js';
import { StoreError } from './types.js';
const u8 = (b) => new Uint8Array(b);
function bundleFrom(r) {
    return {
        id: r.id, createdAt: r.created_at, objectSha256: r.object_sha256, insnsSha256: r.insns_sha256,
        scheme: r.scheme, signer: r.signer ?? null, logIndex: r.log_index === null ? null : BigInt(r.log_index),
        bundle: r.bundle,
    };
}
export class SqliteStore {
    kind = 'sqlite';
    #db;
    constructor(path) {
        try {
            this.#db = new Database(path);
        }
        catch (e) {
            throw new StoreError('STORE_UNAVAILABLE', `sqlite: cannot open ${path}: ${e.message}`, { cause: e });
        }
        this.#db.pragma('journal_mode = WAL');
        this.#db.pragma('busy_timeout = 5000');
        this.#db.defaultSafeIntegers(true);
    }
    async migrate() {
        for (const s of schemaStatements('sqlite'))
            this.#db.exec(s);
    }
    async appendLog(entries, at) {
        const tx = this.#db.transaction(() => {
            const size = this.#db.prepare('SELECT COUNT(*) AS n FROM log_entries').get().n;
            const ins = this.#db.prepare('INSERT INTO log_entries (idx, leaf_hash, kind, ref, body, created_at) VALUES (?, ?, ?, ?, ?, ?)');
            entries.forEach((e, i) => ins.run(size + BigInt(i), Buffer.from(e.leafHash), e.kind, e.ref, Buffer.from(e.body), at));
            return { first: size, size: size + BigInt(entries.length) };
        });
        return tx.immediate();
    }
    async logSize() {
        return this.#db.prepare('SELECT COUNT(*) AS n FROM log_entries').get().n;
    }
    async leafHashes(from, to) {
        const rows = this.#db.prepare('SELECT leaf_hash FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx').all(from, to);
        if (BigInt(rows.length) !== to - from)
            throw new StoreError('STORE_CORRUPT', `log: ${rows.length} leaves in [${from}, ${to})`);
        return rows.map((r) => u8(r.leaf_hash));
    }
    async logEntry(index) {
        const r = this.#db.prepare('SELECT * FROM log_entries WHERE idx = ?').get(index);
        if (!r)
            return null;
        return { index: BigInt(r.idx), leafHash: u8(r.leaf_hash), kind: r.kind, ref: r.ref, body: u8(r.body), createdAt: r.created_at };
    }
    async putCheckpoint(size, note, at) {
        this.#db.prepare('INSERT OR IGNORE INTO checkpoints (size, note, created_at) VALUES (?, ?, ?)').run(size, note, at);
    }
    async latestCheckpoint() {
        const r = this.#db.prepare('SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1').get();
        return r ? { size: BigInt(r.size), note: r.note } : null;
    }
    async checkpointAt(size) {
        const r = this.#db.prepare('SELECT size, note FROM checkpoints WHERE size = ?').get(size);
        return r ? { size: BigInt(r.size), note: r.note } : null;
    }
    async putBundle(b) {
        try {
            this.#db.prepare('INSERT INTO bundles (id, created_at, object_sha256, insns_sha256, scheme, signer, log_index, bundle) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
                .run(b.id, b.createdAt, b.objectSha256, b.insnsSha256, b.scheme, b.signer, b.logIndex, b.bundle);
        }
        catch (e) {
            if (e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
                throw new StoreError('STORE_CONFLICT', `bundle ${b.id} exists`, { cause: e });
            throw e;
        }
    }
    async getBundle(id) {
        const r = this.#db.prepare('SELECT * FROM bundles WHERE id = ?').get(id);
        return r ? bundleFrom(r) : null;
    }
    async listBundles(opts) {
        const rows = this.#db.prepare('SELECT * FROM bundles WHERE id > ? ORDER BY id LIMIT ?').all(opts.after ?? '', opts.limit);
        return rows.map(bundleFrom);
    }
    async putKey(k) {
        this.#db.prepare('INSERT INTO signing_keys (id, created_at, kind, certificate_pem, key_ref, active) VALUES (?, ?, ?, ?, ?, ?)')
            .run(k.id, k.createdAt, k.kind, k.certificatePem, k.keyRef, k.active ? 1 : 0);
    }
    async listKeys() {
        return this.#db.prepare('SELECT * FROM signing_keys ORDER BY created_at, id').all().map((r) => ({
            id: r.id, createdAt: r.created_at, kind: r.kind, certificatePem: r.certificate_pem,
            keyRef: r.key_ref, active: Number(r.active) === 1,
        }));
    }
    async setActiveKey(id) {
        const tx = this.#db.transaction(() => {
            const n = this.#db.prepare('UPDATE signing_keys SET active = (id = ?)').run(id);
            if (!this.#db.prepare('SELECT 1 FROM signing_keys WHERE id = ?').get(id))
                throw new StoreError('STORE_NOT_FOUND', `no key ${id}`);
            return n;
        });
        tx.immediate();
    }
    async close() {
        this.#db.close();
    }
}
//# sourceMappingURL=sqlite.js.map