/**
 * `bpfsign verify DIR|BUNDLE|FILE.lskel.h [--object OBJ] (--policy FILE | --trust CERT.pem ...)
 *   [--log-key FILE|KEY ...] [--offline] [--cert CHAIN.pem] [--profile host|DIR|BTF] [--json]`
 * exits 0 on OK, 1 on any other verdict, 2 when the input cannot be read. `--trust` is a strict
 * policy rooted at those certificates, which requires a log inclusion proof unless --offline.
 * `bpfsign keys create|list|rotate [--dir DIR]` manages development keys.
 */
import { jsonReplacer } from '../shared/json.js';
import { JsonParseError, parseJsonStrict } from '../shared/strict-json.js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BundleFormatError, parseBundle } from '../signing/bundle.js';
import { parsePolicy, PolicyFormatError, STRICT, type TrustPolicy } from '../signing/policy.js';
import { parseVerifierKey } from '../signing/tlog/index.js';
import { withCheck, type CheckResult, type Verdict } from '../signing/verdict.js';
import type { ReplayOutcome } from '../signing/verify.js';
import { loadProfile, rebuiltFor, verifyBundle, withHelperIds } from '../service/verify.js';
import { checkBundleFiles, type FilesCheck } from '../service/verify-files.js';
import { HeaderFormatError, verifyHeader } from '../service/verify-header.js';
import { createKeyring, listKeys, rotateKey } from '../service/keys.js';
import { CliError, InputError } from './errors.js';
import { logKeyFrom, readInput } from './input.js';

export interface VerifyCliOptions {
  object?: string;
  policy?: string;
  /** --trust CERT.pem (repeatable): a strict policy rooted at these certificates. */
  trust?: string[];
  /** --log-key FILE|KEY (repeatable): the log's verifier keys (C2SP note key), a file holding one or the text. */
  logKey?: string[];
  /** --offline: do not require a log inclusion proof. */
  offline?: boolean;
  /** --cert FILE: certificates given beside a header (signer, intermediates), PEM. */
  cert?: string;
  profile?: string;
  json: boolean;
  now?: Date;
}

/** Reads a file for verify, or says in one line why it cannot. */

/** JSON read strictly (duplicate keys refused, with their path), as the service reads it. */
function readJson(path: string, what: string): unknown {
  const text = readInput(path, what).toString('utf8');
  try {
    return parseJsonStrict(text);
  } catch (e) {
    if (e instanceof JsonParseError) throw new InputError(`${what} ${path}: ${e.message}`, e.code, { path: e.path, offset: e.offset });
    throw e;
  }
}

const PEM_CERTS = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

function policyFrom(opts: VerifyCliOptions): TrustPolicy {
  if (!opts.policy === !opts.trust?.length) throw new CliError('verify needs exactly one of --policy FILE or --trust CERT.pem');
  let policy: TrustPolicy;
  try {
    if (opts.policy) {
      policy = parsePolicy(readJson(opts.policy, '--policy'));
      if (opts.logKey?.length) policy = { ...policy, logKeys: [...policy.logKeys, ...opts.logKey.map(logKeyFrom)] };
    } else {
      const roots = opts.trust!.flatMap((f) => {
        const certs = readInput(f, '--trust').toString('utf8').match(PEM_CERTS) ?? [];
        if (!certs.length) throw new InputError(`--trust ${f}: no PEM certificate in it`, 'TRUST_INVALID');
        return certs;
      });
      const logKeys = (opts.logKey ?? []).map(logKeyFrom);
      if (!opts.offline && logKeys.length === 0) {
        throw new CliError(
          "verify --trust requires log inclusion: give the log's key with --log-key FILE|KEY (GET /v1/keys answers it), or say --offline",
        );
      }
      policy = parsePolicy({ version: 1, name: `strict (${opts.trust!.join(', ')})`, roots, logKeys, checks: STRICT });
    }
  } catch (e) {
    if (e instanceof PolicyFormatError)
      throw new InputError(`${opts.policy ? `--policy ${opts.policy}` : '--trust'}: ${e.message}`, e.code, { issues: e.issues });
    throw e;
  }
  try {
    policy = withHelperIds(policy);
  } catch (e) {
    if (e instanceof PolicyFormatError) throw new InputError(`--policy ${opts.policy}: ${e.message}`, e.code, { issues: e.issues });
    throw e;
  }
  return opts.offline ? { ...policy, checks: { ...policy.checks, transparencyLog: 'skip' } } : policy;
}

type Target = { kind: 'dir'; dir: string } | { kind: 'header'; file: string } | { kind: 'bundle'; file: string };

function targetOf(path: string): Target {
  if (!existsSync(path)) throw new InputError(`${path}: no such file or directory`, 'INPUT_UNREADABLE');
  if (statSync(path).isDirectory()) return { kind: 'dir', dir: path };
  const head = readInput(path, 'verify').subarray(0, 8192).toString('latin1');
  if (path.endsWith('.h') || head.includes('struct bpf_loader_ctx')) return { kind: 'header', file: path };
  if (/^\s*\{/.test(head)) return { kind: 'bundle', file: path };
  throw new InputError(`${path}: not a bundle (JSON), a light skeleton header or a gen directory`, 'INPUT_INVALID');
}

/** A gen directory's regular files (name → bytes); anything else in it is an extra file too. */
function readDir(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    files.set(e.name, e.isFile() ? new Uint8Array(readInput(join(dir, e.name), 'verify')) : new Uint8Array(0));
  }
  return files;
}

function bundleFrom(json: unknown, where: string) {
  try {
    return parseBundle(json);
  } catch (e) {
    if (e instanceof BundleFormatError) throw new InputError(`${where}: ${e.message}`, e.code, { issues: e.issues });
    throw e;
  }
}

function filesResult(r: FilesCheck): Omit<CheckResult, 'level'> {
  if (r.ok)
    return { check: 'files', status: 'pass', message: `every file is the signed bundle's (${r.checked.length}: ${r.checked.join(', ')})` };
  return {
    check: 'files',
    status: 'fail',
    code: 'MISMATCH',
    message: r.problems.map((p) => p.message).join('; '),
    details: { problems: r.problems },
  };
}

const STATUS: Record<CheckResult['status'], string> = { pass: 'pass', fail: 'FAIL', skipped: 'skip' };

/**
 * `bpfsign verify DIR|BUNDLE|FILE.lskel.h`: exit 0 when the verdict is OK, 1 when it is not, 2 when
 * the input could not be read (one line on stderr).
 */
export function runVerify(target: string, opts: VerifyCliOptions, out: (s: string) => void): number {
  const t = targetOf(target);
  const policy = policyFrom(opts);
  const object = opts.object ? new Uint8Array(readInput(opts.object, '--object')) : undefined;
  const at = opts.now ?? new Date();
  let profile;
  try {
    profile = loadProfile(opts.profile);
  } catch (e) {
    throw new InputError(`--profile ${opts.profile ?? 'host'}: ${(e as Error).message}`, 'PROFILE_INVALID');
  }
  let verdict: Verdict<ReplayOutcome>;
  let subject: string;
  if (t.kind === 'header') {
    const certificates = opts.cert ? (readInput(opts.cert, '--cert').toString('utf8').match(PEM_CERTS) ?? []) : [];
    let r;
    try {
      r = verifyHeader(readInput(t.file, 'verify').toString('utf8'), policy, {
        at,
        object,
        objectFile: opts.object ? basename(opts.object) : undefined,
        profile,
        certificates,
      });
    } catch (e) {
      if (e instanceof HeaderFormatError) throw new InputError(`${t.file}: ${e.message}`, e.code, e.details);
      throw e;
    }
    verdict = r.verdict;
    subject = `light skeleton ${r.header.name} (${r.header.scheme}, ${r.header.maps} maps, ${r.header.progs} programs${r.header.flavour ? `, re-derived with flavour ${r.header.flavour}` : ''})`;
  } else {
    const file = t.kind === 'dir' ? join(t.dir, 'bundle.json') : t.file;
    const bundle = bundleFrom(readJson(file, 'bundle'), file);
    verdict = verifyBundle(bundle, policy, { at, object, profile });
    subject = `bundle ${file}`;
    if (t.kind === 'dir') {
      const built = object ? rebuiltFor(bundle, object) : null;
      verdict = withCheck(verdict, policy, filesResult(checkBundleFiles(readDir(t.dir), bundle, built)));
    }
  }
  if (opts.json) {
    out(JSON.stringify({ ...verdict, replay: verdict.replay ? { ...verdict.replay, report: undefined } : null }, jsonReplacer, 2));
  } else {
    const lines = [`${verdict.verdict}  ${subject}  (policy ${verdict.policy}, scheme ${verdict.scheme ?? '-'})`];
    if (verdict.signer) lines.push(`signer: ${verdict.signer.subject} (SKI ${verdict.signer.subjectKeyIdentifier})`);
    for (const c of verdict.checks)
      lines.push(`  ${STATUS[c.status].padEnd(4)} ${c.check.padEnd(15)} ${c.level.padEnd(7)} ${c.code ? `[${c.code}] ` : ''}${c.message}`);
    out(lines.join('\n'));
  }
  return verdict.ok ? 0 : 1;
}

export async function runKeys(action: string | undefined, opts: { dir: string; json: boolean }, out: (s: string) => void): Promise<number> {
  const now = new Date();
  switch (action) {
    case 'create': {
      const k = await createKeyring(opts.dir, now);
      out(`DEVELOPMENT KEYS created in ${opts.dir}: local CA ${join(opts.dir, 'ca.pem')}, active signing key ${k.id}. Not for production.`);
      return 0;
    }
    case 'rotate': {
      const k = await rotateKey(opts.dir, now);
      out(`new active signing key ${k.id} in ${opts.dir}; earlier keys stay listed and their bundles keep verifying`);
      return 0;
    }
    case 'list': {
      const l = listKeys(opts.dir);
      if (opts.json) out(JSON.stringify(l, null, 2));
      else
        out(
          [
            `CA: ${l.ca}`,
            ...l.keys.map((k) => `${k.active ? '*' : ' '} ${k.id}  ${k.subject}  SKI ${k.subjectKeyIdentifier}  until ${k.notAfter}`),
          ].join('\n'),
        );
      return 0;
    }
    default:
      throw new CliError('keys takes create, list or rotate');
  }
}
