/**
 * The transparency log service: RFC 6962 leaves in the store, C2SP checkpoints signed with the
 * log's Ed25519 key, inclusion and consistency proofs, C2SP tiles and tlog-proof files.
 *
 * Appends are group-committed: every entry that arrives while a commit is in flight waits for
 * the next one, which writes them all in one transaction (one fsync) and signs one checkpoint.
 * An append resolves only after its transaction committed, so an answered request is durable.
 *
 * Proofs come from an in-memory MerkleTree holding every complete subtree hash; it follows the
 * store (which may be appended to by other replicas) by reading only the leaves it lacks, so a
 * proof costs O(log² n) hashes instead of O(n).
 */
import {
  MerkleTree,
  consistencyProof,
  formatCheckpoint,
  formatTlogProof,
  hashLeaf,
  inclusionProof,
  loaderEntryBytes,
  loaderEntryFromBundle,
  parseLoaderEntry,
  signNote,
  type EntrySource,
  type NoteSigner,
} from '../signing/tlog/index.js';
import { sha256Hex } from '../shared/bytes.js';
import type { LogEntryInput, Store } from '../store/index.js';
import { StoreError } from '../store/types.js';

export interface InclusionProof {
  logIndex: string;
  treeSize: string;
  leafHash: string;
  hashes: string[];
  checkpoint: string;
}
export interface ConsistencyProof {
  from: string;
  to: string;
  hashes: string[];
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
/** Entries written in one transaction at most (PostgreSQL allows 65,535 parameters; 6 a row). */
const MAX_BATCH = 1000;
/** Transactions handed to the store at once (see #commitLoop). */
const MAX_IN_FLIGHT = 2;

interface Pending {
  entry: LogEntryInput;
  resolve: (r: { index: bigint; committedSize: bigint }) => void;
  reject: (e: unknown) => void;
}

export class TransparencyLog {
  readonly #tree = new MerkleTree();
  #syncing: Promise<void> | null = null;
  #pending: Pending[] = [];
  #scheduled = false;
  #inFlight = 0;
  /** The newest checkpoint this process knows, and the one being signed. */
  #latest: { size: bigint; note: string } | null = null;
  #signing = new Map<bigint, Promise<{ size: bigint; note: string }>>();
  /** Commits (transactions) and entries written, for metrics and tests. */
  readonly stats = { commits: 0, entries: 0, checkpointWriteErrors: 0, leafReads: 0 };
  /** Given each checkpoint once signed; returns it with witness cosignatures added (service/witness-client.ts). */
  cosign: ((size: bigint, note: string) => Promise<string>) | null = null;

  constructor(
    private readonly store: Store,
    private readonly signer: NoteSigner,
    readonly origin: string,
    private readonly now: () => Date,
  ) {}

  /**
   * Appends one entry (and the bundle stored with it, in the same transaction); resolves with
   * its index and leaf hash once it is committed.
   */
  append(
    kind: string,
    ref: string,
    body: Uint8Array,
    bundle?: LogEntryInput['bundle'],
  ): Promise<{ index: bigint; leafHash: Uint8Array; committedSize: bigint }> {
    const leafHash = hashLeaf(body);
    return new Promise<{ index: bigint; committedSize: bigint }>((resolve, reject) => {
      this.#pending.push({ entry: { leafHash, kind, ref, body, ...(bundle ? { bundle } : {}) }, resolve, reject });
      // Appends of this event-loop turn go together; a commit starts once a slot is free.
      if (!this.#scheduled && this.#inFlight < MAX_IN_FLIGHT) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#commitLoop();
        });
      }
    }).then(({ index, committedSize }) => ({ index, leafHash, committedSize }));
  }

  /**
   * Appends a signed loader's entry (signing/tlog/entry.ts: a small record naming its signed
   * manifest by digest) and stores, in the same transaction, its bundle row and the manifest's
   * bytes under that digest (GET /v1/manifests/{sha256} finds it). `manifestBytes` are the
   * canonical bytes of `bundle.manifest`; the row's digests are the loader's and the object's.
   * `digests` are the SHA-256 (hex) of the loader blob and of `manifestBytes`, when the caller
   * knows them; each one missing is computed here.
   */
  appendLoader(
    id: string,
    bundle: EntrySource,
    manifestBytes: Uint8Array,
    row: NonNullable<LogEntryInput['bundle']>,
    digests: { data?: string; manifest?: string } = {},
  ): Promise<{ index: bigint; leafHash: Uint8Array; committedSize: bigint }> {
    const manifestSha256 = digests.manifest ?? sha256Hex(manifestBytes);
    const entry = loaderEntryFromBundle(bundle, {
      manifestSha256,
      insnsSha256: row.insnsSha256,
      objectSha256: row.objectSha256,
      ...(digests.data === undefined ? {} : { dataSha256: digests.data }),
    });
    const stored = { ...row, manifestSha256, blobs: [...(row.blobs ?? []), { sha256: manifestSha256, bytes: manifestBytes }] };
    return this.append('loader', id, loaderEntryBytes(entry), stored);
  }

  /** The signed manifest (its DSSE envelope's canonical bytes) a logged loader entry names. */
  async manifestOf(entryBody: Uint8Array): Promise<Uint8Array> {
    const e = parseLoaderEntry(entryBody);
    const bytes = await this.store.getBlob(e.manifestSha256);
    if (!bytes) throw new StoreError('STORE_CORRUPT', `the signed manifest ${e.manifestSha256} of a log entry is not stored`);
    return bytes;
  }

  /**
   * Commits run back to back, up to two in flight: the store applies them in order (indices are
   * assigned inside each transaction), and while one commits the next group is already on its
   * way, so the event loop never waits for a commit to begin the next.
   */
  #commitLoop(): void {
    while (this.#pending.length > 0 && this.#inFlight < MAX_IN_FLIGHT) {
      const batch = this.#pending.splice(0, MAX_BATCH);
      this.#inFlight++;
      this.store
        .appendLog(
          batch.map((p) => p.entry),
          this.now().toISOString(),
        )
        .then(
          ({ first, size }) => {
            // The batch's leaves follow the tree held here (no other replica appended in between):
            // extend it now, so the proofs of this batch need no store read.
            if (this.#tree.size === first) for (const p of batch) this.#tree.append(p.entry.leafHash);
            this.stats.commits++;
            this.stats.entries += batch.length;
            batch.forEach((p, i) => p.resolve({ index: first + BigInt(i), committedSize: size }));
          },
          (e) => {
            batch.forEach((p) => p.reject(e));
          },
        )
        .finally(() => {
          this.#inFlight--;
          this.#commitLoop();
        });
    }
  }

  /** Brings the in-memory tree up to `size` leaves (read from the store). */
  async #sync(size: bigint): Promise<void> {
    while (this.#tree.size < size) {
      if (this.#syncing) {
        await this.#syncing;
        continue;
      }
      const from = this.#tree.size;
      const to = size - from > 100_000n ? from + 100_000n : size;
      this.stats.leafReads++;
      this.#syncing = this.store
        .leafHashes(from, to)
        .then((hashes) => {
          if (this.#tree.size === from) for (const h of hashes) this.#tree.append(h);
        })
        .finally(() => {
          this.#syncing = null;
        });
      await this.#syncing;
    }
  }

  /** The tree of `size` leaves (synced). */
  async #treeAt(size: bigint): Promise<MerkleTree> {
    await this.#sync(size);
    return this.#tree;
  }

  /** The signed checkpoint of the tree as it is now (signed and stored once per size). */
  async checkpoint(): Promise<{ size: bigint; note: string }> {
    return this.#checkpointAt(await this.store.logSize());
  }

  /** The signed checkpoint of the first `size` leaves (which must be committed). */
  async #checkpointAt(size: bigint): Promise<{ size: bigint; note: string }> {
    if (this.#latest?.size === size) return this.#latest;
    let p = this.#signing.get(size);
    if (!p) {
      p = (async () => {
        const existing = await this.store.checkpointAt(size);
        if (existing) return existing;
        const tree = await this.#treeAt(size);
        const signed = signNote(formatCheckpoint({ origin: this.origin, size, root: tree.root(size) }), [this.signer]);
        const note = this.cosign ? await this.cosign(size, signed) : signed;
        // Stored for readers of the store, not awaited: a checkpoint is a deterministic Ed25519
        // signature over (origin, size, root) of durable entries, so one lost in a crash is
        // signed again, identical, from the same entries. (Replicas signing the same head with
        // the same key store the same note; INSERT OR IGNORE / ON CONFLICT keeps the first.)
        this.store.putCheckpoint(size, note, this.now().toISOString()).catch(() => {
          this.stats.checkpointWriteErrors++;
        });
        return { size, note };
      })().finally(() => this.#signing.delete(size));
      this.#signing.set(size, p);
    }
    const cp = await p;
    if (!this.#latest || cp.size > this.#latest.size) this.#latest = cp;
    return cp;
  }

  /**
   * Inclusion of `index` in the tree of the latest checkpoint (made now if needed), or of the
   * checkpoint at `size` when given (an appender knows the size its commit made: no store read).
   */
  async inclusion(index: bigint, size?: bigint): Promise<InclusionProof> {
    const cp = size === undefined ? await this.checkpoint() : await this.#checkpointAt(size);
    if (index < 0n || index >= cp.size) throw new RangeError(`log index ${index} not in tree of size ${cp.size}`);
    const tree = await this.#treeAt(cp.size);
    return {
      logIndex: index.toString(),
      treeSize: cp.size.toString(),
      leafHash: b64(tree.leaf(index)),
      hashes: inclusionProof(tree, index, cp.size).map(b64),
      checkpoint: cp.note,
    };
  }

  /** The same proof as a C2SP tlog-proof file (c2sp.org/tlog-proof@v1), verifiable offline. */
  async proofFile(index: bigint): Promise<string> {
    const p = await this.inclusion(index);
    return formatTlogProof({ index, hashes: p.hashes.map((h) => new Uint8Array(Buffer.from(h, 'base64'))), checkpoint: p.checkpoint });
  }

  /**
   * C2SP tlog-tiles: the level-L tile N holds the hashes of the level-8L nodes N·256 … N·256+W−1
   * (each node the MTH of 256^L leaves), W = 256 for a full tile. Returns null when the tree does
   * not (yet) have those nodes complete.
   */
  async tile(level: number, index: bigint, width?: number): Promise<Uint8Array | null> {
    const size = await this.store.logSize();
    const span = 256n ** BigInt(level);
    const complete = size / span; // nodes of this level that are complete
    const have = complete - index * 256n;
    const w = BigInt(width ?? 256);
    if (have < w || w < 1n || w > 256n) return null;
    const first = index * 256n * span;
    const tree = await this.#treeAt(first + w * span);
    const out = new Uint8Array(Number(w) * 32);
    for (let k = 0n; k < w; k++) out.set(tree.subtree(first + k * span, first + (k + 1n) * span), Number(k) * 32);
    return out;
  }

  /** C2SP entry bundle N: each entry of leaves N·256 … N·256+W−1 as a big-endian u16 length and its bytes. */
  async entryBundle(index: bigint, width?: number): Promise<Uint8Array | null> {
    const size = await this.store.logSize();
    const w = BigInt(width ?? 256);
    if (w < 1n || w > 256n || index * 256n + w > size) return null;
    const entries = await this.store.logEntries(index * 256n, index * 256n + w);
    if (BigInt(entries.length) !== w || entries.some((e) => e.body.length > 0xffff)) return null;
    return Buffer.concat(entries.flatMap((e) => [Uint8Array.of(e.body.length >> 8, e.body.length & 0xff), e.body]));
  }

  async consistency(from: bigint, to: bigint): Promise<ConsistencyProof> {
    const size = await this.store.logSize();
    if (from < 1n || from > to || to > size) throw new RangeError(`consistency ${from} → ${to}: want 1 <= from <= to <= ${size}`);
    return { from: from.toString(), to: to.toString(), hashes: consistencyProof(await this.#treeAt(to), from, to).map(b64) };
  }
}

/** Parses a C2SP tile path "[entries/]x001/x234/067[.p/W]" (levels for hash tiles are given separately). */
export function parseTileIndex(path: string): { index: bigint; width?: number } | null {
  const m = /^((?:x\d{3}\/)*)(\d{3})(?:\.p\/(\d{1,3}))?$/.exec(path);
  if (!m) return null;
  const digits =
    m[1]
      .split('/')
      .filter(Boolean)
      .map((x) => x.slice(1))
      .join('') + m[2];
  const width = m[3] === undefined ? undefined : Number(m[3]);
  if (width !== undefined && (width < 1 || width > 255)) return null;
  return { index: BigInt(digits), width };
}
