/**
 * The auditor's walk of a transparency log over C2SP tiles (c2sp.org/tlog-tiles): entry bundles
 * of 256 entries, one request each, taken in order. Every entry's leaf hash goes into a compact
 * range (the ≤ 64 subtree hashes covering the entries read so far); when the walk reaches the
 * checkpoint's size, the range's root must be the signed root. That one comparison proves every
 * entry read is the log's entry at its index, and — since the range continues the one saved at
 * the last audited checkpoint — that the new checkpoint extends the old one (consistency), with
 * no proof fetched. A log that shows this auditor a tree other auditors do not see fails it.
 *
 * State is saved as it goes (the range, the next index, the last checkpoint fully audited), so
 * an audit killed half-way resumes where it stopped. Fetching, saving and the check of each
 * entry's content are the caller's (the CLI passes HTTP, a file and the manifest check).
 */
import { CompactRange } from '../signing/tlog/compact.js';
import { hashLeaf, openNote, parseCheckpoint, type Checkpoint, type NoteVerifier } from '../signing/tlog/index.js';
import { checkWitnessQuorum, type CosignatureVerifier } from '../signing/tlog/cosignature.js';

export const ENTRIES_PER_TILE = 256;

/** What an auditor keeps between runs (JSON); deterministic: the same log gives the same state. */
export interface AuditStateV2 {
  version: 2;
  origin: string;
  /** The last checkpoint whose root the audit matched. */
  size: string;
  root: string;
  /** Entries read so far (≥ size when a run stopped half-way), and their compact range. */
  next: string;
  range: string[];
  /**
   * The compact range at `size` (the audited checkpoint): where a run that finds the log's
   * entries do not build its root goes back to, so that entries of a view it refused are not
   * kept as read. Absent when not known (a v1 state: the walk starts from 0).
   */
  base?: string[];
}

/** The state a v1 auditor (size and root only) left: re-read from 0, compared at its size. */
export interface AuditStateV1 {
  origin: string;
  size: string;
  root: string;
}

export class AuditError extends Error {
  override readonly name = 'AuditError';
  constructor(
    readonly code: 'AUDIT_FORK' | 'AUDIT_ROLLBACK' | 'AUDIT_ORIGIN' | 'AUDIT_TILE' | 'AUDIT_ENTRY' | 'AUDIT_STATE',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface AuditSource {
  /** The signed checkpoint (a signed note). */
  checkpoint(): Promise<string>;
  /** Entry bundle N (`width` < 256: the partial tile .p/W); null when the log has no such tile. */
  entryBundle(index: bigint, width: number): Promise<Uint8Array | null>;
}

export interface AuditOptions {
  source: AuditSource;
  logKeys: NoteVerifier[];
  /** Witnesses whose cosignatures the checkpoint must carry, and how many (k of n). */
  witnesses?: { verifiers: CosignatureVerifier[]; quorum: number };
  /** Saved state, or null for a first audit. */
  state: AuditStateV2 | AuditStateV1 | null;
  save(state: AuditStateV2): void;
  /** Checks one entry's content; throws to fail the audit. Returns what it checked ('signed', …) for the summary. */
  checkEntry(index: bigint, body: Uint8Array): string;
  /** Tiles fetched at once (default 4): later tiles are on the way while one is hashed. */
  window?: number;
  /** Save at least every this many tiles (default 4) and at the end. */
  saveEvery?: number;
  onProgress?(p: { done: bigint; from: bigint; total: bigint; requests: number }): void;
}

export interface AuditResult {
  checkpoint: Checkpoint;
  note: string;
  signedBy: string[];
  cosignedBy: string[];
  /** The size of the last audited checkpoint this run continued from (0 for a first audit). */
  previousSize: bigint;
  /** Entries checked in this run, by what checkEntry said of them. */
  checked: Record<string, number>;
  entries: bigint;
  requests: number;
  resumedAt: bigint | null;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Splits a C2SP entry bundle: each entry a big-endian u16 length and its bytes; exactly `count` of them. */
export function parseEntryBundle(bytes: Uint8Array, count: number, tile: bigint): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length)
      throw new AuditError('AUDIT_TILE', `entry bundle ${tile}: truncated length at byte ${at}`, { tile: tile.toString(), at });
    const n = (bytes[at] << 8) | bytes[at + 1];
    if (at + 2 + n > bytes.length)
      throw new AuditError(
        'AUDIT_TILE',
        `entry bundle ${tile}: entry ${out.length} runs past the end (${n} bytes at ${at + 2} of ${bytes.length})`,
        { tile: tile.toString(), at },
      );
    out.push(bytes.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  if (out.length < count)
    throw new AuditError('AUDIT_TILE', `entry bundle ${tile}: ${out.length} entries, want ${count}`, {
      tile: tile.toString(),
      got: out.length,
      want: count,
    });
  return out.slice(0, count);
}

function readState(s: AuditStateV2 | AuditStateV1 | null): {
  origin: string | null;
  size: bigint;
  root: Uint8Array | null;
  range: CompactRange;
  base: CompactRange | null;
} {
  if (s === null) return { origin: null, size: 0n, root: null, range: new CompactRange(), base: new CompactRange() };
  try {
    const size = BigInt(s.size);
    const root = unb64(s.root);
    if ('version' in s && s.version === 2) {
      const range = new CompactRange(BigInt(s.next), s.range.map(unb64));
      const base = s.base
        ? new CompactRange(size, s.base.map(unb64))
        : range.size === size
          ? range
          : size === 0n
            ? new CompactRange()
            : null;
      return { origin: s.origin, size, root, range, base };
    }
    return { origin: s.origin, size, root, range: new CompactRange(), base: null };
  } catch (e) {
    throw new AuditError('AUDIT_STATE', `audit state unreadable: ${(e as Error).message}`);
  }
}

export async function auditLog(o: AuditOptions): Promise<AuditResult> {
  let requests = 0;
  const note = await o.source.checkpoint();
  requests++;
  const opened = openNote(note, o.logKeys);
  const cp = parseCheckpoint(opened.text);
  const cosignedBy = o.witnesses ? checkWitnessQuorum(note, o.witnesses.verifiers, o.witnesses.quorum).map((c) => c.name) : [];
  const st = readState(o.state);
  if (st.origin !== null && st.origin !== cp.origin)
    throw new AuditError('AUDIT_ORIGIN', `log origin changed: ${st.origin} → ${cp.origin}`, { got: cp.origin, want: st.origin });
  if (cp.size < st.size)
    throw new AuditError('AUDIT_ROLLBACK', `log shrank: ${st.size} → ${cp.size} (a fork or a rollback)`, {
      got: cp.size.toString(),
      want: `>= ${st.size}`,
    });
  if (cp.size === st.size && st.root && b64(st.root) !== b64(cp.root)) {
    throw new AuditError('AUDIT_FORK', `same size ${cp.size}, different root: the log forked (saw ${b64(st.root)}, now ${b64(cp.root)})`, {
      got: b64(cp.root),
      want: b64(st.root),
    });
  }
  const range = st.range;
  if (range.size > cp.size)
    throw new AuditError(
      'AUDIT_ROLLBACK',
      `the checkpoint's size ${cp.size} is below the ${range.size} entries this auditor already read`,
      { got: cp.size.toString(), want: `>= ${range.size}` },
    );
  const resumedAt = range.size > st.size ? range.size : null;
  const from = range.size;
  const checked: Record<string, number> = {};
  let base = st.base ? st.base.nodes : null;
  const saveNow = (r: CompactRange = range) =>
    o.save({
      version: 2,
      origin: cp.origin,
      size: st.size.toString(),
      root: st.root ? b64(st.root) : b64(new CompactRange().root()),
      next: r.size.toString(),
      range: r.nodes.map(b64),
      ...(base && r.size !== st.size ? { base: base.map(b64) } : {}),
    });
  const T = BigInt(ENTRIES_PER_TILE);
  const firstTile = range.size / T,
    endTile = (cp.size + T - 1n) / T;
  const widthOf = (t: bigint) => Number(cp.size - t * T < T ? cp.size - t * T : T);
  const fetchTile = async (t: bigint): Promise<Uint8Array[]> => {
    const w = widthOf(t);
    let bytes = await o.source.entryBundle(t, w);
    requests++;
    // A partial tile may be gone once the full one exists (tlog-tiles): take the full tile's first W.
    if (bytes === null && w < ENTRIES_PER_TILE) {
      bytes = await o.source.entryBundle(t, ENTRIES_PER_TILE);
      requests++;
    }
    if (bytes === null)
      throw new AuditError(
        'AUDIT_TILE',
        `the log does not serve entry bundle ${t}${w < ENTRIES_PER_TILE ? `.p/${w}` : ''} (entries ${t * T}…${t * T + BigInt(w) - 1n})`,
        { tile: t.toString(), width: w },
      );
    return parseEntryBundle(bytes, w, t);
  };
  const window = Math.max(1, o.window ?? 4),
    saveEvery = Math.max(1, o.saveEvery ?? 4);
  const inFlight = new Map<bigint, Promise<Uint8Array[]>>();
  const ask = (t: bigint) => {
    if (t < endTile && !inFlight.has(t)) {
      const p = fetchTile(t);
      p.catch(() => undefined);
      inFlight.set(t, p);
    }
  };
  let sinceSave = 0;
  for (let t = firstTile; t < endTile; t++) {
    for (let k = 0n; k < BigInt(window); k++) ask(t + k);
    const entries = await inFlight.get(t)!;
    inFlight.delete(t);
    for (let i = Number(range.size - t * T); i < entries.length; i++) {
      const index = t * T + BigInt(i);
      range.append(hashLeaf(entries[i]));
      // A v1 state (no range) is re-read from 0; its checkpoint is checked when the walk passes it.
      if (range.size === st.size) base = range.nodes;
      if (st.root && range.size === st.size && b64(range.root()) !== b64(st.root)) {
        throw new AuditError(
          'AUDIT_FORK',
          `the log's first ${st.size} entries no longer hash to the root this auditor saw at that size: the log forked`,
          { size: st.size.toString() },
        );
      }
      if (index >= st.size) {
        let what: string;
        try {
          what = o.checkEntry(index, entries[i]);
        } catch (e) {
          throw new AuditError('AUDIT_ENTRY', `entry ${index}: ${(e as Error).message}`, {
            index: index.toString(),
            code: (e as { code?: string }).code,
          });
        }
        checked[what] = (checked[what] ?? 0) + 1;
      }
    }
    o.onProgress?.({ done: range.size, from, total: cp.size, requests });
    if (++sinceSave >= saveEvery) {
      saveNow();
      sinceSave = 0;
    }
  }
  if (b64(range.root()) !== b64(cp.root)) {
    // Back to the audited checkpoint: the entries read since are of a tree the log did not sign.
    saveNow(base ? new CompactRange(st.size, base) : new CompactRange());
    throw new AuditError(
      'AUDIT_FORK',
      `the log's ${cp.size} entries hash to ${b64(range.root())}, but its checkpoint says ${b64(cp.root)}: the log shows a tree it did not sign, or a split view`,
      { got: b64(range.root()), want: b64(cp.root) },
    );
  }
  const previousSize = st.size;
  st.size = cp.size;
  st.root = cp.root;
  saveNow();
  return {
    checkpoint: cp,
    note,
    signedBy: opened.signedBy,
    cosignedBy,
    previousSize,
    checked,
    entries: cp.size - from,
    requests,
    resumedAt,
  };
}
