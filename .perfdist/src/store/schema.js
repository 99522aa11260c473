/** The schema, written once for both databases (types chosen to mean the same in each). */
export function schemaStatements(kind) {
    const blob = kind === 'sqlite' ? 'BLOB' : 'BYTEA';
    const bigint = kind === 'sqlite' ? 'INTEGER' : 'BIGINT';
    return [
        `CREATE TABLE IF NOT EXISTS log_entries (
      idx ${bigint} PRIMARY KEY, leaf_hash ${blob} NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
      body ${blob} NOT NULL, created_at TEXT NOT NULL)`,
        `CREATE TABLE IF NOT EXISTS checkpoints (size ${bigint} PRIMARY KEY, note TEXT NOT NULL, created_at TEXT NOT NULL)`,
        `CREATE TABLE IF NOT EXISTS bundles (
      id TEXT PRIMARY KEY, created_at TEXT NOT NULL, object_sha256 TEXT NOT NULL, insns_sha256 TEXT NOT NULL,
      scheme TEXT NOT NULL, signer TEXT, log_index ${bigint}, bundle TEXT NOT NULL)`,
        `CREATE INDEX IF NOT EXISTS bundles_object ON bundles (object_sha256)`,
        `CREATE TABLE IF NOT EXISTS signing_keys (
      id TEXT PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL, certificate_pem TEXT NOT NULL,
      key_ref TEXT NOT NULL, active ${kind === 'sqlite' ? 'INTEGER' : 'BOOLEAN'} NOT NULL)`,
    ];
}
//# sourceMappingURL=schema.js.map