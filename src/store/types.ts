/**
 * Persistence behind one interface: SQLite (the embedded default, one process) and PostgreSQL
 * (several stateless replicas). The transparency log's appends are serialized by the database:
 * SQLite by a write transaction (BEGIN IMMEDIATE), PostgreSQL by a transaction-scoped advisory
 * lock, so two replicas never hand out the same index.
 */

export interface LogEntryInput {
  /** RFC 6962 leaf hash of the entry. */
  leafHash: Uint8Array;
  /** What the entry is (e.g. 'bundle'), and the id of the thing it logs. */
  kind: string;
  ref: string;
  /** The canonical bytes that were hashed, so auditors can fetch them. */
  body: Uint8Array;
  /**
   * A bundle stored in the same transaction as the entry, its log_index being the entry's
   * index: a logged signature and its stored bundle are written together or not at all.
   */
  bundle?: Omit<BundleRecord, 'logIndex'>;
}

export interface LogEntry extends LogEntryInput {
  index: bigint;
  createdAt: string;
}

export interface BundleRecord {
  id: string;
  createdAt: string;
  objectSha256: string;
  insnsSha256: string;
  scheme: string;
  signer: string | null;
  logIndex: bigint | null;
  /** The bundle as JSON text. */
  bundle: string;
  /**
   * Content-addressed bytes the bundle's text refers to by SHA-256 (loader instructions and
   * blob), written with it in the same transaction, once per digest. Not returned by reads.
   */
  blobs?: { sha256: string; bytes: Uint8Array }[];
  /**
   * SHA-256 (hex) of the signed manifest (its DSSE envelope's canonical bytes), which the log
   * entry names: bundlesByDigest finds the bundle by it. Written, not returned by reads.
   */
  manifestSha256?: string;
}

export interface KeyRecord {
  id: string;
  createdAt: string;
  /** 'pem' | 'pkcs11' | 'development' */
  kind: string;
  certificatePem: string;
  /** Where the private key lives: a file path, a PKCS#11 URI; never key material. */
  keyRef: string;
  active: boolean;
}

/** An API token as stored: only the SHA-256 of the secret is kept. */
export interface TokenRecord {
  id: string;
  name: string;
  tokenSha256: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  /** Appends leaves atomically; returns the index of the first and the new tree size. */
  appendLog(entries: LogEntryInput[], at: string): Promise<{ first: bigint; size: bigint }>;
  logSize(): Promise<bigint>;
  /** Leaf hashes [from, to). */
  leafHashes(from: bigint, to: bigint): Promise<Uint8Array[]>;
  logEntry(index: bigint): Promise<LogEntry | null>;
  /** Entries [from, to) in index order (fewer if the log is shorter). */
  logEntries(from: bigint, to: bigint): Promise<LogEntry[]>;
  putCheckpoint(size: bigint, note: string, at: string): Promise<void>;
  latestCheckpoint(): Promise<{ size: bigint; note: string } | null>;
  checkpointAt(size: bigint): Promise<{ size: bigint; note: string } | null>;
  putBundle(b: BundleRecord): Promise<void>;
  getBundle(id: string): Promise<BundleRecord | null>;
  /** Bytes stored with a bundle, by SHA-256 hex. */
  getBlob(sha256: string): Promise<Uint8Array | null>;
  listBundles(opts: { limit: number; after?: string }): Promise<BundleRecord[]>;
  /** Bundles whose object, loader instructions or signed manifest have this SHA-256 (hex), oldest first. */
  bundlesByDigest(sha256: string, limit: number): Promise<BundleRecord[]>;
  putKey(k: KeyRecord): Promise<void>;
  listKeys(): Promise<KeyRecord[]>;
  setActiveKey(id: string): Promise<void>;
  putToken(t: TokenRecord): Promise<void>;
  /** The token with this hash, unless revoked. */
  activeToken(tokenSha256: string): Promise<TokenRecord | null>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: string, at: string): Promise<boolean>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: 'STORE_CONFLICT' | 'STORE_NOT_FOUND' | 'STORE_UNAVAILABLE' | 'STORE_CORRUPT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
