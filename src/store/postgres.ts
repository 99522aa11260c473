/** PostgreSQL for several replicas (pg). Log appends take a transaction-scoped advisory lock. */
import pg from 'pg';
import { bundleFrom, schemaStatements, tokenFrom } from './schema.js';
import { StoreError, type BundleRecord, type KeyRecord, type LogEntry, type LogEntryInput, type Store, type TokenRecord } from './types.js';

type Row = Record<string, unknown>;
const LOG_LOCK = 0x62706673; // 'bpfs'
const u8 = (b: unknown) => new Uint8Array(b as Buffer);
/** Indices are dense from 0: the size is the last index + 1 (a primary-key lookup, not a scan). */
const SIZE_SQL = 'SELECT COALESCE(MAX(idx) + 1, 0)::text AS n FROM log_entries';

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;

  constructor(url: string, opts: { schema?: string } = {}) {
    this.#pool = new pg.Pool({ connectionString: url, max: 8 });
    if (opts.schema) {
      const schema = opts.schema;
      if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new StoreError('STORE_UNAVAILABLE', `bad schema name ${schema}`);
      this.#pool.on('connect', (c) => {
        void c.query(`SET search_path TO ${schema}`);
      });
    }
  }

  async #q(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.#pool.query(sql, params)).rows as Row[];
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new StoreError('STORE_CONFLICT', (e as Error).message, { cause: e });
      throw new StoreError('STORE_UNAVAILABLE', `postgres: ${(e as Error).message}`, { cause: e });
    }
  }

  async migrate(): Promise<void> {
    for (const s of schemaStatements('postgres')) await this.#q(s);
  }

  async appendLog(entries: LogEntryInput[], at: string): Promise<{ first: bigint; size: bigint }> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOG_LOCK]);
      const size = BigInt((await c.query(SIZE_SQL)).rows[0].n as string);
      // One statement for the whole batch (group commit): six parameters a row.
      const values = entries
        .map((_, i) => `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}, $${i * 6 + 6})`)
        .join(', ');
      const params = entries.flatMap((e, i) => [
        (size + BigInt(i)).toString(),
        Buffer.from(e.leafHash),
        e.kind,
        e.ref,
        Buffer.from(e.body),
        at,
      ]);
      if (entries.length > 0)
        await c.query(`INSERT INTO log_entries (idx, leaf_hash, kind, ref, body, created_at) VALUES ${values}`, params);
      const bundles = entries.flatMap((e, i) => (e.bundle ? [{ ...e.bundle, logIndex: size + BigInt(i) }] : []));
      if (bundles.length > 0) {
        await c.query(
          `INSERT INTO bundles (id, created_at, object_sha256, insns_sha256, scheme, signer, log_index, bundle) VALUES ${bundles.map((_, i) => `(${Array.from({ length: 8 }, (_, k) => `$${i * 8 + k + 1}`).join(', ')})`).join(', ')}`,
          bundles.flatMap((b) => [b.id, b.createdAt, b.objectSha256, b.insnsSha256, b.scheme, b.signer, b.logIndex.toString(), b.bundle]),
        );
      }
      const manifests = bundles.filter((b) => b.manifestSha256 !== undefined);
      if (manifests.length > 0) {
        await c.query(
          `INSERT INTO bundle_manifests (bundle_id, manifest_sha256) VALUES ${manifests.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}`,
          manifests.flatMap((b) => [b.id, b.manifestSha256!]),
        );
      }
      const blobs = [...new Map(bundles.flatMap((b) => b.blobs ?? []).map((x) => [x.sha256, x])).values()];
      if (blobs.length > 0) {
        await c.query(
          `INSERT INTO blobs (sha256, bytes) VALUES ${blobs.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')} ON CONFLICT (sha256) DO NOTHING`,
          blobs.flatMap((x) => [x.sha256, Buffer.from(x.bytes)]),
        );
      }
      await c.query('COMMIT');
      return { first: size, size: size + BigInt(entries.length) };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e instanceof StoreError ? e : new StoreError('STORE_UNAVAILABLE', `postgres: ${(e as Error).message}`, { cause: e });
    } finally {
      c.release();
    }
  }

  async logSize(): Promise<bigint> {
    return BigInt((await this.#q(SIZE_SQL))[0].n as string);
  }

  async leafHashes(from: bigint, to: bigint): Promise<Uint8Array[]> {
    const rows = await this.#q('SELECT leaf_hash FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY log_entries.idx', [
      from.toString(),
      to.toString(),
    ]);
    if (BigInt(rows.length) !== to - from) throw new StoreError('STORE_CORRUPT', `log: ${rows.length} leaves in [${from}, ${to})`);
    return rows.map((r) => u8(r.leaf_hash));
  }

  async logEntry(index: bigint): Promise<LogEntry | null> {
    return (await this.logEntries(index, index + 1n))[0] ?? null;
  }

  async logEntries(from: bigint, to: bigint): Promise<LogEntry[]> {
    const rows = await this.#q(
      'SELECT idx::text AS idx, leaf_hash, kind, ref, body, created_at FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY log_entries.idx',
      [from.toString(), to.toString()],
    );
    return rows.map((r) => ({
      index: BigInt(r.idx as string),
      leafHash: u8(r.leaf_hash),
      kind: r.kind as string,
      ref: r.ref as string,
      body: u8(r.body),
      createdAt: r.created_at as string,
    }));
  }

  async putCheckpoint(size: bigint, note: string, at: string): Promise<void> {
    await this.#q('INSERT INTO checkpoints (size, note, created_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING', [
      size.toString(),
      note,
      at,
    ]);
  }

  async latestCheckpoint(): Promise<{ size: bigint; note: string } | null> {
    const [r] = await this.#q('SELECT size::text AS size, note FROM checkpoints ORDER BY checkpoints.size DESC LIMIT 1');
    return r ? { size: BigInt(r.size as string), note: r.note as string } : null;
  }

  async checkpointAt(size: bigint): Promise<{ size: bigint; note: string } | null> {
    const [r] = await this.#q('SELECT size::text AS size, note FROM checkpoints WHERE size = $1', [size.toString()]);
    return r ? { size: BigInt(r.size as string), note: r.note as string } : null;
  }

  async putBundle(b: BundleRecord): Promise<void> {
    const insert = [
      'INSERT INTO bundles (id, created_at, object_sha256, insns_sha256, scheme, signer, log_index, bundle) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [b.id, b.createdAt, b.objectSha256, b.insnsSha256, b.scheme, b.signer, b.logIndex === null ? null : b.logIndex.toString(), b.bundle],
    ] as const;
    if (!b.blobs?.length && b.manifestSha256 === undefined) {
      await this.#q(insert[0], [...insert[1]]);
      return;
    }
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      for (const x of b.blobs ?? [])
        await c.query('INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [
          x.sha256,
          Buffer.from(x.bytes),
        ]);
      await c.query(insert[0], [...insert[1]]);
      if (b.manifestSha256 !== undefined)
        await c.query('INSERT INTO bundle_manifests (bundle_id, manifest_sha256) VALUES ($1, $2)', [b.id, b.manifestSha256]);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw (e as { code?: string }).code === '23505' ? new StoreError('STORE_CONFLICT', (e as Error).message, { cause: e }) : e;
    } finally {
      c.release();
    }
  }

  async getBlob(sha256: string): Promise<Uint8Array | null> {
    const [r] = await this.#q('SELECT bytes FROM blobs WHERE sha256 = $1', [sha256]);
    return r ? u8(r.bytes) : null;
  }

  async getBundle(id: string): Promise<BundleRecord | null> {
    const [r] = await this.#q(
      'SELECT id, created_at, object_sha256, insns_sha256, scheme, signer, log_index::text AS log_index, bundle FROM bundles WHERE id = $1',
      [id],
    );
    return r ? bundleFrom(r) : null;
  }

  async listBundles(opts: { limit: number; after?: string }): Promise<BundleRecord[]> {
    const rows = await this.#q(
      'SELECT id, created_at, object_sha256, insns_sha256, scheme, signer, log_index::text AS log_index, bundle FROM bundles WHERE id > $1 ORDER BY id LIMIT $2',
      [opts.after ?? '', opts.limit],
    );
    return rows.map(bundleFrom);
  }

  async bundlesByDigest(sha256: string, limit: number): Promise<BundleRecord[]> {
    const rows = await this.#q(
      'SELECT id, created_at, object_sha256, insns_sha256, scheme, signer, log_index::text AS log_index, bundle FROM bundles WHERE object_sha256 = $1 OR insns_sha256 = $1 OR id IN (SELECT bundle_id FROM bundle_manifests WHERE manifest_sha256 = $1) ORDER BY created_at, id LIMIT $2',
      [sha256, limit],
    );
    return rows.map(bundleFrom);
  }

  async putKey(k: KeyRecord): Promise<void> {
    await this.#q('INSERT INTO signing_keys (id, created_at, kind, certificate_pem, key_ref, active) VALUES ($1, $2, $3, $4, $5, $6)', [
      k.id,
      k.createdAt,
      k.kind,
      k.certificatePem,
      k.keyRef,
      k.active,
    ]);
  }

  async listKeys(): Promise<KeyRecord[]> {
    return (await this.#q('SELECT * FROM signing_keys ORDER BY created_at, id')).map((r) => ({
      id: r.id as string,
      createdAt: r.created_at as string,
      kind: r.kind as string,
      certificatePem: r.certificate_pem as string,
      keyRef: r.key_ref as string,
      active: r.active as boolean,
    }));
  }

  async setActiveKey(id: string): Promise<void> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const r = await c.query('UPDATE signing_keys SET active = (id = $1)', [id]);
      const found = await c.query('SELECT 1 FROM signing_keys WHERE id = $1', [id]);
      if (found.rowCount === 0) {
        await c.query('ROLLBACK');
        throw new StoreError('STORE_NOT_FOUND', `no key ${id}`);
      }
      void r;
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  }

  async putToken(t: TokenRecord): Promise<void> {
    await this.#q('INSERT INTO api_tokens (id, name, token_sha256, scopes, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      t.id,
      t.name,
      t.tokenSha256,
      t.scopes.join(' '),
      t.createdAt,
      t.revokedAt,
    ]);
  }

  async activeToken(tokenSha256: string): Promise<TokenRecord | null> {
    const [r] = await this.#q('SELECT * FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL', [tokenSha256]);
    return r ? tokenFrom(r) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.#q('SELECT * FROM api_tokens ORDER BY created_at, id')).map(tokenFrom);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    const c = await this.#pool.query('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    return (c.rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
