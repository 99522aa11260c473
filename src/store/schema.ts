import type { BundleRecord, TokenRecord } from './types.js';

/** The schema, written once for both databases (types chosen to mean the same in each). */
export function schemaStatements(kind: 'sqlite' | 'postgres'): string[] {
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
    `CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, bytes ${blob} NOT NULL)`,
    // A bundle's signed manifest by its digest (the log entry's manifestSha256).
    `CREATE TABLE IF NOT EXISTS bundle_manifests (bundle_id TEXT PRIMARY KEY, manifest_sha256 TEXT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS bundle_manifests_sha256 ON bundle_manifests (manifest_sha256)`,
    `CREATE TABLE IF NOT EXISTS signing_keys (
      id TEXT PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL, certificate_pem TEXT NOT NULL,
      key_ref TEXT NOT NULL, active ${kind === 'sqlite' ? 'INTEGER' : 'BOOLEAN'} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS api_tokens (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, token_sha256 TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
      created_at TEXT NOT NULL, revoked_at TEXT)`,
  ];
}

/** A row of api_tokens (either database) as a TokenRecord. */
export function tokenFrom(r: Record<string, unknown>): TokenRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    tokenSha256: r.token_sha256 as string,
    scopes: String(r.scopes).split(' ').filter(Boolean),
    createdAt: r.created_at as string,
    revokedAt: (r.revoked_at as string | null) ?? null,
  };
}

/** A row of bundles (either database; PostgreSQL returns BIGINT as text) as a BundleRecord. */
export function bundleFrom(r: Record<string, unknown>): BundleRecord {
  return {
    id: r.id as string,
    createdAt: r.created_at as string,
    objectSha256: r.object_sha256 as string,
    insnsSha256: r.insns_sha256 as string,
    scheme: r.scheme as string,
    signer: (r.signer as string | null) ?? null,
    logIndex: r.log_index === null || r.log_index === undefined ? null : BigInt(r.log_index as string | bigint),
    bundle: r.bundle as string,
  };
}
