/**
 * The developer's and the auditor's commands against a running service:
 *   bpfsign sign OBJ... --server URL [--token T] [--scheme S] -o DIR    (or offline: --keys DIR)
 *   bpfsign log verify --server URL [--state FILE] [--log-key VKEY] [--policy P | --witness VKEY... [--quorum K]]
 *   bpfsign log proof INDEX --server URL [-o FILE]          C2SP tlog-proof of one entry
 *   bpfsign log check-proof FILE --bundle B --log-key VKEY [witnesses]   offline: the proof is of B's manifest
 * `log verify` checks the checkpoint's signature (and witness cosignatures when asked), then
 * reads the entries it has not audited yet, 256 per request (C2SP entry bundles), checks each
 * manifest's DSSE signature by a certificate of the service's trust bundle, and that the entries
 * build the signed root from the compact range it saved (service/log-audit.ts). Every request
 * follows the retry rule of http.ts (429/503: wait as Retry-After says, else back off).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { objectNameFromPath } from '../loader/object/index.js';
import { buildLoader, skeletonFile, type BuildFlavour } from '../service/loader.js';
import { hostTextOf, type HostOptions } from '../loader/plan/index.js';
import { skeletonFileName, type SkeletonFile, type SkeletonLang } from '../loader/gen/index.js';
import { activeSigner } from '../service/keys.js';
import { signBuilt } from '../service/sign.js';
import { canonicalBytes, type JsonValue } from '../signing/canonical.js';
import { verifyStatement } from '../signing/statement.js';
import { parseCertificate } from '../signing/x509/certificate.js';
import { loaderEntryBytes, loaderEntryFromBundle, parseLoaderEntry, type EntrySource } from '../signing/tlog/entry.js';
import { parseTlogProof, parseVerifierKey, verifyTlogProof } from '../signing/tlog/index.js';
import { checkWitnessQuorum, parseCosignerKey, type CosignatureVerifier } from '../signing/tlog/cosignature.js';
import { parsePolicy } from '../signing/policy.js';
import { auditLog, AuditError, type AuditStateV1, type AuditStateV2 } from '../service/log-audit.js';
import { Progress, eachLimited, type ProgressSink } from './progress.js';
import { CliError, InputError } from './errors.js';
import { stageOutput, type StagedOutput } from './output-dir.js';
import { defaultRetry, http, HttpError, type RetryOptions } from './http.js';

export interface SignOptions {
  server?: string;
  keys?: string;
  token?: string;
  scheme: string;
  out: string;
  /** Signing key id (service: GET /v1/keys; offline: the keyring's ids); default: the active key. */
  key?: string;
  /** Kernel profile: linux-6.18 (default) or linux-6.18-excl (map-exclusivity check). */
  profile?: string;
  /** Objects signed at once (default 4). */
  jobs?: number;
  /** Where progress goes (default: stderr). */
  progress?: ProgressSink;
  /** The light skeleton's language (default 'c'): from the service, or made here offline. */
  lang?: SkeletonLang;
  /** gen's build options: the flavour (default v1.7), a skeleton name (one object only) and the host inputs. */
  flavour?: BuildFlavour;
  name?: string;
  host?: HostOptions;
}

/**
 * The host inputs as the service's form fields (POST /v1/loaders takes the same values as gen's
 * options); what the service does not take is refused here, before any request.
 */
function hostFields(host: HostOptions): Record<string, string> {
  const refuse = (flag: string) => {
    throw new CliError(`${flag} is not an option of the service: sign offline with --keys DIR`);
  };
  if (host.usdtUprobeMulti !== undefined) refuse('--no-usdt-uprobe-multi');
  if (host.hostByteOrder !== undefined) refuse('--hostByteOrder');
  if (Object.values(host.kconfig ?? {}).some((v) => v.includes(','))) refuse('a --kconfig value with a comma');
  return Object.fromEntries(Object.entries(hostTextOf(host)).filter((e): e is [string, string] => e[1] !== undefined));
}

export async function runSign(files: string[], opts: SignOptions, out: (s: string) => void): Promise<number> {
  if (!opts.server === !opts.keys) throw new CliError('sign needs --server URL or, offline, --keys DIR');
  if (opts.profile !== undefined && !['linux-6.18', 'linux-6.18-excl'].includes(opts.profile))
    throw new CliError(`--profile ${opts.profile}: want linux-6.18 or linux-6.18-excl`);
  if (opts.name !== undefined && files.length > 1) throw new CliError('--name names one object: give one object file');
  // What the service does not take is refused before anything is written.
  const host = opts.server ? hostFields(opts.host ?? {}) : {};
  const names = files.map((f) => opts.name ?? objectNameFromPath(f));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new CliError(`two objects would both write ${dup}.bundle.json: rename one`);
  // Written beside -o DIR and moved there once every object is signed: a failure leaves no DIR (or DIR as it was).
  const staged = stageOutput(opts.out);
  try {
    return await signAll(files, names, host, opts, staged, out);
  } finally {
    staged.abort();
  }
}

async function signAll(
  files: string[],
  names: string[],
  host: Record<string, string>,
  opts: SignOptions,
  staged: StagedOutput,
  out: (s: string) => void,
): Promise<number> {
  const progress = files.length > 1 ? new Progress(files.length, opts.progress ?? process.stderr) : null;
  const failures: string[] = [];
  const signOne = async (file: string, name: string): Promise<void> => {
    const bytes = new Uint8Array(readFileSync(file));
    let bundle: unknown;
    let skel: SkeletonFile;
    const lang = opts.lang ?? 'c';
    const build = () =>
      buildLoader(bytes, basename(file), {
        scheme: opts.scheme as 'linux-6.18',
        name,
        flavour: opts.flavour ?? 'v1.7',
        standalone: false,
        mapExcl: opts.profile === 'linux-6.18-excl',
        host: opts.host ?? {},
      });
    if (opts.server) {
      const base = opts.server.replace(/\/$/, '');
      // multipart/form-data: the object and its options in one request.
      const form = new FormData();
      form.set('name', name);
      form.set('scheme', opts.scheme);
      if (opts.key) form.set('key', opts.key);
      if (opts.profile) form.set('profile', opts.profile);
      if (opts.flavour) form.set('flavour', opts.flavour);
      for (const [k, v] of Object.entries(host)) form.set(k, v);
      form.set('object', new Blob([bytes], { type: 'application/octet-stream' }), basename(file));
      const r = await http(`${base}/v1/loaders`, { method: 'POST', body: form, token: opts.token });
      const created = (await r.json()) as { id: string; bundle: unknown; links: { self: string; header: string } };
      bundle = created.bundle;
      // The service makes the skeleton of what it signed (GET …/skeleton?lang=; the C header is …/lskel.h).
      const url = lang === 'c' ? `${base}${created.links.header}` : `${base}${created.links.self}/skeleton?lang=${lang}`;
      skel = { fileName: skeletonFileName(lang, name), text: await (await http(url, { token: opts.token })).text() };
    } else {
      const built = build();
      const key = await activeSigner(opts.keys!, opts.key);
      const signed = await signBuilt(built, key.signer, key.certificates);
      bundle = signed.bundle;
      skel = skeletonFile(built, lang, signed.signature);
    }
    writeFileSync(join(staged.path, `${name}.bundle.json`), JSON.stringify(bundle, null, 2) + '\n');
    writeFileSync(join(staged.path, skel.fileName), skel.text);
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
    out(`signed ${files.length - failures.length} of ${files.length} object(s); nothing written to ${opts.out}`);
    return 1;
  }
  staged.commit();
  out(`signed ${files.length} object(s) into ${opts.out}`);
  return 0;
}

/** Fetches entry `index`'s C2SP tlog-proof from the service (GET /v1/log/proof/{index}). */
export async function runLogProof(
  opts: { server: string; index: string; out?: string; token?: string },
  out: (s: string) => void,
): Promise<number> {
  if (!/^(0|[1-9][0-9]*)$/.test(opts.index)) throw new CliError(`log proof: index ${JSON.stringify(opts.index)} is not a decimal number`);
  const text = await (await http(`${opts.server.replace(/\/$/, '')}/v1/log/proof/${opts.index}`, { token: opts.token })).text();
  if (opts.out) {
    writeFileSync(opts.out, text);
    out(`wrote ${opts.out}`);
  } else out(text.replace(/\n$/, ''));
  return 0;
}

/**
 * Offline: a tlog-proof file against a bundle (its logged manifest envelope is the entry) and a
 * pinned log key. No network.
 */
export function runLogCheckProof(
  opts: { proof: string; bundle: string; logKey?: string; origin?: string } & WitnessOptions,
  out: (s: string) => void,
): number {
  const bundle = JSON.parse(readFileSync(opts.bundle, 'utf8')) as { manifest?: unknown };
  if (!bundle.manifest) throw new CliError(`${opts.bundle}: the bundle has no signed manifest (unsigned loaders are not logged)`);
  const trust = trustFrom(opts);
  if (trust.logKeys.length === 0) throw new CliError('log check-proof needs --log-key VKEY (or a --policy with logKeys)');
  const verifiers = trust.logKeys.map((k) => parseVerifierKey(k));
  const text = readFileSync(opts.proof, 'utf8');
  // The logged entry is the bundle's loader record (tlog/entry.ts), recomputed from the bundle.
  const r = verifyTlogProof(
    text,
    loaderEntryBytes(loaderEntryFromBundle(bundle as EntrySource)),
    verifiers,
    opts.origin ?? verifiers[0].name,
  );
  const cosigned = trust.witnesses
    ? checkWitnessQuorum(parseTlogProof(text).checkpoint, trust.witnesses.verifiers, trust.witnesses.quorum).map((c) => c.name)
    : [];
  out(
    `${opts.proof}: entry ${r.index} of ${r.checkpoint.origin} (tree size ${r.checkpoint.size}) is the bundle's manifest and loader signature (its log record); checkpoint signed by ${r.signedBy.join(', ')}${cosigned.length ? `; cosigned by ${cosigned.join(', ')}` : ''}`,
  );
  return 0;
}

/** Where a client's trust in the log comes from: --log-key, --witness/--quorum, or a policy file's logKeys, witnesses and witnessQuorum. */
export interface WitnessOptions {
  policy?: string;
  witness?: string[];
  quorum?: string;
}

function trustFrom(opts: { logKey?: string } & WitnessOptions): {
  logKeys: string[];
  witnesses: { verifiers: CosignatureVerifier[]; quorum: number } | null;
} {
  let logKeys = opts.logKey ? [opts.logKey] : [];
  let witnessKeys = opts.witness ?? [];
  let quorum: number | undefined;
  if (opts.policy) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(opts.policy, 'utf8'));
    } catch (e) {
      throw new InputError(`${opts.policy}: not a readable JSON policy: ${(e as Error).message}`);
    }
    const p = parsePolicy(data);
    if (logKeys.length === 0) logKeys = p.logKeys;
    if (witnessKeys.length === 0) {
      witnessKeys = p.witnesses.map((w) => w.key);
      quorum = p.witnessQuorum;
    }
  }
  if (opts.quorum !== undefined) {
    quorum = Number(opts.quorum);
    if (!Number.isInteger(quorum) || quorum < 1 || quorum > witnessKeys.length)
      throw new CliError(`--quorum ${opts.quorum}: want an integer 1..${witnessKeys.length} (the witnesses given)`);
  }
  if (witnessKeys.length === 0) return { logKeys, witnesses: null };
  return { logKeys, witnesses: { verifiers: witnessKeys.map(parseCosignerKey), quorum: quorum ?? witnessKeys.length } };
}

/**
 * What the auditor checks of each entry. A loader record (tlog/entry.ts) must be the strict,
 * canonical record, its signer certificate one of the service's trust bundle (by SHA-256 of its
 * DER) — its manifest, behind its digest, is not fetched: that would be a request per entry.
 * A DSSE envelope (the manifest as logs before the records logged it) must verify against a
 * certificate of the trust bundle and be the canonical JSON of itself. Other shapes are counted.
 */
export function manifestEntryCheck(certs: string[]): (index: bigint, body: Uint8Array) => string {
  // Parsed once: each entry is checked against the same few certificates.
  const parsed = certs.map((c) => parseCertificate(c));
  // The check is a function of the bytes: a body seen again (the same manifest logged twice) is
  // not verified twice. Bounded; a real log's bodies are all different and gain nothing.
  const seen = new Set<string>();
  const signerDigests = new Set(parsed.map((c) => createHash('sha256').update(c.der).digest('hex')));
  return (_index, body) => {
    if (body[0] === 0x7b && /"kind":"bpfsign\/loader\/v1"/.test(Buffer.from(body.subarray(0, 1024)).toString('latin1'))) {
      const e = parseLoaderEntry(body);
      if (!signerDigests.has(e.signerCertSha256))
        throw new InputError(`signer certificate ${e.signerCertSha256} is not in the service's trust bundle`, 'AUDIT_ENTRY');
      return 'record';
    }
    const digest = createHash('sha256').update(body).digest('base64');
    if (seen.has(digest)) return 'signed';
    const what = checkOnce(body);
    if (what === 'signed') {
      if (seen.size >= 4096) seen.clear();
      seen.add(digest);
    }
    return what;
  };
  function checkOnce(body: Uint8Array): string {
    let value: JsonValue;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as JsonValue;
    } catch {
      return 'unknown';
    }
    if (!value || typeof value !== 'object' || !('payloadType' in value) || !('signatures' in value)) return 'unknown';
    const v = verifyStatement(value, parsed);
    if (!v.ok) throw new InputError(`manifest signature does not verify: ${v.error.message}`, 'AUDIT_ENTRY');
    if (Buffer.compare(Buffer.from(canonicalBytes(value)), Buffer.from(body)) !== 0)
      throw new InputError('logged bytes are not canonical JSON', 'AUDIT_ENTRY');
    return 'signed';
  }
}

/** C2SP tile path of entry bundle N: "x001/x234/067" (groups of three digits, all but the last prefixed x). */
export function tilePath(n: bigint): string {
  let digits = n.toString();
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = digits.match(/.{3}/g)!;
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

export interface LogVerifyOptions extends WitnessOptions {
  server: string;
  state?: string;
  logKey?: string;
  token?: string;
  /** Where the progress bar goes (default: stderr, drawn only on a terminal). */
  progress?: ProgressSink;
  retry?: RetryOptions;
}

/** Writes the state atomically: a kill leaves the old file or the new one, never half of one. */
function saveState(path: string, s: AuditStateV2): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, path);
}

export async function runLogVerify(opts: LogVerifyOptions, out: (s: string) => void): Promise<number> {
  const base = opts.server.replace(/\/$/, '');
  const sink = opts.progress ?? process.stderr;
  let bar = null as AuditBar | null;
  const retry: RetryOptions = {
    ...(opts.retry ?? defaultRetry),
    onRetry: (i) => {
      (bar ? bar.note.bind(bar) : (m: string) => sink.write(m + '\n'))(
        `${i.status} from the server; waiting ${(i.waitMs / 1000).toFixed(1)} s${i.retryAfter !== null ? ' (its Retry-After)' : ''}`,
      );
    },
  };
  const get = (path: string) => http(`${base}${path}`, { token: opts.token, retry });
  const keys = (await (await get('/v1/keys')).json()) as { caCertificate: string; keys: { certificate: string }[]; logKey: string };
  const trust = trustFrom(opts);
  // An auditor should pin the log key (--log-key or a policy); fetching it from the server is trust on first use.
  const logKeys = (trust.logKeys.length ? trust.logKeys : [keys.logKey]).map((k) => parseVerifierKey(k));
  let state: AuditStateV1 | AuditStateV2 | null = null;
  if (opts.state && existsSync(opts.state)) {
    try {
      state = JSON.parse(readFileSync(opts.state, 'utf8')) as AuditStateV2;
    } catch (e) {
      throw new InputError(`${opts.state}: not an audit state file: ${(e as Error).message}`, 'AUDIT_STATE');
    }
  }
  try {
    const r = await auditLog({
      source: {
        checkpoint: async () => (await get('/v1/log/checkpoint')).text(),
        entryBundle: async (n, w) => {
          try {
            return new Uint8Array(await (await get(`/v1/log/tile/entries/${tilePath(n)}${w < 256 ? `.p/${w}` : ''}`)).arrayBuffer());
          } catch (e) {
            if (e instanceof HttpError && e.status === 404) return null;
            throw e;
          }
        },
      },
      logKeys,
      witnesses: trust.witnesses ?? undefined,
      state,
      save: (s) => {
        if (opts.state) saveState(opts.state, s);
      },
      checkEntry: manifestEntryCheck(keys.keys.map((k) => k.certificate)),
      onProgress: (p) => {
        if (!sink.isTTY) return;
        bar ??= new AuditBar(sink, p.from, p.total);
        bar.draw(p.done, p.requests);
      },
    });
    bar?.end();
    const signed = r.checked.signed ?? 0,
      records = r.checked.record ?? 0,
      unknown = r.checked.unknown ?? 0;
    const n = Number(r.entries);
    out(
      `log ${r.checkpoint.origin}: size ${r.checkpoint.size}, checkpoint signature OK${r.cosignedBy.length ? `, cosigned by ${r.cosignedBy.join(', ')}` : ''}${r.previousSize > 0n ? `, consistent with size ${r.previousSize}` : ''}; ` +
        `${signed + records + unknown} new entr${signed + records + unknown === 1 ? 'y' : 'ies'} included` +
        (unknown || (signed && records)
          ? ` (${records} loader records of known signers, ${signed} signed manifests, ${unknown} of another shape not checked)`
          : records
            ? ', loader records of known signers'
            : ' and signed') +
        `; ${n} entries read in ${r.requests} requests${r.resumedAt !== null ? `, resumed at entry ${r.resumedAt}` : ''}`,
    );
    return 0;
  } catch (e) {
    bar?.end();
    if (e instanceof AuditError) {
      out(`log audit FAILED: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** One line redrawn in place: `[#####.....] 51200/100000 entries  12000/s  201 requests  ~4s left`. */
class AuditBar {
  readonly #start = performance.now();
  #last = 0;
  constructor(
    private readonly sink: ProgressSink,
    private readonly from: bigint,
    private readonly total: bigint,
  ) {}
  draw(done: bigint, requests: number): void {
    const now = performance.now();
    if (now - this.#last < 100 && done < this.total) return;
    this.#last = now;
    const span = Number(this.total - this.from) || 1,
      got = Number(done - this.from);
    const width = Math.max(10, Math.min(30, (this.sink.columns ?? 80) - 60));
    const filled = Math.round((got / span) * width);
    const rate = got / Math.max(1e-3, (now - this.#start) / 1000);
    const left = rate > 0 ? Math.ceil((span - got) / rate) : 0;
    this.sink.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} entries  ${rate.toFixed(0)}/s  ${requests} requests  ~${left}s left\x1b[K`,
    );
  }
  note(m: string): void {
    this.sink.write(`\r${m}\x1b[K`);
  }
  end(): void {
    this.sink.write('\n');
  }
}
