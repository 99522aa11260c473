/**
 * C2SP tlog-proof@v1 (c2sp.org/tlog-proof): an offline-verifiable proof that an entry is in a
 * log — the entry's index, its RFC 6962 audit path and the signed checkpoint, as text:
 *
 *   c2sp.org/tlog-proof@v1\n
 *   [extra <base64>\n]
 *   index <decimal>\n
 *   <base64 hash>\n …                  ← leaf sibling first, root child last
 *   \n
 *   <checkpoint, verbatim signed note>
 */
import { HASH_SIZE, hashLeaf } from './hasher.js';
import { TlogError } from './errors.js';
import { openNote, parseCheckpoint, type Checkpoint, type NoteVerifier } from './checkpoint.js';
import { verifyInclusion } from './verify.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  index: bigint;
  hashes: Uint8Array[];
  /** The signed note, verbatim. */
  checkpoint: string;
  /** Opaque, unauthenticated extra data. */
  extra?: Uint8Array;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${b64(p.extra)}`);
  lines.push(`index ${p.index.toString()}`, ...p.hashes.map(b64));
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

export function parseTlogProof(text: string): TlogProof {
  const bad = (m: string, line: number, got?: string) =>
    new TlogError('TLOG_PROOF_MALFORMED', `tlog-proof line ${line}: ${m}`, {
      line,
      ...(got === undefined ? {} : { got: got.slice(0, 80) }),
    });
  const split = text.indexOf('\n\n');
  if (split < 0) throw bad('no blank line before the checkpoint', 1);
  const head = text.slice(0, split).split('\n');
  const checkpoint = text.slice(split + 2);
  if (head[0] !== TLOG_PROOF_HEADER) throw bad(`want ${JSON.stringify(TLOG_PROOF_HEADER)}`, 1, head[0]);
  let i = 1;
  let extra: Uint8Array | undefined;
  if (head[i]?.startsWith('extra ')) {
    const e = head[i].slice('extra '.length);
    if (!B64.test(e) || e.length % 4 !== 0) throw bad('extra is not base64', i + 1, e);
    extra = new Uint8Array(Buffer.from(e, 'base64'));
    i++;
  }
  const m = /^index (0|[1-9][0-9]{0,19})$/.exec(head[i] ?? '');
  if (!m) throw bad('want "index <decimal>" without leading zeroes', i + 1, head[i] ?? '');
  const index = BigInt(m[1]);
  const hashes: Uint8Array[] = [];
  for (let j = i + 1; j < head.length; j++) {
    const h = head[j];
    const bytes = B64.test(h) ? new Uint8Array(Buffer.from(h, 'base64')) : new Uint8Array();
    if (bytes.length !== HASH_SIZE || b64(bytes) !== h) throw bad(`want a base64 SHA-256 hash (${HASH_SIZE} bytes)`, j + 1, h);
    hashes.push(bytes);
  }
  if (hashes.length > 64) throw bad(`${hashes.length} hashes: a proof has at most 64`, i + 2);
  return { index, hashes, checkpoint, ...(extra === undefined ? {} : { extra }) };
}

/**
 * Verifies a proof offline: the checkpoint is signed by one of `verifiers` and names `origin`,
 * and `entry` (the logged bytes) hashes to a leaf at `index` under the checkpoint's root.
 */
export function verifyTlogProof(
  text: string,
  entry: Uint8Array,
  verifiers: NoteVerifier[],
  origin: string,
): { index: bigint; checkpoint: Checkpoint; signedBy: string[] } {
  const p = parseTlogProof(text);
  const { text: body, signedBy } = openNote(p.checkpoint, verifiers);
  const checkpoint = parseCheckpoint(body);
  if (checkpoint.origin !== origin) {
    throw new TlogError(
      'TLOG_CHECKPOINT_MALFORMED',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)}, want ${JSON.stringify(origin)}`,
      { field: 'origin', got: checkpoint.origin, want: origin },
    );
  }
  verifyInclusion(p.index, checkpoint.size, hashLeaf(entry), p.hashes, checkpoint.root);
  return { index: p.index, checkpoint, signedBy };
}
