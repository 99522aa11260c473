import { SqliteStore } from './sqlite.js';
import { PostgresStore } from './postgres.js';
import type { Store } from './types.js';

export type { Store, LogEntry, LogEntryInput, BundleRecord, KeyRecord, TokenRecord } from './types.js';
export { StoreError } from './types.js';
export { SqliteStore } from './sqlite.js';
export { PostgresStore } from './postgres.js';

/** `sqlite:PATH` (or a bare path) → SQLite; `postgres://…` / `postgresql://…` → PostgreSQL. */
export async function openStore(url: string): Promise<Store> {
  const store = /^postgres(ql)?:\/\//.test(url) ? new PostgresStore(url) : new SqliteStore(url.replace(/^sqlite:/, ''));
  await store.migrate();
  return store;
}
