/**
 * The developer's and the auditor's commands against a running service:
 *   bpfsign sign OBJ... --server URL [--token T] [--scheme S] -o DIR    (or offline: --keys DIR)
 *   bpfsign log verify --server URL [--state FILE] [--log-key VKEY]
 *   bpfsign log proof INDEX --server URL [-o FILE]          C2SP tlog-proof of one entry
 *   bpfsign log check-proof FILE --bundle B --log-key VKEY   offline: the proof is of B's manifest
 * `log verify` checks the checkpoint's signature, its consistency with the last checkpoint this
 * auditor saw (kept in the state file), then walks every new entry: inclusion proof, and the
 * manifest's DSSE signature by a certificate of the service's trust bundle.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { objectNameFromPath } from '../loader/object/index.js';
import { buildLoader, signedHeader } from '../service/loader.js';
import { activeSigner } from '../service/keys.js';
import { signBuilt } from '../service/sign.js';
import { canonicalBytes } from '../signing/canonical.js';
import { verifyStatement } from '../signing/statement.js';
import { hashLeaf, openNote, parseCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion, verifyTlogProof } from '../signing/tlog/index.js';
import { Progress, eachLimited, type ProgressSink } from './progress.js';
import { CliError } from './errors.js';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

async function http(url: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  let r: Response;
  try {
    r = await fetch(url, { ...init, headers });
  } catch (e) {
    throw Object.assign(new Error(`cannot reach ${url}: ${(e as Error).message}`), { code: 'UNREACHABLE' });
  }
  if (!r.ok) {
    const body = await r.text();
    let detail = body;
    try { const p = JSON.parse(body) as { code?: string; detail?: string }; detail = `${p.code}: ${p.detail}`; } catch { /* not problem+json */ }
    throw Object.assign(new Error(`${init.method ?? 'GET'} ${url}: ${r.status} ${detail}`), { code: `HTTP_${r.status}` });
  }
  return r;
}

export interface SignOptions {
  server?: string; keys?: string; token?: string; scheme: string; out: string;
  /** Signing key id (service: GET /v1/keys; offline: the keyring's ids); default: the active key. */
  key?: string;
  /** Kernel profile: linux-6.18 (default) or linux-6.18-excl (map-exclusivity check). */
  profile?: string;
  /** Objects signed at once (default 4). */
  jobs?: number;
  /** Where progress goes (default: stderr). */
  progress?: ProgressSink;
}

export async function runSign(files: string[], opts: SignOptions, out: (s: string) => void): Promise<number> {
  if (!opts.server === !opts.keys) throw new CliError('sign needs --server URL or, offline, --keys DIR');
  if (opts.profile !== undefined && !['linux-6.18', 'linux-6.18-excl'].includes(opts.profile)) throw new CliError(`--profile ${opts.profile}: want linux-6.18 or linux-6.18-excl`);
  const names = files.map((f) => objectNameFromPath(f));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new CliError(`two objects would both write ${dup}.bundle.json: rename one`);
  mkdirSync(opts.out, { recursive: true });
  const progress = files.length > 1 ? new Progress(files.length, opts.progress ?? process.stderr) : null;
  const failures: string[] = [];
  const signOne = async (file: string, name: string): Promise<void> => {
    const bytes = new Uint8Array(readFileSync(file));
    let bundle: unknown;
    let header: string;
    if (opts.server) {
      const base = opts.server.replace(/\/$/, '');
      // multipart/form-data: the object and its options in one request.
      const form = new FormData();
      form.set('name', name);
      form.set('scheme', opts.scheme);
      if (opts.key) form.set('key', opts.key);
      if (opts.profile) form.set('profile', opts.profile);
      form.set('object', new Blob([bytes], { type: 'application/octet-stream' }), basename(file));
      const r = await http(`${base}/v1/loaders`, { method: 'POST', body: form, token: opts.token });
      const created = (await r.json()) as { id: string; bundle: unknown; links: { header: string } };
      bundle = created.bundle;
      header = await (await http(`${base}${created.links.header}`, { token: opts.token })).text();
    } else {
      const built = buildLoader(bytes, basename(file), { scheme: opts.scheme as 'linux-6.18', name, flavour: 'v1.7', standalone: false, mapExcl: opts.profile === 'linux-6.18-excl', host: {} });
      const key = await activeSigner(opts.keys!, opts.key);
      const signed = await signBuilt(built, key.signer, key.certificates);
      bundle = signed.bundle;
      header = signedHeader(built, signed.signature);
    }
    writeFileSync(join(opts.out, `${name}.bundle.json`), JSON.stringify(bundle, null, 2) + '\n');
    writeFileSync(join(opts.out, `${name}.lskel.h`), header);
  };
  await eachLimited(files, opts.jobs ?? 4, async (file, i) => {
    try {
      await signOne(file, names[i]);
      progress?.tick(names[i]);
    } catch (e) {
      failures.push(`${file}: ${(e as Error).message}`);
      progress?.tick(names[i], false, (e as Error).message);
      if (!progress) throw e;
    }
  });
  if (failures.length) {
    for (const f of failures) out(`failed: ${f}`);
    out(`signed ${files.length - failures.length} of ${files.length} object(s) into ${opts.out}`);
    return 1;
  }
  out(`signed ${files.length} object(s) into ${opts.out}`);
  return 0;
}

/** Fetches entry `index`'s C2SP tlog-proof from the service (GET /v1/log/proof/{index}). */
export async function runLogProof(opts: { server: string; index: string; out?: string; token?: string }, out: (s: string) => void): Promise<number> {
  if (!/^(0|[1-9][0-9]*)$/.test(opts.index)) throw new CliError(`log proof: index ${JSON.stringify(opts.index)} is not a decimal number`);
  const text = await (await http(`${opts.server.replace(/\/$/, '')}/v1/log/proof/${opts.index}`, { token: opts.token })).text();
  if (opts.out) { writeFileSync(opts.out, text); out(`wrote ${opts.out}`); } else out(text.replace(/\n$/, ''));
  return 0;
}

/**
 * Offline: a tlog-proof file against a bundle (its logged manifest envelope is the entry) and a
 * pinned log key. No network.
 */
export function runLogCheckProof(opts: { proof: string; bundle: string; logKey: string; origin?: string }, out: (s: string) => void): number {
  const bundle = JSON.parse(readFileSync(opts.bundle, 'utf8')) as { manifest?: unknown };
  if (!bundle.manifest) throw new CliError(`${opts.bundle}: the bundle has no signed manifest (unsigned loaders are not logged)`);
  const verifier = parseVerifierKey(opts.logKey);
  const r = verifyTlogProof(readFileSync(opts.proof, 'utf8'), canonicalBytes(bundle.manifest as never), [verifier], opts.origin ?? verifier.name);
  out(`${opts.proof}: entry ${r.index} of ${r.checkpoint.origin} (tree size ${r.checkpoint.size}) is the bundle's manifest; checkpoint signed by ${r.signedBy.join(', ')}`);
  return 0;
}

interface AuditState { origin: string; size: string; root: string }

export async function runLogVerify(opts: { server: string; state?: string; logKey?: string; token?: string }, out: (s: string) => void): Promise<number> {
  const base = opts.server.replace(/\/$/, '');
  const trust = (await (await http(`${base}/v1/keys`, { token: opts.token })).json()) as { caCertificate: string; keys: { certificate: string }[]; logKey: string };
  // An auditor should pin the log key (--log-key); fetching it from the server is trust on first use.
  const verifier = parseVerifierKey(opts.logKey ?? trust.logKey);
  const note = await (await http(`${base}/v1/log/checkpoint`, { token: opts.token })).text();
  const cp = parseCheckpoint(openNote(note, [verifier]).text);
  const prev: AuditState | null = opts.state && existsSync(opts.state) ? JSON.parse(readFileSync(opts.state, 'utf8')) as AuditState : null;
  const from = prev ? BigInt(prev.size) : 0n;
  if (prev) {
    if (prev.origin !== cp.origin) throw new CliError(`log origin changed: ${prev.origin} → ${cp.origin}`);
    if (cp.size < from) throw new CliError(`log shrank: ${from} → ${cp.size} (a fork or a rollback)`);
    if (from > 0n && cp.size > from) {
      const c = (await (await http(`${base}/v1/log/consistency?from=${from}&to=${cp.size}`, { token: opts.token })).json()) as { hashes: string[] };
      verifyConsistency(from, cp.size, b64(prev.root), cp.root, c.hashes.map(b64));
    } else if (cp.size === from && Buffer.from(cp.root).toString('base64') !== prev.root) {
      throw new CliError(`same size ${from}, different root: the log forked`);
    }
  }
  const certs = [...trust.keys.map((k) => k.certificate)];
  let manifests = 0;
  for (let i = from; i < cp.size; i++) {
    const e = (await (await http(`${base}/v1/log/entries/${i}`, { token: opts.token })).json()) as { body: string; kind: string; inclusionProof: { treeSize: string; hashes: string[]; checkpoint: string } };
    const body = b64(e.body);
    const pcp = parseCheckpoint(openNote(e.inclusionProof.checkpoint, [verifier]).text);
    verifyInclusion(i, pcp.size, hashLeaf(body), e.inclusionProof.hashes.map(b64), pcp.root);
    const envelope = JSON.parse(new TextDecoder().decode(body)) as unknown;
    const v = verifyStatement(envelope, certs);
    if (!v.ok) throw new CliError(`entry ${i}: manifest signature does not verify: ${v.error.message}`);
    if (Buffer.compare(Buffer.from(canonicalBytes(envelope as never)), Buffer.from(body)) !== 0) throw new CliError(`entry ${i}: logged bytes are not canonical JSON`);
    manifests++;
  }
  if (opts.state) writeFileSync(opts.state, JSON.stringify({ origin: cp.origin, size: cp.size.toString(), root: Buffer.from(cp.root).toString('base64') } satisfies AuditState, null, 2) + '\n');
  out(`log ${cp.origin}: size ${cp.size}, checkpoint signature OK${prev ? `, consistent with size ${from}` : ''}; ${manifests} new entr${manifests === 1 ? 'y' : 'ies'} included and signed`);
  return 0;
}
