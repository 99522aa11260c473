/**
 * The transparency log service: RFC 6962 leaves in the store, C2SP checkpoints signed with the
 * log's Ed25519 key, inclusion and consistency proofs. Proofs are computed from the leaf hashes
 * (O(size) per proof; tiles would make that O(log size) — see README "Scale").
 */
import {
  consistencyProof, formatCheckpoint, hashLeaf, inclusionProof, rootHash, signNote, subtreeHash, type NoteSigner,
} from '../signing/tlog/index.js';
import type { Store } from '../store/index.js';

export interface InclusionProof { logIndex: string; treeSize: string; leafHash: string; hashes: string[]; checkpoint: string }
export interface ConsistencyProof { from: string; to: string; hashes: string[] }

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export class TransparencyLog {
  constructor(private readonly store: Store, private readonly signer: NoteSigner, readonly origin: string, private readonly now: () => Date) {}

  /** Appends one entry; returns its index and leaf hash. */
  async append(kind: string, ref: string, body: Uint8Array): Promise<{ index: bigint; leafHash: Uint8Array }> {
    const leafHash = hashLeaf(body);
    const { first } = await this.store.appendLog([{ leafHash, kind, ref, body }], this.now().toISOString());
    return { index: first, leafHash };
  }

  async #leaves(size: bigint): Promise<(i: bigint) => Uint8Array> {
    const hashes = await this.store.leafHashes(0n, size);
    return (i) => hashes[Number(i)];
  }

  /** The signed checkpoint of the tree as it is now (stored once per size). */
  async checkpoint(): Promise<{ size: bigint; note: string }> {
    const size = await this.store.logSize();
    const existing = await this.store.checkpointAt(size);
    if (existing) return existing;
    const root = rootHash(await this.#leaves(size), size);
    const note = signNote(formatCheckpoint({ origin: this.origin, size, root }), [this.signer]);
    await this.store.putCheckpoint(size, note, this.now().toISOString());
    return { size, note };
  }

  /** Inclusion of `index` in the tree of the latest checkpoint (made now if needed). */
  async inclusion(index: bigint): Promise<InclusionProof> {
    const cp = await this.checkpoint();
    if (index < 0n || index >= cp.size) throw new RangeError(`log index ${index} not in tree of size ${cp.size}`);
    const leaves = await this.#leaves(cp.size);
    return {
      logIndex: index.toString(), treeSize: cp.size.toString(), leafHash: b64(leaves(index)),
      hashes: inclusionProof(leaves, index, cp.size).map(b64), checkpoint: cp.note,
    };
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
    const leaves = await this.store.leafHashes(first, first + w * span);
    const leaf = (i: bigint) => leaves[Number(i - first)];
    const out = new Uint8Array(Number(w) * 32);
    for (let k = 0n; k < w; k++) out.set(subtreeHash(leaf, first + k * span, first + (k + 1n) * span), Number(k) * 32);
    return out;
  }

  /** C2SP entry bundle N: each entry of leaves N·256 … N·256+W−1 as a big-endian u16 length and its bytes. */
  async entryBundle(index: bigint, width?: number): Promise<Uint8Array | null> {
    const size = await this.store.logSize();
    const w = BigInt(width ?? 256);
    if (w < 1n || w > 256n || index * 256n + w > size) return null;
    const parts: Uint8Array[] = [];
    for (let i = index * 256n; i < index * 256n + w; i++) {
      const e = await this.store.logEntry(i);
      if (!e || e.body.length > 0xffff) return null;
      parts.push(Uint8Array.of(e.body.length >> 8, e.body.length & 0xff), e.body);
    }
    return Buffer.concat(parts);
  }

  async consistency(from: bigint, to: bigint): Promise<ConsistencyProof> {
    const size = await this.store.logSize();
    if (from < 1n || from > to || to > size) throw new RangeError(`consistency ${from} → ${to}: want 1 <= from <= to <= ${size}`);
    return { from: from.toString(), to: to.toString(), hashes: consistencyProof(await this.#leaves(to), from, to).map(b64) };
  }
}


/** Parses a C2SP tile path "[entries/]x001/x234/067[.p/W]" (levels for hash tiles are given separately). */
export function parseTileIndex(path: string): { index: bigint; width?: number } | null {
  const m = /^((?:x\d{3}\/)*)(\d{3})(?:\.p\/(\d{1,3}))?$/.exec(path);
  if (!m) return null;
  const digits = m[1].split('/').filter(Boolean).map((x) => x.slice(1)).join('') + m[2];
  const width = m[3] === undefined ? undefined : Number(m[3]);
  if (width !== undefined && (width < 1 || width > 255)) return null;
  return { index: BigInt(digits), width };
}
