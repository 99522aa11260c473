/**
 * The mutation suite: over a thousand variants of genuine bundles, gen directories and light
 * skeletons — flipped bits, dropped, duplicated and swapped fields, scheme changes, replayed
 * signatures, foreign, forged and expired certificates, non-canonical base64, header edits — each
 * verified in-process as the CLI verifies it (strict JSON, parseBundle, verifyBundle with the
 * kernel model's replay, the files check; verifyHeader). The property: a variant may be OK only
 * when what the kernel would load (scheme, instructions, data, signature bytes), what the manifest
 * says (the decoded statement, canonical) and, for a directory, every file, for a header its text
 * (which an OK header prints again byte for byte), are those of a genuine original. Variants
 * signed by a key the policy does not trust, or verified after the certificate expired, may never
 * be OK. A thrown typed input error (BundleFormatError, JsonParseError, HeaderFormatError) is a
 * refusal; any other throw is a crash and counted as a failure.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../support/objects.js';
import {
  Tally,
  flipB64,
  flipBytes,
  flipHeaderLiteral,
  getAt,
  literalText,
  nonCanonicalB64,
  pemDer,
  derPem,
  replaceLiteral,
  setAt,
  spread,
  withDuplicateKey,
  type Json,
  type Path,
} from '../support/mutate.js';
import { loadProfile, rebuiltFor, verifyBundle, ReplayCache } from '../../src/service/verify.js';
import { checkBundleFiles, type FilesCheck } from '../../src/service/verify-files.js';
import { HeaderFormatError, verifyHeader } from '../../src/service/verify-header.js';
import { buildLoader } from '../../src/service/loader.js';
import { signBuilt } from '../../src/service/sign.js';
import { BundleFormatError, parseBundle, type Bundle } from '../../src/signing/bundle.js';
import { JsonParseError, parseJsonStrict } from '../../src/shared/strict-json.js';
import { parsePolicy, STRICT, type TrustPolicy } from '../../src/signing/policy.js';
import { withCheck, type Verdict } from '../../src/signing/verdict.js';
import { canonicalize, type JsonValue } from '../../src/signing/canonical.js';
import { generateKeyPair, issueCertificate, parseCertificate, signDetached, toPem, webCryptoSigner } from '../../src/signing/index.js';
import { signerFromPem } from '../../src/signing/keys/pem.js';
import type { ReplayOutcome } from '../../src/signing/verify.js';
import { rereadLightSkeleton } from '../../src/loader/gen/lskel-reread.js';
import { emitLightSkeleton } from '../../src/loader/gen/lskel.js';
import { bpftoolStyleHeader, testKeysDir } from '../support/test-keys.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'dist/src/cli/main.js');
const KEYS = testKeysDir();
/** bpftool 7.7's signed xdp_filter headers (and globals' P-256 one): the reference files, or the same text made here. */
const bpftoolHeaders = new Map<string, string>();
const OBJ = join(FIXTURES, 'obj/xdp_filter.clang-el.o');
const OTHER_OBJ = join(FIXTURES, 'obj/globals.clang-el.o');
const AT = new Date('2027-06-01T00:00:00Z');
/** After the reference certificates' notAfter (2036-12-04). */
const AFTER_EXPIRY = new Date('2037-01-01T00:00:00Z');
const object = new Uint8Array(readFileSync(OBJ));
const profile = loadProfile(join(FIXTURES, 'profiles/linux-6.18-min/vmlinux.btf'));
/** Replays are a pure function of loader, plan, scheme and profile: cached as the service caches them. */
const replays = new ReplayCache(256);
const pem = (f: string) => readFileSync(join(KEYS, f), 'utf8');

type Files = Map<string, Uint8Array>;
interface Original {
  name: string;
  files: Files;
  bundle: Bundle;
  value: Json;
  header: string;
  headerName: string;
}

const tally = new Tally();
let tmp: string;
let policy: TrustPolicy;
let headerPolicy: TrustPolicy;
const originals: Original[] = [];
let otherObject: Original;
/** Keys (see bundleKey, filesKey) of every genuine original: an OK variant must have one of them. */
const genuineBundles = new Set<string>();
const genuineFiles = new Set<string>();
const genuineHeaders = new Set<string>();
/** Foreign material: bundles, signatures and certificates by keys the policy does not trust (or trusts but must refuse). */
const foreign: Record<string, { pem: string; bundle: Bundle; headerSig: Uint8Array }> = {};

const canon = (v: unknown) => canonicalize(v as JsonValue);
function bundleKey(b: Bundle): string {
  let statement: unknown = null;
  try {
    statement = b.manifest ? JSON.parse(Buffer.from(b.manifest.payload, 'base64').toString('utf8')) : null;
  } catch {
    statement = 'unreadable';
  }
  return canon({ scheme: b.scheme, insns: b.loader.insns, data: b.loader.data, signature: b.signature, statement });
}
function filesKey(files: Files, bundle: Bundle): string {
  const out: Record<string, string> = { bundle: bundleKey(bundle) };
  for (const [f, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (f === 'bundle.json') continue;
    // loader.json is held as canonical JSON (its key order is not fixed by the files check, and it is neither loaded nor signed).
    out[f] =
      f === 'loader.json'
        ? (() => {
            try {
              return canon(JSON.parse(Buffer.from(bytes).toString('utf8')));
            } catch {
              return 'unreadable';
            }
          })()
        : Buffer.from(bytes).toString('hex');
  }
  return canon(out);
}

const isInputError = (e: unknown) => e instanceof BundleFormatError || e instanceof JsonParseError || e instanceof HeaderFormatError;

function filesResult(r: FilesCheck) {
  return r.ok
    ? { check: 'files' as const, status: 'pass' as const, message: "every file is the signed bundle's" }
    : { check: 'files' as const, status: 'fail' as const, code: 'MISMATCH' as const, message: r.problems.map((p) => p.message).join('; ') };
}

/** What `bpfsign verify BUNDLE` answers for bundle text: null when the input is refused as unreadable. */
function verifyText(
  text: string,
  opts: { policy?: TrustPolicy; at?: Date; object?: Uint8Array } = {},
): { verdict: Verdict<ReplayOutcome> | null; bundle: Bundle | null } {
  let bundle: Bundle;
  try {
    bundle = parseBundle(parseJsonStrict(text));
  } catch (e) {
    if (isInputError(e)) return { verdict: null, bundle: null };
    throw e;
  }
  return { verdict: verifyBundle(bundle, opts.policy ?? policy, { at: opts.at ?? AT, profile, replays, object: opts.object }), bundle };
}

/** One bundle variant: verified, counted, and held to the property. `mustFail`: never OK, whatever it carries. */
/**
 * `unsignedAllowed`: the policy accepts loaders without a signature, so an OK variant whose
 * signature was dropped (scheme, loader and statement genuine) is what that policy asks for.
 */
function bundleVariant(
  op: string,
  name: string,
  v: Json | string,
  opts: { policy?: TrustPolicy; at?: Date; object?: Uint8Array; mustFail?: boolean; unsignedAllowed?: boolean } = {},
): void {
  const text = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  let r;
  try {
    r = verifyText(text, opts);
  } catch (e) {
    tally.crashes.push({ op, name, error: (e as Error).stack ?? String(e) });
    tally.add(op, true);
    return;
  }
  const ok = r.verdict?.ok === true;
  tally.add(op, !ok);
  if (!ok) return;
  if (opts.mustFail) tally.falseOk.push({ op, name, why: 'must never be OK (untrusted key or expired certificate)' });
  else if (
    opts.unsignedAllowed &&
    r.bundle!.signature === null &&
    [...genuineBundles].some((k) => k === bundleKey({ ...r.bundle!, signature: (JSON.parse(k) as { signature: string }).signature }))
  )
    return;
  else if (!genuineBundles.has(bundleKey(r.bundle!)))
    tally.falseOk.push({ op, name, why: "OK, but scheme, loader, signature or statement is not a genuine original's" });
}

/** One directory variant, verified as `bpfsign verify DIR [--object OBJ]` does. */
function dirVariant(op: string, name: string, files: Files, withObject: boolean): void {
  let ok = false;
  let bundle: Bundle | null = null;
  try {
    const raw = files.get('bundle.json');
    const r = raw
      ? verifyText(Buffer.from(raw).toString('utf8'), { object: withObject ? object : undefined })
      : { verdict: null, bundle: null };
    bundle = r.bundle;
    if (r.verdict && bundle) {
      const built = withObject ? rebuiltFor(bundle, object) : null;
      ok = withCheck(r.verdict, policy, filesResult(checkBundleFiles(files, bundle, built))).ok;
    }
  } catch (e) {
    tally.crashes.push({ op, name, error: (e as Error).stack ?? String(e) });
  }
  tally.add(op, !ok);
  if (ok && !genuineFiles.has(filesKey(files, bundle!)))
    tally.falseOk.push({ op, name, why: "OK, but a file, the loader, the signature or the statement is not a genuine original's" });
}

/** One header variant, verified as `bpfsign verify NAME.lskel.h [--object OBJ] [--cert …]` does. */
function headerVariant(
  op: string,
  name: string,
  text: string,
  opts: { object?: Uint8Array; certificates?: string[]; at?: Date; mustFail?: boolean } = {},
): void {
  let ok = false;
  try {
    ok = verifyHeader(text, headerPolicy, { at: opts.at ?? AT, profile, replays, object: opts.object, certificates: opts.certificates })
      .verdict.ok;
  } catch (e) {
    if (!isInputError(e)) tally.crashes.push({ op, name, error: (e as Error).stack ?? String(e) });
  }
  tally.add(op, !ok);
  if (!ok) return;
  if (opts.mustFail) tally.falseOk.push({ op, name, why: 'must never be OK (untrusted key or expired certificate)' });
  // An OK header prints again byte for byte from its own reading: its text is its whole meaning.
  else if (!genuineHeaders.has(text))
    tally.falseOk.push({
      op,
      name,
      why: "OK, but the header text (embedded loader, signature, hash, images or code) is not a genuine original's",
    });
}

async function gen(dir: string, obj: string, scheme: string, key: string | null): Promise<Files> {
  const args = [CLI, 'gen', obj, '-o', dir, '--scheme', scheme];
  if (key) args.push('--key', join(KEYS, `${key}.key.pem`), '--cert', join(KEYS, `${key}.cert.pem`));
  await run(process.execPath, args);
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]),
  );
}

function originalOf(name: string, files: Files): Original {
  const text = Buffer.from(files.get('bundle.json')!).toString('utf8');
  const headerName = [...files.keys()].find((f) => f.endsWith('.lskel.h'))!;
  return {
    name,
    files,
    bundle: parseBundle(JSON.parse(text)),
    value: JSON.parse(text) as Json,
    header: Buffer.from(files.get(headerName)!).toString('utf8'),
    headerName,
  };
}

/** A self-signed end-entity certificate (as the reference keys are) with a fresh P-256 key. */
async function selfSigned(subject: string, opts: { notBefore?: Date; notAfter?: Date; eku?: string[] } = {}) {
  const k = await generateKeyPair('ecdsa-p256-sha256');
  const der = await issueCertificate({
    subject,
    publicKey: k.publicKey,
    issuerKey: k.privateKey,
    notBefore: opts.notBefore ?? new Date('2026-01-01'),
    notAfter: opts.notAfter ?? new Date('2030-01-01'),
    ca: false,
    extendedKeyUsage: opts.eku,
  });
  const ski = parseCertificate(der).subjectKeyIdentifier!;
  return { pem: await toPem('CERTIFICATE', der), signer: webCryptoSigner(k.privateKey, Buffer.from(ski, 'hex')) };
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('the mutation suite', () => {
  let wrongEku: Awaited<ReturnType<typeof selfSigned>>;
  let expired: Awaited<ReturnType<typeof selfSigned>>;
  let started = 0;

  before(async () => {
    started = performance.now();
    tmp = mkdtempSync(join(tmpdir(), 'bpfsign-mutations-'));
    const made = await Promise.all([
      gen(join(tmp, 'a'), OBJ, 'linux-6.18', 'rsa2048'),
      gen(join(tmp, 'b'), OBJ, 'linux-6.18', 'p256'),
      gen(join(tmp, 'c'), OBJ, 'linux-load-time', 'rsa2048'),
      gen(join(tmp, 'd'), OBJ, 'linux-load-time', 'p256'),
      gen(join(tmp, 'e'), OTHER_OBJ, 'linux-6.18', 'p256'),
    ]);
    originals.push(
      originalOf('6.18/rsa2048', made[0]),
      originalOf('6.18/p256', made[1]),
      originalOf('load-time/rsa2048', made[2]),
      originalOf('load-time/p256', made[3]),
    );
    otherObject = originalOf('globals 6.18/p256', made[4]);

    // Foreign keys: one the policy trusts but whose certificate is for serverAuth; one that expired
    // before AT (trusted as a root: only the date refuses it); one unknown to the policy; and a
    // forged copy of the genuine P-256 certificate (same subject and SKI, another key).
    wrongEku = await selfSigned('CN=mutation serverAuth', { eku: [SERVER_AUTH] });
    expired = await selfSigned('CN=mutation expired', { notBefore: new Date('2025-01-01'), notAfter: new Date('2026-01-01') });
    const unknown = await selfSigned('CN=mutation unknown');
    const forgedKey = join(tmp, 'forged.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', forgedKey], {
      env: { ...process.env, OPENSSL_CONF: '/dev/null' },
    });
    const genuine = parseCertificate(pem('p256.cert.pem'));
    const forgedPem = execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        forgedKey,
        '-subj',
        '/CN=bpftool-7.7 reference P-256 (test only)',
        '-days',
        '3650',
        '-sha256',
        '-addext',
        'basicConstraints=critical,CA:false',
        '-addext',
        'keyUsage=critical,digitalSignature',
        '-addext',
        'extendedKeyUsage=codeSigning',
        '-addext',
        `subjectKeyIdentifier=${genuine.subjectKeyIdentifier!.match(/../g)!.join(':')}`,
      ],
      { env: { ...process.env, OPENSSL_CONF: '/dev/null' } },
    ).toString('utf8');
    assert.equal(
      parseCertificate(forgedPem).subjectKeyIdentifier,
      genuine.subjectKeyIdentifier,
      'the forged certificate copies the genuine SKI',
    );
    const forged = { pem: forgedPem, signer: await signerFromPem({ privateKey: readFileSync(forgedKey), certificate: forgedPem }) };

    policy = parsePolicy({
      version: 1,
      name: 'mutations',
      roots: [pem('rsa2048.cert.pem'), pem('p256.cert.pem'), wrongEku.pem, expired.pem],
      checks: STRICT,
    });
    headerPolicy = parsePolicy({
      version: 1,
      name: 'mutations (headers)',
      roots: policy.roots,
      checks: { ...STRICT, hardening: 'log', transparencyLog: 'skip' },
    });

    for (const k of ['rsa2048', 'p256'] as const) bpftoolHeaders.set(k, await bpftoolStyleHeader(OBJ, k));
    bpftoolHeaders.set('globals p256', await bpftoolStyleHeader(OTHER_OBJ, 'p256'));
    const bpftoolHeader = (k: string) => bpftoolHeaders.get(k)!;
    const bpftoolInsns = rereadLightSkeleton(bpftoolHeader('p256')).parsed.insns;
    for (const [k, x] of Object.entries({ wrongEku, expired, unknown, forged })) {
      const built = buildLoader(object, 'xdp_filter.clang-el.o', {
        scheme: 'linux-6.18',
        name: 'xdp_filter_clang_el',
        flavour: 'v1.7',
        standalone: false,
        mapExcl: false,
        host: {},
      });
      foreign[k] = {
        pem: x.pem,
        bundle: (await signBuilt(built, x.signer, [x.pem])).bundle,
        headerSig: await signDetached(bpftoolInsns, x.signer),
      };
    }

    for (const o of [...originals, otherObject]) {
      genuineBundles.add(bundleKey(o.bundle));
      genuineFiles.add(filesKey(o.files, o.bundle));
      genuineHeaders.add(o.header);
    }
    for (const k of ['rsa2048', 'p256']) genuineHeaders.add(bpftoolHeader(k));
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('accepts every genuine original (the baseline each variant departs from)', () => {
    for (const o of [...originals, otherObject]) {
      assert.equal(verifyText(JSON.stringify(o.value)).verdict?.verdict, 'OK', o.name);
      const built = rebuiltFor(o.bundle, o === otherObject ? new Uint8Array(readFileSync(OTHER_OBJ)) : object);
      assert.deepEqual(checkBundleFiles(o.files, o.bundle, built).problems, [], o.name);
      assert.equal(verifyHeader(o.header, policy, { at: AT, profile }).verdict.verdict, 'OK', `${o.name} header`);
    }
    for (const k of ['rsa2048', 'p256']) {
      const text = bpftoolHeaders.get(k)!;
      assert.equal(verifyHeader(text, headerPolicy, { at: AT, profile }).verdict.verdict, 'OK', `bpftool ${k}`);
      assert.equal(verifyHeader(text, headerPolicy, { at: AT, profile, object }).verdict.verdict, 'OK', `bpftool ${k} with the object`);
    }
  });

  it('refuses bundles with a flipped bit in any base64 field, at many positions', () => {
    const fields: Path[] = [
      ['loader', 'insns'],
      ['loader', 'data'],
      ['signature'],
      ['manifest', 'payload'],
      ['manifest', 'signatures', 0, 'sig'],
    ];
    for (const o of originals) {
      for (const path of fields) {
        const b64 = getAt(o.value, path) as string;
        const len = Buffer.from(b64, 'base64').length;
        for (const at of spread(len, 24))
          bundleVariant(`flip: ${path.join('.')}`, `${o.name} byte ${at}`, setAt(o.value, path, flipB64(b64, at)));
      }
      const der = pemDer(o.bundle.certificates[0]);
      for (const at of spread(der.length, 16))
        bundleVariant(
          'flip: certificates[0] (DER)',
          `${o.name} byte ${at}`,
          setAt(o.value, ['certificates', 0], derPem(flipBytes(der, at))),
        );
    }
    // With the object: the loader re-derived must also refuse a flipped data byte the signature does not cover.
    for (const o of originals.slice(0, 2)) {
      const b64 = o.bundle.loader.data;
      for (const at of spread(Buffer.from(b64, 'base64').length, 8))
        bundleVariant('flip: loader.data, with the object', `${o.name} byte ${at}`, setAt(o.value, ['loader', 'data'], flipB64(b64, at)), {
          object,
        });
    }
  });

  it('refuses bundles with a field dropped, nulled or added', () => {
    const paths: Path[] = [
      ['mediaType'],
      ['scheme'],
      ['loader'],
      ['loader', 'insns'],
      ['loader', 'data'],
      ['signature'],
      ['certificates'],
      ['certificates', 0],
      ['manifest'],
      ['manifest', 'payload'],
      ['manifest', 'payloadType'],
      ['manifest', 'signatures'],
      ['manifest', 'signatures', 0],
      ['manifest', 'signatures', 0, 'sig'],
      ['manifest', 'signatures', 0, 'keyid'],
      ['tlog'],
    ];
    for (const o of originals) {
      for (const p of paths) {
        if (getAt(o.value, p) === undefined) continue;
        bundleVariant('drop a field', `${o.name} ${p.join('.')}`, setAt(o.value, p, undefined));
        bundleVariant('null a field', `${o.name} ${p.join('.')}`, setAt(o.value, p, null));
      }
      for (const p of [[], ['loader'], ['manifest'], ['manifest', 'signatures', 0]] as Path[]) {
        bundleVariant('add an unknown field', `${o.name} ${p.join('.') || '(root)'}.extra`, setAt(o.value, [...p, 'extra'], 'x'));
      }
      bundleVariant('mediaType changed', o.name, setAt(o.value, ['mediaType'], 'application/vnd.bpfsign.bundle.v2+json'));
      bundleVariant('payloadType changed', o.name, setAt(o.value, ['manifest', 'payloadType'], 'application/json'));
      bundleVariant('empty DSSE signature list', o.name, setAt(o.value, ['manifest', 'signatures'], []));
    }
  });

  it('refuses bundle text with a duplicated key at any depth, whichever copy a reader keeps', () => {
    const other = otherObject.value;
    for (const o of originals) {
      const alt = originals.find((x) => x !== o && x.bundle.scheme !== o.bundle.scheme)!.value;
      const spots: [Path, string, Json][] = [
        [[], 'scheme', getAt(alt, ['scheme'])!],
        [[], 'signature', getAt(other, ['signature'])!],
        [[], 'loader', getAt(other, ['loader'])!],
        [[], 'manifest', getAt(other, ['manifest'])!],
        [[], 'certificates', [pem('rsa2048.cert.pem')]],
        [[], 'tlog', null],
        [[], 'mediaType', getAt(o.value, ['mediaType'])!],
        [['loader'], 'insns', getAt(other, ['loader', 'insns'])!],
        [['loader'], 'data', getAt(other, ['loader', 'data'])!],
        [['manifest'], 'payload', getAt(other, ['manifest', 'payload'])!],
        [['manifest'], 'signatures', getAt(other, ['manifest', 'signatures'])!],
        [['manifest', 'signatures', 0], 'sig', getAt(other, ['manifest', 'signatures', 0, 'sig'])!],
        [['manifest', 'signatures', 0], 'keyid', 'x'],
      ];
      for (const [path, key, dup] of spots) {
        for (const dupFirst of [true, false]) {
          bundleVariant(
            `duplicate key (depth ${path.length})`,
            `${o.name} ${[...path, key].join('.')} ${dupFirst ? 'first' : 'last'}`,
            withDuplicateKey(o.value, path, key, dup, dupFirst),
          );
        }
        // The same value twice is still two keys: refused.
        bundleVariant(
          `duplicate key (depth ${path.length})`,
          `${o.name} ${[...path, key].join('.')} same value`,
          withDuplicateKey(o.value, path, key, getAt(o.value, [...path, key]) ?? null, false),
        );
      }
    }
  });

  it('refuses fields swapped between two genuine bundles', () => {
    const all = [...originals, otherObject];
    const fields: Path[] = [
      ['loader'],
      ['loader', 'insns'],
      ['loader', 'data'],
      ['signature'],
      ['manifest'],
      ['manifest', 'payload'],
      ['manifest', 'signatures'],
      ['certificates'],
      ['scheme'],
      ['tlog'],
    ];
    for (const a of all)
      for (const b of all) {
        if (a === b) continue;
        for (const f of fields) {
          const v = getAt(b.value, f)!;
          if (canon(v) === canon(getAt(a.value, f) ?? null)) continue; // the same value: no swap
          bundleVariant(`swap: ${f.join('.')}`, `${a.name} with ${b.name}'s`, setAt(a.value, f, v));
        }
        // Two fields at once: the loader and its signature, the signature and its certificate, the manifest and its certificate.
        bundleVariant(
          'swap: loader + signature',
          `${a.name} with ${b.name}'s`,
          setAt(setAt(a.value, ['loader'], getAt(b.value, ['loader'])!), ['signature'], getAt(b.value, ['signature'])!),
        );
        bundleVariant(
          'swap: signature + certificates',
          `${a.name} with ${b.name}'s`,
          setAt(setAt(a.value, ['signature'], getAt(b.value, ['signature'])!), ['certificates'], getAt(b.value, ['certificates'])!),
        );
        bundleVariant(
          'swap: manifest + certificates',
          `${a.name} with ${b.name}'s`,
          setAt(setAt(a.value, ['manifest'], getAt(b.value, ['manifest'])!), ['certificates'], getAt(b.value, ['certificates'])!),
        );
        bundleVariant(
          'swap: everything but the scheme',
          `${a.name} with ${b.name}'s`,
          setAt(b.value, ['scheme'], getAt(a.value, ['scheme'])!),
        );
      }
  });

  it('refuses scheme changes, with and without a signature, and replayed signatures', () => {
    const byScheme = (s: string) => originals.filter((o) => o.bundle.scheme === s);
    for (const o of originals) {
      for (const scheme of ['linux-6.18', 'linux-load-time', 'unsigned']) {
        for (const sig of ['keep', 'null', "other scheme's", "other object's"]) {
          for (const manifest of ['keep', 'null']) {
            let v = setAt(o.value, ['scheme'], scheme);
            if (sig === 'null') v = setAt(v, ['signature'], null);
            if (sig === "other scheme's")
              v = setAt(
                v,
                ['signature'],
                byScheme(o.bundle.scheme === 'linux-6.18' ? 'linux-load-time' : 'linux-6.18').find(
                  (x) => x.bundle.certificates[0] === o.bundle.certificates[0],
                )!.bundle.signature,
              );
            if (sig === "other object's") v = setAt(v, ['signature'], otherObject.bundle.signature);
            if (manifest === 'null') v = setAt(v, ['manifest'], null);
            if (scheme === o.bundle.scheme && sig === 'keep' && manifest === 'keep') continue;
            bundleVariant(`scheme: → ${scheme}`, `${o.name} signature ${sig}, manifest ${manifest}`, v);
            // An unsigned-tolerant policy must still refuse a loader whose claims do not hold.
            if (scheme === 'unsigned' || sig === 'null')
              bundleVariant('scheme: unsigned under allowUnsigned', `${o.name} → ${scheme}, signature ${sig}, manifest ${manifest}`, v, {
                policy: { ...policy, allowUnsigned: true },
                unsignedAllowed: true,
              });
          }
        }
      }
      // The same key's signature over the other scheme's content (rsa2048 is deterministic: a replay of a real signature).
      const twin = originals.find((x) => x !== o && x.bundle.certificates[0] === o.bundle.certificates[0])!;
      bundleVariant("replay: the other scheme's loader signature", o.name, setAt(o.value, ['signature'], twin.bundle.signature));
      bundleVariant("replay: the other scheme's manifest", o.name, setAt(o.value, ['manifest'], getAt(twin.value, ['manifest'])!));
      bundleVariant(
        "replay: the other key's signature, same scheme",
        o.name,
        setAt(o.value, ['signature'], originals.find((x) => x !== o && x.bundle.scheme === o.bundle.scheme)!.bundle.signature),
      );
      for (const [k, f] of Object.entries(foreign))
        bundleVariant(
          "replay: a foreign key's signature over the same loader",
          `${o.name} ← ${k}`,
          setAt(o.value, ['signature'], f.bundle.signature),
        );
    }
  });

  it('refuses foreign, forged, wrong-EKU and expired certificates', () => {
    const unknown = foreign.unknown.pem,
      forged = foreign.forged.pem;
    for (const o of originals) {
      const mine = o.bundle.certificates[0];
      const cases: [string, string[]][] = [
        ["replaced by an unknown key's", [unknown]],
        ['replaced by a forged copy (same SKI and subject, another key)', [forged]],
        ["replaced by the other reference key's", [originals.find((x) => x.bundle.certificates[0] !== mine)!.bundle.certificates[0]]],
        ['replaced by the wrong-EKU root', [foreign.wrongEku.pem]],
        ['emptied', []],
        ['forged copy first, genuine second', [forged, mine]],
        ['unknown first, genuine second', [unknown, mine]],
        ['genuine, then forged copy', [mine, forged]],
        ['genuine, then unknown', [mine, unknown]],
        ['genuine twice', [mine, mine]],
      ];
      for (const [name, certs] of cases) bundleVariant('certificates', `${o.name}: ${name}`, setAt(o.value, ['certificates'], certs));
      bundleVariant('expired: verified after notAfter', o.name, o.value, { at: AFTER_EXPIRY, mustFail: true });
      bundleVariant('expired: verified before notBefore', o.name, o.value, { at: new Date('2026-01-01'), mustFail: true });
    }
    for (const [k, f] of Object.entries(foreign)) {
      const v = JSON.parse(JSON.stringify(f.bundle)) as Json;
      bundleVariant('signed by a foreign key', `${k}, its own certificate`, v, { mustFail: true });
      bundleVariant(
        'signed by a foreign key',
        `${k}, with the genuine certificate too`,
        setAt(v, ['certificates'], [f.pem, pem('p256.cert.pem')]),
        { mustFail: true },
      );
      bundleVariant('signed by a foreign key', `${k}, genuine certificate only`, setAt(v, ['certificates'], [pem('p256.cert.pem')]), {
        mustFail: true,
      });
      bundleVariant('signed by a foreign key', `${k}, with the object`, v, { mustFail: true, object });
    }
  });

  it('refuses non-canonical base64 in every base64 field', () => {
    const fields: Path[] = [
      ['loader', 'insns'],
      ['loader', 'data'],
      ['signature'],
      ['manifest', 'payload'],
      ['manifest', 'signatures', 0, 'sig'],
    ];
    for (const o of originals) {
      for (const p of fields) {
        for (const n of nonCanonicalB64(getAt(o.value, p) as string))
          bundleVariant(`base64: ${n.name}`, `${o.name} ${p.join('.')}`, setAt(o.value, p, n.text));
      }
    }
  });

  it('refuses (or ignores, changing nothing) junk in the log proof', () => {
    const h = Buffer.alloc(32, 7).toString('base64');
    const junk: [string, Json][] = [
      ['well-formed, random', { logIndex: '0', treeSize: '1', leafHash: h, hashes: [], checkpoint: 'log\n1\nAAAA\n' }],
      ['index ≥ size', { logIndex: '5', treeSize: '5', leafHash: h, hashes: [], checkpoint: 'x' }],
      ['leading zero', { logIndex: '01', treeSize: '5', leafHash: h, hashes: [], checkpoint: 'x' }],
      ['negative', { logIndex: '-1', treeSize: '5', leafHash: h, hashes: [], checkpoint: 'x' }],
      ['number, not string', { logIndex: 0, treeSize: 5, leafHash: h, hashes: [], checkpoint: 'x' }],
      ['short hash', { logIndex: '0', treeSize: '5', leafHash: Buffer.alloc(31).toString('base64'), hashes: [], checkpoint: 'x' }],
      ['empty checkpoint', { logIndex: '0', treeSize: '5', leafHash: h, hashes: [], checkpoint: '' }],
      ['2^63', { logIndex: '0', treeSize: '9223372036854775808', leafHash: h, hashes: [], checkpoint: 'x' }],
      ['extra field', { logIndex: '0', treeSize: '5', leafHash: h, hashes: [], checkpoint: 'x', extra: 1 }],
      ['a string', 'tlog'],
      ['an array', []],
      ['empty object', {}],
    ];
    const withLog = { ...policy, logKeys: ['mutation+00000000+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh'] };
    for (const o of originals) {
      for (const [n, t] of junk) {
        bundleVariant('tlog junk', `${o.name}: ${n}`, setAt(o.value, ['tlog'], t));
        bundleVariant('tlog junk, under a policy with a log key', `${o.name}: ${n}`, setAt(o.value, ['tlog'], t), { policy: withLog });
      }
    }
  });

  it('refuses gen directories with a file flipped, missing, extra, renamed or swapped', () => {
    for (const [oi, o] of originals.entries()) {
      const withObject = oi % 2 === 0;
      const mode = withObject ? ' (with the object)' : '';
      for (const [f, bytes] of o.files) {
        if (f === 'bundle.json') continue;
        if (f.endsWith('.lskel.h')) continue; // the header's literals are flipped below, where a flip keeps its spelling
        for (const at of spread(bytes.length, 8))
          dirVariant(
            `dir: flip in ${f.replace(/^init\.\d+/, 'init.N')}${mode}`,
            `${o.name} byte ${at}`,
            new Map(o.files).set(f, flipBytes(bytes, at)),
            withObject,
          );
        const dropped = new Map(o.files);
        dropped.delete(f);
        dirVariant(`dir: file missing${mode}`, `${o.name} ${f}`, dropped, withObject);
        dirVariant(
          `dir: file with a byte appended${mode}`,
          `${o.name} ${f}`,
          new Map(o.files).set(f, new Uint8Array([...bytes, 0x0a])),
          withObject,
        );
        dirVariant(
          `dir: file truncated${mode}`,
          `${o.name} ${f}`,
          new Map(o.files).set(f, bytes.subarray(0, bytes.length - 1)),
          withObject,
        );
      }
      for (const lit of ['opts_insn', 'opts_data', 'opts_sig', 'opts_excl_hash', 'data']) {
        for (const v of flipHeaderLiteral(o.header, lit, 6))
          dirVariant(
            `dir: header literal ${lit} flipped${mode}`,
            `${o.name} escape ${v.at}`,
            new Map(o.files).set(o.headerName, Buffer.from(v.text)),
            withObject,
          );
      }
      dirVariant(`dir: extra file${mode}`, `${o.name} evil.o`, new Map(o.files).set('evil.o', new Uint8Array([1])), withObject);
      dirVariant(`dir: extra file${mode}`, `${o.name} init.9.bin`, new Map(o.files).set('init.9.bin', new Uint8Array(8)), withObject);
      const header = o.files.get(o.headerName)!;
      const renamed = new Map(o.files);
      renamed.delete(o.headerName);
      renamed.set('other.lskel.h', header);
      dirVariant(`dir: header renamed${mode}`, o.name, renamed, withObject);
      const lj = JSON.parse(Buffer.from(o.files.get('loader.json')!).toString('utf8'));
      const reordered = Object.fromEntries(Object.entries(lj).reverse());
      dirVariant(
        `dir: loader.json keys reordered (same content)${mode}`,
        o.name,
        new Map(o.files).set('loader.json', Buffer.from(`${JSON.stringify(reordered, null, 2)}\n`)),
        withObject,
      );
      dirVariant(
        `dir: loader.json compact${mode}`,
        o.name,
        new Map(o.files).set('loader.json', Buffer.from(`${JSON.stringify(lj)}\n`)),
        withObject,
      );
      dirVariant(
        `dir: loader.json duplicate key${mode}`,
        o.name,
        new Map(o.files).set(
          'loader.json',
          Buffer.from(`${JSON.stringify(lj, null, 2).replace(/^\{\n/, '{\n  "scheme": "unsigned",\n')}\n`),
        ),
        withObject,
      );
      for (const b of [...originals, otherObject]) {
        if (b === o) continue;
        for (const f of o.files.keys()) {
          const theirs = b.files.get(f === o.headerName ? b.headerName : f);
          if (!theirs || Buffer.compare(theirs, o.files.get(f)!) === 0) continue;
          dirVariant(
            `dir: file swapped from another directory${mode}`,
            `${o.name} ${f} from ${b.name}`,
            new Map(o.files).set(f, theirs),
            withObject,
          );
        }
        // A whole directory's bundle.json with this directory's other files.
        dirVariant(
          `dir: bundle.json swapped from another directory${mode}`,
          `${o.name} with ${b.name}'s`,
          new Map(o.files).set('bundle.json', b.files.get('bundle.json')!),
          withObject,
        );
      }
    }
  });

  it('refuses light skeletons with edited literals, statements, signatures and certificates', () => {
    const bpftool = ['p256', 'rsa2048'].map((k) => ({ name: `bpftool ${k}`, text: bpftoolHeaders.get(k)! }));
    const ours = originals.map((o) => ({ name: `gen ${o.name}`, text: o.header }));
    const otherHeader = bpftoolHeaders.get('globals p256')!;
    for (const [hi, h] of [...bpftool, ...ours].entries()) {
      const withObject = hi % 2 === 0 ? object : undefined;
      const mode = withObject ? ' (with the object)' : '';
      for (const lit of ['opts_insn', 'opts_data', 'opts_sig', 'opts_excl_hash', 'data']) {
        for (const v of flipHeaderLiteral(h.text, lit, lit === 'opts_insn' || lit === 'opts_data' ? 12 : 6))
          headerVariant(`header: ${lit} flipped${mode}`, `${h.name} escape ${v.at}`, v.text, { object: withObject });
      }
      const lines = h.text.split('\n');
      const code = lines
        .map((l, i) => [l, i] as const)
        .filter(([l]) => l.trim() !== '' && !/^\\|\\$/.test(l))
        .map(([, i]) => i);
      for (const k of spread(code.length, 12)) {
        const i = code[k];
        headerVariant(
          `header: a line removed${mode}`,
          `${h.name} line ${i + 1}`,
          [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n'),
          { object: withObject },
        );
        headerVariant(
          `header: a line duplicated${mode}`,
          `${h.name} line ${i + 1}`,
          [...lines.slice(0, i + 1), ...lines.slice(i)].join('\n'),
          { object: withObject },
        );
      }
      // Statement edits: each decimal number on a code line moved by one.
      const numbered = code.filter((i) => /\b\d+\b/.test(lines[i]));
      for (const k of spread(numbered.length, 10)) {
        const i = numbered[k];
        const edited = lines[i].replace(/\b(\d+)\b/, (d) => String(Number(d) + 1));
        headerVariant(
          `header: a number in a statement changed${mode}`,
          `${h.name} line ${i + 1}`,
          [...lines.slice(0, i), edited, ...lines.slice(i + 1)].join('\n'),
          { object: withObject },
        );
      }
      for (const needle of ['keyring_id', 'excl_prog_hash', 'opts.signature']) {
        const without = lines.filter((l) => !l.includes(needle)).join('\n');
        if (without !== h.text)
          headerVariant(`header: every line naming ${needle} removed${mode}`, h.name, without, { object: withObject });
      }
      headerVariant(`header: CRLF line ends${mode}`, h.name, h.text.replace(/\n/g, '\r\n'), { object: withObject });
      headerVariant(`header: trailing whitespace${mode}`, h.name, `${h.text} \n`, { object: withObject });
      // Signatures swapped in from other headers (same loader's other key, another object's, another flavour's) and from foreign keys.
      const sources = [...bpftool, ...ours, { name: 'bpftool globals p256', text: otherHeader }];
      for (const s of sources) {
        if (s === h) continue;
        const sig = literalText(s.text, 'opts_sig');
        if (sig === null || literalText(h.text, 'opts_sig') === null || sig === literalText(h.text, 'opts_sig')) continue;
        headerVariant(
          `header: opts_sig replaced with another header's${mode}`,
          `${h.name} ← ${s.name}`,
          replaceLiteral(h.text, 'opts_sig', sig),
          { object: withObject },
        );
        const insns = literalText(s.text, 'opts_insn')!;
        if (insns !== literalText(h.text, 'opts_insn'))
          headerVariant(
            `header: opts_insn replaced with another header's${mode}`,
            `${h.name} ← ${s.name}`,
            replaceLiteral(h.text, 'opts_insn', insns),
            { object: withObject },
          );
      }
      if (h.name.startsWith('bpftool')) {
        for (const [k, f] of Object.entries(foreign)) {
          const withSig = resigned(h.text, f.headerSig);
          headerVariant('header: signed by a foreign key', `${h.name} ← ${k}`, withSig, { mustFail: true });
          headerVariant('header: signed by a foreign key, its certificate given', `${h.name} ← ${k}`, withSig, {
            mustFail: true,
            certificates: [f.pem],
          });
          headerVariant('header: genuine, a foreign certificate given beside it', `${h.name} + ${k}`, h.text, { certificates: [f.pem] });
        }
      }
      headerVariant('header: verified after notAfter', h.name, h.text, { at: AFTER_EXPIRY, mustFail: true, object: withObject });
    }
  });

  it('counts at least 1000 variants and finds no false OK and no crash', (t) => {
    t.diagnostic(`\n${tally.table()}\nrun time ${Math.round(performance.now() - started)} ms`);
    for (const f of tally.falseOk.slice(0, 40)) t.diagnostic(`FALSE OK  ${f.op} | ${f.name} | ${f.why}`);
    for (const c of tally.crashes.slice(0, 10)) t.diagnostic(`CRASH  ${c.op} | ${c.name} | ${c.error.split('\n').slice(0, 12).join(' ')}`);
    assert.ok(tally.total >= 1000, `only ${tally.total} variants`);
    assert.deepEqual(
      tally.crashes.map((c) => `${c.op} | ${c.name}`),
      [],
    );
    assert.deepEqual(
      tally.falseOk.map((f) => `${f.op} | ${f.name}`),
      [],
    );
  });
});

/** A light skeleton printed again with another signature (and the same excl_prog_hash): the emitter's own spelling. */
function resigned(text: string, sig: Uint8Array): string {
  const r = rereadLightSkeleton(text);
  return emitLightSkeleton({ ...r.input, signature: { sig, exclHash: r.input.signature!.exclHash } }, r.options);
}
