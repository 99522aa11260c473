/**
 * Reading the log like a person, each answer checked before it is printed:
 *   bpfsign log get INDEX --server URL [--log-key VKEY] [--json]
 *       the decoded entry (tlog/entry.ts), its inclusion proved under a checkpoint signed by the
 *       log key
 *   bpfsign manifest get SHA256 --server URL [--log-key VKEY] [--json]
 *       the signed manifests with this digest (the manifest's own, or its object's or loader's),
 *       each shown with its log entry: included, and naming exactly this manifest
 * Without --log-key the key comes from the server's /v1/keys (trust on first use; say so).
 */
import { canonicalBytes } from '../signing/canonical.js';
import { sha256Hex } from '../shared/bytes.js';
import {
  hashLeaf,
  openNote,
  parseCheckpoint,
  parseLoaderEntry,
  parseVerifierKey,
  verifyInclusion,
  type LoaderEntry,
  type NoteVerifier,
} from '../signing/tlog/index.js';
import { CliError } from './errors.js';

export interface LogReadOptions {
  server: string;
  logKey?: string;
  token?: string;
  json: boolean;
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

async function getJson<T>(url: string, token?: string): Promise<T> {
  let r: Response;
  try {
    r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    throw Object.assign(new Error(`cannot reach ${url}: ${(e as Error).message}`), { code: 'UNREACHABLE' });
  }
  const text = await r.text();
  if (!r.ok) {
    let detail = text;
    try {
      const p = JSON.parse(text) as { code?: string; detail?: string };
      detail = `${p.code}: ${p.detail}`;
    } catch {
      /* not problem+json */
    }
    throw Object.assign(new Error(`GET ${url}: ${r.status} ${detail}`), { code: `HTTP_${r.status}` });
  }
  return JSON.parse(text) as T;
}

interface EntryAnswer {
  index: string;
  kind: string;
  ref: string;
  createdAt: string;
  body: string;
  inclusionProof: { treeSize: string; hashes: string[]; checkpoint: string };
}

/** What `log get` found: the entry, where it is, and the checkpoint it was proved under. */
export interface CheckedEntry {
  index: string;
  ref: string;
  createdAt: string;
  leafHash: string;
  entry: LoaderEntry;
  checkpoint: { origin: string; size: string; signedBy: string[] };
}

async function logVerifier(base: string, opts: LogReadOptions): Promise<{ verifier: NoteVerifier; pinned: boolean }> {
  if (opts.logKey) return { verifier: parseVerifierKey(opts.logKey), pinned: true };
  const trust = await getJson<{ logKey: string }>(`${base}/v1/keys`, opts.token);
  return { verifier: parseVerifierKey(trust.logKey), pinned: false };
}

/** Fetches entry `index`, checks its inclusion proof under a signed checkpoint, and decodes it. */
async function checkedEntry(base: string, index: string, verifier: NoteVerifier, token?: string): Promise<CheckedEntry> {
  const e = await getJson<EntryAnswer>(`${base}/v1/log/entries/${index}`, token);
  if (e.index !== index) throw new CliError(`log entry ${index}: the server answered entry ${e.index}`);
  const body = b64(e.body);
  const note = openNote(e.inclusionProof.checkpoint, [verifier]);
  const cp = parseCheckpoint(note.text);
  const leaf = hashLeaf(body);
  verifyInclusion(BigInt(index), cp.size, leaf, e.inclusionProof.hashes.map(b64), cp.root);
  return {
    index,
    ref: e.ref,
    createdAt: e.createdAt,
    leafHash: Buffer.from(leaf).toString('base64'),
    entry: parseLoaderEntry(body),
    checkpoint: { origin: cp.origin, size: cp.size.toString(), signedBy: note.signedBy },
  };
}

const entryLines = (c: CheckedEntry): string[] => [
  `entry ${c.index} of ${c.checkpoint.origin} (${c.entry.kind}), logged ${c.createdAt}, loader ${c.ref}`,
  `  manifest   sha256:${c.entry.manifestSha256}`,
  `  object     sha256:${c.entry.objectSha256}`,
  `  loader     insns sha256:${c.entry.insnsSha256}`,
  `             data  sha256:${c.entry.dataSha256}`,
  `  scheme     ${c.entry.scheme}`,
  `  signer     certificate sha256:${c.entry.signerCertSha256}`,
  `  signature  ${b64(c.entry.loaderSignature).length} bytes of PKCS#7`,
  `  included   under the checkpoint of size ${c.checkpoint.size} signed by ${c.checkpoint.signedBy.join(', ')} (leaf ${c.leafHash})`,
];

export async function runLogGet(index: string, opts: LogReadOptions, out: (s: string) => void): Promise<number> {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(index)) throw new CliError(`log get: index ${JSON.stringify(index)} is not a decimal number`);
  const base = opts.server.replace(/\/$/, '');
  const { verifier, pinned } = await logVerifier(base, opts);
  const c = await checkedEntry(base, index, verifier, opts.token);
  if (opts.json) out(JSON.stringify({ ...c, logKeyPinned: pinned }, null, 2));
  else out([...entryLines(c), ...(pinned ? [] : ["  (log key from the server's /v1/keys: pin it with --log-key)"])].join('\n'));
  return 0;
}

interface ManifestsAnswer {
  manifests: { id: string; createdAt: string; logIndex: string | null; envelope: { payload: string; payloadType: string } | null }[];
}

export async function runManifestGet(sha256: string, opts: LogReadOptions, out: (s: string) => void): Promise<number> {
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new CliError(`manifest get: ${JSON.stringify(sha256)} is not a SHA-256 (64 lowercase hex digits)`);
  const base = opts.server.replace(/\/$/, '');
  const { verifier, pinned } = await logVerifier(base, opts);
  const { manifests } = await getJson<ManifestsAnswer>(`${base}/v1/manifests/${sha256}`, opts.token);
  if (manifests.length === 0)
    throw Object.assign(new Error(`no signed manifest has SHA-256 ${sha256} (nor an object or loader with it)`), {
      code: 'MANIFEST_NOT_FOUND',
    });
  const shown = [];
  for (const m of manifests) {
    if (m.envelope === null) throw new CliError(`loader ${m.id}: unsigned, no manifest`);
    const digest = sha256Hex(canonicalBytes(m.envelope as never));
    if (m.logIndex === null) throw new CliError(`loader ${m.id}: its manifest is not in the log`);
    const c = await checkedEntry(base, m.logIndex, verifier, opts.token);
    if (c.entry.manifestSha256 !== digest) {
      throw Object.assign(
        new Error(`loader ${m.id}: log entry ${m.logIndex} names manifest ${c.entry.manifestSha256}, the server's manifest is ${digest}`),
        { code: 'MANIFEST_NOT_LOGGED' },
      );
    }
    const statement = JSON.parse(Buffer.from(m.envelope.payload, 'base64').toString('utf8')) as {
      subject: { name: string; digest: { sha256: string } }[];
      predicateType: string;
      predicate: Record<string, unknown>;
    };
    shown.push({ id: m.id, createdAt: m.createdAt, manifestSha256: digest, logEntry: c, statement });
  }
  if (opts.json) {
    out(JSON.stringify({ manifests: shown, logKeyPinned: pinned }, null, 2));
    return 0;
  }
  const lines: string[] = [];
  for (const s of shown) {
    const p = s.statement.predicate as {
      object?: { name?: string; file?: string; sha256?: string; size?: number };
      scheme?: string;
      generator?: unknown;
      kernelProfile?: { name?: string };
    };
    lines.push(
      `manifest sha256:${s.manifestSha256} (${s.statement.predicateType}) of loader ${s.id}, made ${s.createdAt}`,
      `  object     ${p.object?.name ?? '?'} (${p.object?.file ?? '?'}, ${p.object?.size ?? '?'} bytes) sha256:${p.object?.sha256 ?? '?'}`,
      `  scheme     ${p.scheme ?? '?'}${p.kernelProfile?.name ? `, kernel profile ${p.kernelProfile.name}` : ''}`,
      ...s.statement.subject.map((x) => `  subject    ${x.name} sha256:${x.digest.sha256}`),
      `  logged     entry ${s.logEntry.index} of ${s.logEntry.checkpoint.origin}, included under the checkpoint of size ${s.logEntry.checkpoint.size} signed by ${s.logEntry.checkpoint.signedBy.join(', ')}`,
    );
  }
  if (!pinned) lines.push("(log key from the server's /v1/keys: pin it with --log-key)");
  out(lines.join('\n'));
  return 0;
}
