/**
 * verify(input, policy, options) → Verdict. Pure and synchronous apart from what is injected:
 * the clock (`at`), the replay of the loader in the kernel model, the re-derivation of the loader
 * from the object and the hardening findings about it (all passed in as functions, so signing
 * stays independent of the kernel model). No network. The input is a bundle, or a light-skeleton
 * header's loader (no manifest, no log proof). Steps, in order (each a check the policy can
 * enforce, log or skip; a check that does not apply is `skipped` with the reason, never passed):
 *
 *   signature        CMS over the scheme's content, by a certificate in the input
 *   chain            the signer chains to a policy root at `at` (keyUsage, codeSigning EKU)
 *   identity         subject / SAN allowed by the policy
 *   revocation       CRLs from the policy
 *   manifest         DSSE over the in-toto Statement by the very certificate that signed the
 *                    loader (DER and key compared, not the SKI); subjects = the loader files
 *   transparencyLog  inclusion proof of the manifest against a checkpoint signed by a policy log key
 *   replay           the loader replayed in the kernel model does what the manifest's plan says
 *   object           the loader re-derived from the object equals the input's (when given)
 *   hardening        no weakness found in the loader's code (findings injected by the service)
 *   contents         program types, map types, helpers and sizes within the policy
 */
import { sha256Hex as sha256, canonicalBase64, toHex } from '../shared/bytes.js';
import { verifyDetached, type CmsVerification } from './cms/index.js';
import { signedContent } from './schemes.js';
import { parseCertificate, sameCertificate, validateChain, type Certificate, type ChainValidation } from './x509/index.js';
import { verifyStatement, type StatementVerification } from './statement.js';
import type { VerificationCaches } from './caches.js';
import { checkWitnessQuorum, parseCosignerKey } from './tlog/cosignature.js';
import {
  loaderEntryFromBundle,
  loaderEntryLeaf,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyInclusion,
  TlogError,
} from './tlog/index.js';
import { BundleFormatError, fromB64, MANIFEST_PREDICATE_TYPE, type Bundle } from './bundle.js';
import { identityAllowed, type TrustPolicy } from './policy.js';
import { CheckLog, decideVerdict, type Verdict } from './verdict.js';
import { isDeepFrozen } from '../shared/freeze.js';

/** What a replay in the kernel model reports, as far as verification needs it. */
export interface ReplayOutcome {
  fault: string | null;
  /** The replay did what the plan says (true when there was no plan to compare with). */
  equal: boolean;
  differences: { path: string; expected: unknown; actual: unknown }[];
  /** false when the replay had no plan to compare with (a header without its object); absent means true. */
  compared?: boolean;
  /** Effects for the contents check. */
  programs: { name: string; type: string; insns: number; helpers: number[] }[];
  maps: { name: string; type: string; maxEntries: number }[];
  report?: unknown;
}

/** A weakness of the loader's code the service found (e.g. CTX_OVERRIDES_MAP, METADATA_MAP_NOT_EXCLUSIVE). */
export interface HardeningFinding {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The loader's files, as bytes or canonical padded base64. */
export interface LoaderFiles {
  insns: Uint8Array | string;
  data: Uint8Array | string;
}

/**
 * A light skeleton's loader as its header carries it (see loader/gen/lskel-parse): no manifest, no
 * log proof. bpftool's PKCS#7 carries no certificate (SignerInfo v3 names the key by SKI only),
 * so with `certificates` empty the signer is looked for among the policy's roots and
 * intermediates as well.
 */
export interface HeaderInput {
  kind: 'header';
  scheme: 'linux-6.18' | 'linux-load-time' | 'unsigned';
  loader: LoaderFiles;
  /** The header's opts_sig: DER (bytes or canonical base64), null for an unsigned header. */
  signature: Uint8Array | string | null;
  /** PEM, signer first then intermediates; may be empty. */
  certificates: string[];
}

export type VerifyInput = Bundle | HeaderInput;

export function isHeaderInput(input: VerifyInput): input is HeaderInput {
  return (input as HeaderInput).kind === 'header';
}

export interface VerifyOptions {
  at: Date;
  /**
   * Replays the loader, comparing with `plan`: the verified manifest's plan for a bundle, null for
   * a header (the replay then compares with a plan of its own, re-derived from the object, or
   * reports `compared: false`). Absent → the replay check fails: no kernel model.
   */
  replay?: (
    loader: { insns: Uint8Array; data: Uint8Array },
    plan: unknown | null,
    scheme: string,
    digests: { insns: string; data: string },
  ) => ReplayOutcome;
  /**
   * Re-derives the loader from the object with the verified manifest's options (a bundle), or with
   * options of the caller's (a header: manifest null). Absent → the object check is skipped.
   */
  rederive?: (manifest: Record<string, unknown> | null) => { insns: Uint8Array; data: Uint8Array; plan: unknown };
  /** Weaknesses found in the loader's code. Absent → the hardening check is skipped; [] → it passes. */
  findings?: () => HardeningFinding[];
  /**
   * The caller's memos of pure work (verified signatures, parsed certificates and statements, the
   * facts of shared bundles…), see VerificationCaches. Absent: everything is derived afresh and
   * nothing is kept.
   */
  caches?: VerificationCaches;
}

/** What a check needs from the input, whatever its kind. */
interface Facts {
  readonly loader: { insns: Uint8Array; data: Uint8Array };
  /** The input's certificates that parse, in order. */
  readonly certs: Certificate[];
  readonly digests: { insns: string; data: string };
  /** The CMS signature over the scheme's content (a signed input). */
  signature(policy: TrustPolicy): CmsVerification;
}

/**
 * What a verification derives from the bundle alone, each a pure function of its fields: the
 * loader's bytes and digests, the certificates, the loader signature's and the manifest's
 * verification (against the bundle's own certificates: the policy's part, the chain at a time,
 * comes after), the manifest's log leaf. Everything the policy or the clock decides is checked
 * on every verification. Shared facts share their loader bytes, which typed arrays cannot be
 * frozen to protect: nothing a verification calls writes them (the replay copies instructions
 * and blob into its own memory, the re-derivation compares), and the tamper matrix verifies each
 * shared bundle twice to hold that.
 */
class BundleFacts implements Facts {
  readonly loader: { insns: Uint8Array; data: Uint8Array };
  readonly certs: Certificate[] = [];
  #digests: { insns: string; data: string } | null = null;
  #signature: CmsVerification | null = null;
  #statement: StatementVerification | null = null;
  #leaf: Uint8Array | null = null;

  constructor(
    readonly bundle: Bundle,
    readonly caches: VerificationCaches | undefined,
  ) {
    this.loader = { insns: fromB64(bundle.loader.insns), data: fromB64(bundle.loader.data) };
    for (const pem of bundle.certificates) {
      try {
        this.certs.push(parseCertificate(pem, caches?.certificates));
      } catch {
        /* reported by the chain check */
      }
    }
  }

  get digests(): { insns: string; data: string } {
    return (this.#digests ??= { insns: sha256(this.loader.insns), data: sha256(this.loader.data) });
  }

  /** Against the bundle's certificates only (a bundle carries its signer): the policy plays no part. */
  signature(): CmsVerification {
    const b = this.bundle;
    return (this.#signature ??= verifyDetached(
      fromB64(b.signature!),
      signedContent(b.scheme as 'linux-6.18', this.loader.insns, this.loader.data),
      this.certs,
      this.caches,
    ));
  }

  /** The manifest's DSSE signatures and statement (a bundle with a manifest). */
  get statement(): StatementVerification {
    return (this.#statement ??= verifyStatement(this.bundle.manifest, this.certs, this.caches));
  }

  /** The leaf of the log entry made when this bundle was signed (tlog/entry.ts), recomputed from the bundle. */
  get leaf(): Uint8Array {
    if (this.#leaf) return this.#leaf;
    const st = this.bundle.manifest ? this.statement : null;
    const objectSha256 = st?.ok ? (st.statement.predicate as { object?: { sha256?: string } }).object?.sha256 : undefined;
    return (this.#leaf = loaderEntryLeaf(
      loaderEntryFromBundle(this.bundle, { insnsSha256: this.digests.insns, dataSha256: this.digests.data, objectSha256 }),
    ));
  }
}

/** Bytes of a header field given as bytes or canonical padded base64 (anything else: BundleFormatError naming it). */
function headerBytes(v: Uint8Array | string, path: string): Uint8Array {
  if (typeof v !== 'string') return v;
  const b = canonicalBase64(v);
  if (!b) throw new BundleFormatError([{ path, message: 'canonical padded base64' }]);
  return new Uint8Array(b);
}

/** A header's facts: derived per verification (headers are not shared between requests). */
class HeaderFacts implements Facts {
  readonly loader: { insns: Uint8Array; data: Uint8Array };
  readonly certs: Certificate[] = [];
  readonly signatureDer: Uint8Array | null;
  #digests: { insns: string; data: string } | null = null;

  constructor(
    readonly header: HeaderInput,
    readonly caches: VerificationCaches | undefined,
  ) {
    this.loader = { insns: headerBytes(header.loader.insns, 'loader.insns'), data: headerBytes(header.loader.data, 'loader.data') };
    this.signatureDer = header.signature === null ? null : headerBytes(header.signature, 'signature');
    for (const pem of header.certificates) {
      try {
        this.certs.push(parseCertificate(pem, caches?.certificates));
      } catch {
        /* reported by the chain check */
      }
    }
  }

  get digests(): { insns: string; data: string } {
    return (this.#digests ??= { insns: sha256(this.loader.insns), data: sha256(this.loader.data) });
  }

  /** Against the header's certificates, then the policy's intermediates and roots (bpftool's PKCS#7 carries none). */
  signature(policy: TrustPolicy): CmsVerification {
    const candidates = [...this.certs];
    for (const pem of [...policy.intermediates, ...policy.roots]) {
      try {
        candidates.push(parseCertificate(pem, this.caches?.certificates));
      } catch {
        /* a policy's certificates were checked when it was read */
      }
    }
    return verifyDetached(
      this.signatureDer!,
      signedContent(this.header.scheme as 'linux-6.18', this.loader.insns, this.loader.data),
      candidates,
      this.caches,
    );
  }
}

/**
 * Facts of deep-frozen bundles (the service's parsed bodies, shared between requests), by
 * identity in the caller's bundles memo: a CI gate verifying the same bundle again derives them
 * once. Any other bundle gets its own, kept by nothing (a weak collection would keep each
 * request's through V8's scavenges). Facts are kept with the caches they were derived with.
 */
function factsOf(bundle: Bundle, caches: VerificationCaches | undefined): BundleFacts {
  const memo = caches?.bundles;
  if (memo === undefined || !isDeepFrozen(bundle)) return new BundleFacts(bundle, caches);
  let f = memo.get(bundle) as BundleFacts | undefined;
  if (f === undefined) memo.set(bundle, (f = new BundleFacts(bundle, caches)));
  return f;
}

function sans(cert: Certificate): string[] {
  const ext = cert.x509.getExtension('2.5.29.17') as unknown as { names?: { items?: { value: string }[] } } | null;
  return ext?.names?.items?.map((n) => n.value) ?? [];
}

/** The same certificate: byte-equal DER and the same public key (never the SKI alone, which anyone can copy). */
function sameSigner(a: Certificate, b: Certificate): boolean {
  return sameCertificate(a, b) && Buffer.compare(a.spki, b.spki) === 0;
}

/** How the manifest's signer differs from the loader's, in words. */
function signerMismatch(manifestSigner: Certificate, loaderSigner: Certificate): string {
  const sameSki =
    manifestSigner.subjectKeyIdentifier !== undefined && manifestSigner.subjectKeyIdentifier === loaderSigner.subjectKeyIdentifier;
  const sameKey = Buffer.compare(manifestSigner.spki, loaderSigner.spki) === 0;
  const how = sameSki && !sameKey ? 'same SKI, different key' : sameKey ? 'same key, different certificate' : 'different key';
  return `the manifest is signed by a different certificate than the loader (${how})`;
}

const certSummary = (c: Certificate) => ({
  subject: c.subject,
  issuer: c.issuer,
  serial: c.serialNumber,
  subjectKeyIdentifier: c.subjectKeyIdentifier,
  sha256: sha256(c.der),
});

/**
 * One verification in progress: the input, what the checks so far established (the loader's
 * signer, the verified manifest, the replay), and the log of checks. Each check below reads what
 * the ones before it left here and adds its own result to the log.
 */
class Verification {
  readonly log: CheckLog;
  readonly header: HeaderInput | null;
  readonly bundle: Bundle | null;
  /** The bundle's facts (null for a header). */
  readonly bundleFacts: BundleFacts | null;
  readonly facts: Facts;
  readonly scheme: string;
  readonly caches: VerificationCaches | undefined;
  /** The input carries no signature, or says it is unsigned. */
  readonly unsigned: boolean;
  /** The loader's signer, once the signature check verified it. */
  signer: Certificate | null = null;
  /** The manifest's predicate, once the manifest check verified it. */
  manifest: Record<string, unknown> | null = null;
  replay: ReplayOutcome | null = null;
  /** Chain validations of this verification, by certificate (the chain check's is reused for the same signer). */
  readonly #chains = new Map<Certificate, ChainValidation>();

  constructor(
    input: VerifyInput,
    readonly policy: TrustPolicy,
    readonly opts: VerifyOptions,
  ) {
    this.log = new CheckLog(policy);
    this.header = isHeaderInput(input) ? input : null;
    this.bundle = this.header ? null : (input as Bundle);
    this.caches = opts.caches;
    this.bundleFacts = this.bundle ? factsOf(this.bundle, this.caches) : null;
    this.facts = this.bundleFacts ?? new HeaderFacts(this.header!, this.caches);
    this.scheme = input.scheme;
    this.unsigned = (this.header ? this.header.signature : this.bundle!.signature) === null || this.scheme === 'unsigned';
  }

  chainOf(cert: Certificate): ChainValidation {
    let r = this.#chains.get(cert);
    if (r === undefined) {
      const others = this.facts.certs.filter((c) => !sameCertificate(c, cert));
      const trust = { roots: this.policy.roots, intermediates: [...this.policy.intermediates, ...others] };
      this.#chains.set(cert, (r = validateChain(cert, trust, { at: this.opts.at, caches: this.caches })));
    }
    return r;
  }
}

export function verify(input: VerifyInput, policy: TrustPolicy, opts: VerifyOptions): Verdict<ReplayOutcome> {
  const v = new Verification(input, policy, opts);
  // The checks in the order the log reports them (verdict.ts CHECKS).
  checkSignature(v);
  for (const check of ['chain', 'identity', 'revocation'] as const) checkSigner(v, check);
  checkManifest(v);
  checkTransparencyLog(v);
  checkReplay(v);
  checkObject(v);
  checkHardening(v);
  checkContents(v);

  const verdict = decideVerdict(v.log.results);
  const signer = v.signer;
  return {
    verdict,
    ok: verdict === 'OK',
    policy: policy.name,
    checks: v.log.results,
    signer: signer
      ? {
          subject: signer.subject,
          sans: sans(signer),
          subjectKeyIdentifier: signer.subjectKeyIdentifier ?? '',
          issuer: signer.issuer,
          serial: signer.serialNumber,
        }
      : null,
    scheme: v.scheme,
    replay: v.replay,
  };
}

/** signature: the CMS signature over the scheme's content, by a certificate of the input (sets the signer). */
function checkSignature(v: Verification): void {
  const { log, policy, scheme } = v;
  if (!log.runs('signature')) return;
  if (v.unsigned) {
    if (policy.allowUnsigned) log.pass('signature', 'unsigned loader, allowed by policy');
    else log.fail('signature', 'UNSIGNED', 'the loader is not signed and the policy requires a signature');
  } else if (!policy.schemes.includes(scheme as 'linux-6.18')) {
    log.fail('signature', 'POLICY', `scheme ${scheme} is not allowed by the policy`, { got: scheme, want: policy.schemes });
  } else {
    const s = v.facts.signature(policy);
    if (s.ok) {
      v.signer = s.signer.certificate;
      log.pass(
        'signature',
        `${s.algorithm} signature over ${scheme === 'linux-6.18' ? 'the loader instructions' : 'instructions ‖ data'} verifies`,
        { subjectKeyIdentifier: s.signer.subjectKeyIdentifier, algorithm: s.algorithm },
      );
    } else {
      const code = s.error.code === 'UNKNOWNKEY' ? 'UNKNOWNKEY' : 'BADSIG';
      log.fail('signature', code, s.error.message, s.error.details as Record<string, unknown>);
    }
  }
}

/** chain, identity, revocation: what the policy says of the loader's signer. */
function checkSigner(v: Verification, check: 'chain' | 'identity' | 'revocation'): void {
  const { log, policy, signer } = v;
  if (!log.runs(check)) return;
  if (!signer) {
    log.blocked(check, v.unsigned ? 'unsigned loader' : 'no verified signer');
    return;
  }
  if (check === 'chain') {
    const r = v.chainOf(signer);
    if (r.ok) log.pass('chain', `chains to ${r.path[r.path.length - 1].subject}`, { path: r.path.map((c) => c.subject) });
    else log.fail('chain', 'UNTRUSTED', r.error.message, r.error.details as Record<string, unknown>);
  } else if (check === 'identity') {
    const id = identityAllowed(policy, signer.subject, sans(signer), v.caches?.patterns);
    if (id.ok)
      log.pass(
        'identity',
        id.matched === undefined ? 'any identity under the roots is allowed' : `matches allowed identity #${id.matched}`,
        { subject: signer.subject },
      );
    else
      log.fail('identity', 'UNTRUSTED', `signer ${signer.subject} is not an allowed identity`, {
        got: { subject: signer.subject, sans: sans(signer) },
        want: policy.identities,
      });
  } else if (policy.crls.length === 0) {
    log.skip('revocation', 'no CRLs configured');
  } else {
    const others = v.facts.certs.filter((c) => !sameCertificate(c, signer));
    const r = validateChain(
      signer,
      { roots: policy.roots, intermediates: [...policy.intermediates, ...others], crls: policy.crls },
      { at: v.opts.at, requireRevocationCheck: true, caches: v.caches },
    );
    if (r.ok) log.pass('revocation', 'not revoked by any configured CRL');
    else log.fail('revocation', 'UNTRUSTED', r.error.message, r.error.details as Record<string, unknown>);
  }
}

/**
 * manifest: signed by the loader's own signer (or, when the loader's signature did not verify,
 * by a certificate that stands on its own against the policy), describing this loader (sets the
 * manifest).
 */
function checkManifest(v: Verification): void {
  const { log, bundle } = v;
  if (!log.runs('manifest')) return;
  if (v.header) log.skip('manifest', 'a light skeleton carries no manifest');
  else if (!bundle!.manifest) log.fail('manifest', v.unsigned ? 'UNSIGNED' : 'PARTIALSIG', 'the bundle has no signed manifest');
  else {
    const st = v.bundleFacts!.statement;
    if (!st.ok)
      log.fail(
        'manifest',
        v.signer ? 'PARTIALSIG' : 'BADSIG',
        `manifest: ${st.error.message}`,
        st.error.details as Record<string, unknown>,
      );
    else checkStatement(v, st);
  }
}

/** The manifest check of a statement whose DSSE signatures verify: its signers, then what it says. */
function checkStatement(v: Verification, verified: Extract<StatementVerification, { ok: true }>): void {
  const { log, policy, signer, facts } = v;
  const st = verified.statement;
  const m = st.predicate as Record<string, unknown>;
  const digests = Object.fromEntries(st.subject.map((s) => [s.name, s.digest.sha256]));
  const other = signer ? verified.signers.find((s) => !sameSigner(s, signer)) : undefined;
  // Without a verified loader signer, the manifest's signers must chain and be allowed on their own.
  const untrusted = signer
    ? undefined
    : verified.signers
        .map((s) => ({ s, chain: v.chainOf(s), id: identityAllowed(policy, s.subject, sans(s), v.caches?.patterns) }))
        .find((t) => !t.chain.ok || !t.id.ok);
  if (other) {
    log.fail('manifest', 'PARTIALSIG', signerMismatch(other, signer!), { got: certSummary(other), want: certSummary(signer!) });
  } else if (untrusted) {
    const why = !untrusted.chain.ok ? untrusted.chain.error.message : `${untrusted.s.subject} is not an allowed identity`;
    log.fail('manifest', 'UNTRUSTED', `the manifest's signer is not trusted by the policy: ${why}`, { got: certSummary(untrusted.s) });
  } else if (st.predicateType !== MANIFEST_PREDICATE_TYPE)
    log.fail('manifest', 'MISMATCH', `predicateType ${st.predicateType}`, { got: st.predicateType, want: MANIFEST_PREDICATE_TYPE });
  else if (digests['insns.bin'] !== facts.digests.insns || digests['data.bin'] !== facts.digests.data) {
    log.fail('manifest', 'MISMATCH', "the manifest's subjects are not this loader", { got: facts.digests, want: digests });
  } else if (m.scheme !== v.scheme) {
    log.fail('manifest', 'MISMATCH', `the manifest says scheme ${String(m.scheme)}, the bundle ${v.scheme}`, {
      got: v.scheme,
      want: m.scheme,
    });
  } else {
    v.manifest = m;
    log.pass(
      'manifest',
      signer ? "signed by the loader's signer, describes this loader" : 'signed by a trusted certificate, describes this loader',
    );
  }
}

/** transparencyLog: the manifest's inclusion against a checkpoint signed by a policy log key (and cosigned by its witnesses). */
function checkTransparencyLog(v: Verification): void {
  const { log, policy, bundle } = v;
  if (!log.runs('transparencyLog')) return;
  if (policy.logKeys.length === 0) log.skip('transparencyLog', 'no log keys in the policy: inclusion not required');
  else if (v.header) log.fail('transparencyLog', 'UNTRUSTED', 'a light skeleton carries no inclusion proof');
  else if (!bundle!.tlog) log.fail('transparencyLog', 'UNTRUSTED', 'the bundle carries no transparency-log proof');
  else if (!bundle!.manifest) log.fail('transparencyLog', 'UNTRUSTED', 'nothing to prove inclusion of: the bundle has no manifest');
  else {
    const tlog = bundle!.tlog;
    try {
      const note = openNote(
        tlog.checkpoint,
        policy.logKeys.map((k) => parseVerifierKey(k, v.caches)),
      );
      const cp = parseCheckpoint(note.text);
      const leaf = v.bundleFacts!.leaf;
      if (toHex(leaf) !== toHex(fromB64(tlog.leafHash)))
        throw new TlogError(
          'TLOG_INCLUSION_PROOF_ERROR',
          "the logged leaf is not this bundle's entry (manifest digest, signature, signer, scheme, digests)",
        );
      verifyInclusion(BigInt(tlog.logIndex), cp.size, leaf, tlog.hashes.map(fromB64), cp.root);
      // Witnesses: k of the n the policy names must have cosigned this checkpoint (offline).
      const cosigned =
        policy.witnesses.length === 0
          ? []
          : checkWitnessQuorum(
              tlog.checkpoint,
              policy.witnesses.map((w) => parseCosignerKey(w.key)),
              policy.witnessQuorum ?? policy.witnesses.length,
            );
      log.pass(
        'transparencyLog',
        `included at index ${tlog.logIndex} of ${cp.origin} (size ${cp.size}), checkpoint signed by ${note.signedBy.join(', ')}${cosigned.length ? `, cosigned by ${cosigned.map((c) => c.name).join(', ')}` : ''}`,
      );
    } catch (e) {
      log.fail('transparencyLog', 'UNTRUSTED', (e as Error).message, { code: (e as { code?: string }).code });
    }
  }
}

/** replay: the loader replayed in the kernel model does what the verified manifest's plan says (sets the replay). */
function checkReplay(v: Verification): void {
  const { log, opts, header, manifest } = v;
  if (!log.runs('replay')) return;
  if (!opts.replay) log.fail('replay', 'FAULT', 'no kernel model available to replay the loader');
  else if (!header && !manifest) log.blocked('replay', 'no verified manifest to compare with');
  else {
    const against = header ? 'the plan re-derived from the object' : 'the manifest';
    // A header's loader is replayed before anything vouches for it: a model that throws on
    // such input is a fault of the loader's replay, not a crash of the verification.
    let replay: ReplayOutcome | null = null;
    let thrown: string | null = null;
    try {
      replay = opts.replay(v.facts.loader, manifest ? manifest.plan : null, v.scheme, v.facts.digests);
    } catch (e) {
      thrown = (e as Error).message;
    }
    v.replay = replay;
    if (replay === null) log.fail('replay', 'FAULT', `the kernel model could not replay the loader: ${thrown}`);
    else if (replay.fault) log.fail('replay', 'FAULT', `the loader faulted in the kernel model: ${replay.fault}`);
    else if (replay.compared === false)
      log.pass('replay', `replayed: ${replay.programs.length} programs, ${replay.maps.length} maps (no plan to compare with)`, {
        compared: false,
      });
    else if (!replay.equal)
      log.fail('replay', 'MISMATCH', `replay differs from ${against} in ${replay.differences.length} place(s)`, {
        differences: replay.differences.slice(0, 20),
      });
    else log.pass('replay', `replayed: ${replay.programs.length} programs, ${replay.maps.length} maps, as ${against} states`);
  }
}

/** object: the loader re-derived from the object equals the input's. */
function checkObject(v: Verification): void {
  const { log, opts, header, manifest } = v;
  const loader = v.facts.loader;
  if (!log.runs('object')) return;
  if (!opts.rederive) log.skip('object', 'no object given');
  else if (!header && !manifest) log.blocked('object', 'no verified manifest with the generation options');
  else {
    try {
      const again = opts.rederive(manifest);
      if (toHex(again.insns) === toHex(loader.insns) && toHex(again.data) === toHex(loader.data))
        log.pass('object', 'the loader re-derived from the object is byte-identical');
      else
        log.fail('object', 'MISMATCH', `the loader re-derived from the object differs from the ${header ? 'header' : 'bundle'}'s`, {
          got: { insns: sha256(loader.insns), data: sha256(loader.data) },
          want: { insns: sha256(again.insns), data: sha256(again.data) },
        });
    } catch (e) {
      log.fail('object', 'MISMATCH', `cannot re-derive the loader from the object: ${(e as Error).message}`);
    }
  }
}

/** hardening: no weakness found in the loader's code. */
function checkHardening(v: Verification): void {
  const { log, opts } = v;
  if (!log.runs('hardening')) return;
  if (!opts.findings) log.skip('hardening', 'no findings available');
  else {
    let findings: HardeningFinding[] | null = null;
    try {
      findings = opts.findings();
    } catch (e) {
      log.fail('hardening', 'FAULT', `cannot assess the loader's code: ${(e as Error).message}`);
    }
    if (findings && findings.length)
      log.fail('hardening', 'POLICY', `${findings.length} weakness(es) in the loader: ${summarizeFindings(findings)}`, { findings });
    else if (findings) log.pass('hardening', 'no weaknesses found');
  }
}

/** contents: program types, map types, helpers and sizes within the policy. */
function checkContents(v: Verification): void {
  const { log } = v;
  if (!log.runs('contents')) return;
  const problems = contentProblems(v.policy, v.facts.loader, v.replay);
  if (problems.length) log.fail('contents', 'POLICY', problems.join('; '), { problems });
  else log.pass('contents', "within the policy's program types, map types, helpers and limits");
}

/** Findings counted by code, with the first one's message as the example: `CTX_OVERRIDES_MAP ×12 (loader instruction 114 reads …)`. */
function summarizeFindings(findings: HardeningFinding[]): string {
  const byCode = new Map<string, HardeningFinding[]>();
  for (const f of findings) byCode.set(f.code, [...(byCode.get(f.code) ?? []), f]);
  return [...byCode]
    .map(([code, fs]) => `${code}${fs.length > 1 ? ` ×${fs.length}` : ''} (${fs[0].message}${fs.length > 1 ? '; …' : ''})`)
    .join('; ');
}

function contentProblems(policy: TrustPolicy, loader: { insns: Uint8Array; data: Uint8Array }, replay: ReplayOutcome | null): string[] {
  const out: string[] = [];
  const l = policy.limits;
  if (l.maxLoaderInsns !== undefined && loader.insns.length / 8 > l.maxLoaderInsns)
    out.push(`loader has ${loader.insns.length / 8} insns, limit ${l.maxLoaderInsns}`);
  if (l.maxDataBytes !== undefined && loader.data.length > l.maxDataBytes)
    out.push(`loader data is ${loader.data.length} bytes, limit ${l.maxDataBytes}`);
  if (!replay) return out;
  if (l.maxPrograms !== undefined && replay.programs.length > l.maxPrograms)
    out.push(`${replay.programs.length} programs, limit ${l.maxPrograms}`);
  if (l.maxMaps !== undefined && replay.maps.length > l.maxMaps) out.push(`${replay.maps.length} maps, limit ${l.maxMaps}`);
  const a = policy.allowed;
  for (const p of replay.programs) {
    if (a.programTypes && !a.programTypes.includes(p.type)) out.push(`program ${p.name}: type ${p.type} not allowed`);
    if (l.maxInsnsPerProgram !== undefined && p.insns > l.maxInsnsPerProgram)
      out.push(`program ${p.name}: ${p.insns} insns, limit ${l.maxInsnsPerProgram}`);
    if (a.helpers) for (const h of p.helpers) if (!a.helpers.includes(h)) out.push(`program ${p.name}: helper ${h} not allowed`);
  }
  for (const m of replay.maps) {
    if (a.mapTypes && !a.mapTypes.includes(m.type)) out.push(`map ${m.name}: type ${m.type} not allowed`);
    if (l.maxMapEntries !== undefined && m.maxEntries > l.maxMapEntries)
      out.push(`map ${m.name}: max_entries ${m.maxEntries}, limit ${l.maxMapEntries}`);
  }
  return out;
}
