/**
 * verify(bundle, policy, options) → Verdict. Pure and synchronous apart from what is injected:
 * the clock (`at`), the replay of the loader in the kernel model and the re-derivation of the
 * loader from the object (both passed in as functions, so signing stays independent of the
 * kernel model). No network. Steps, in order (each a check the policy can enforce, log or skip):
 *
 *   signature        CMS over the scheme's content, by a certificate in the bundle
 *   chain            the signer chains to a policy root at `at` (keyUsage, codeSigning EKU)
 *   identity         subject / SAN allowed by the policy
 *   revocation       CRLs from the policy
 *   transparencyLog  inclusion proof against a checkpoint signed by a policy log key
 *   manifest         DSSE over the in-toto Statement by the same key; subjects = the loader files
 *   replay           the loader replayed in the kernel model does what the manifest's plan says
 *   object           the loader re-derived from the object equals the bundle's (when given)
 *   contents         program types, map types, helpers and sizes within the policy
 */
import { sha256Hex as sha256 } from '../shared/bytes.js';
import { verifyDetached, type CmsVerification } from './cms/index.js';
import { signedContent } from './schemes.js';
import { parseCertificate, validateChain, type Certificate } from './x509/index.js';
import { setStatementMemo, verifyStatement, type StatementVerification } from './statement.js';
import { setVerifiedSignatureMemo } from './algorithms.js';
import { hashLeaf, openNote, parseCheckpoint, parseVerifierKey, verifyInclusion, TlogError } from './tlog/index.js';
import { canonicalBytes } from './canonical.js';
import { fromB64, MANIFEST_PREDICATE_TYPE, type Bundle } from './bundle.js';
import { identityAllowed, type TrustPolicy } from './policy.js';
import { CheckLog, decideVerdict, type Verdict } from './verdict.js';
import { toHex } from '../shared/bytes.js';
import { isDeepFrozen } from '../shared/freeze.js';

/** What a replay in the kernel model reports, as far as verification needs it. */
export interface ReplayOutcome {
  fault: string | null;
  equal: boolean;
  differences: { path: string; expected: unknown; actual: unknown }[];
  /** Effects for the contents check. */
  programs: { name: string; type: string; insns: number; helpers: number[] }[];
  maps: { name: string; type: string; maxEntries: number }[];
  report?: unknown;
}

export interface VerifyOptions {
  at: Date;
  /** Replays the loader against the manifest's plan; absent → the replay check reports it was not available. */
  replay?: (loader: { insns: Uint8Array; data: Uint8Array }, manifestPlan: unknown, scheme: string, digests: { insns: string; data: string }) => ReplayOutcome;
  /** Re-derives the loader from the object with the manifest's options; absent → no object given. */
  rederive?: (manifest: Record<string, unknown>) => { insns: Uint8Array; data: Uint8Array; plan: unknown };
}


/**
 * Bounds every memo a verification uses (0 turns them all off; the service follows
 * BPFSIGN_CACHE_ENTRIES): verified signatures, statements, and the facts of shared bundles.
 */
export function setVerificationMemos(entries: number): void {
  bundleFactsShared = entries > 0;
  setVerifiedSignatureMemo(entries === 0 ? 0 : 4096);
  setStatementMemo(entries);
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
class BundleFacts {
  readonly loader: { insns: Uint8Array; data: Uint8Array };
  readonly certs: Certificate[] = [];
  #digests: { insns: string; data: string } | null = null;
  #signature: CmsVerification | null = null;
  #statement: StatementVerification | null = null;
  #leaf: Uint8Array | null = null;

  constructor(readonly bundle: Bundle) {
    this.loader = { insns: fromB64(bundle.loader.insns), data: fromB64(bundle.loader.data) };
    for (const pem of bundle.certificates) {
      try { this.certs.push(parseCertificate(pem)); } catch { /* reported by the chain check */ }
    }
  }

  get digests(): { insns: string; data: string } {
    return (this.#digests ??= { insns: sha256(this.loader.insns), data: sha256(this.loader.data) });
  }

  /** The CMS signature over the scheme's content, by one of the bundle's certificates (a signed bundle). */
  get signature(): CmsVerification {
    const b = this.bundle;
    return (this.#signature ??= verifyDetached(fromB64(b.signature!), signedContent(b.scheme as 'linux-6.18', this.loader.insns, this.loader.data), this.certs));
  }

  /** The manifest's DSSE signatures and statement (a bundle with a manifest). */
  get statement(): StatementVerification {
    return (this.#statement ??= verifyStatement(this.bundle.manifest, this.certs));
  }

  get leaf(): Uint8Array {
    return (this.#leaf ??= hashLeaf(canonicalBytes(this.bundle.manifest as never)));
  }
}

/**
 * Facts of deep-frozen bundles (the service's parsed bodies, shared between requests), by
 * identity: a CI gate verifying the same bundle again derives them once. Any other bundle gets
 * its own, kept by nothing (a weak collection would keep each request's through V8's scavenges).
 */
const bundleFacts = new WeakMap<Bundle, BundleFacts>();
let bundleFactsShared = true;

function factsOf(bundle: Bundle): BundleFacts {
  if (!bundleFactsShared || !isDeepFrozen(bundle)) return new BundleFacts(bundle);
  let f = bundleFacts.get(bundle);
  if (f === undefined) bundleFacts.set(bundle, (f = new BundleFacts(bundle)));
  return f;
}

function sans(cert: Certificate): string[] {
  const ext = cert.x509.getExtension('2.5.29.17') as unknown as { names?: { items?: { value: string }[] } } | null;
  return ext?.names?.items?.map((n) => n.value) ?? [];
}

export function verify(bundle: Bundle, policy: TrustPolicy, opts: VerifyOptions): Verdict<ReplayOutcome> {
  const log = new CheckLog(policy);
  const facts = factsOf(bundle);
  const loader = facts.loader;
  const digestsOf = () => facts.digests;
  let signer: Certificate | null = null;

  // signature
  const unsigned = bundle.signature === null || bundle.scheme === 'unsigned';
  if (log.runs('signature')) {
    if (unsigned) {
      if (policy.allowUnsigned) log.pass('signature', 'unsigned loader, allowed by policy');
      else log.fail('signature', 'UNSIGNED', 'the loader is not signed and the policy requires a signature');
    } else if (!policy.schemes.includes(bundle.scheme as 'linux-6.18')) {
      log.fail('signature', 'POLICY', `scheme ${bundle.scheme} is not allowed by the policy`, { got: bundle.scheme, want: policy.schemes });
    } else {
      const v = facts.signature;
      if (v.ok) {
        signer = v.signer.certificate;
        log.pass('signature', `${v.algorithm} signature over ${bundle.scheme === 'linux-6.18' ? 'the loader instructions' : 'instructions ‖ data'} verifies`, { subjectKeyIdentifier: v.signer.subjectKeyIdentifier, algorithm: v.algorithm });
      } else {
        const code = v.error.code === 'UNKNOWNKEY' ? 'UNKNOWNKEY' : 'BADSIG';
        log.fail('signature', code, v.error.message, v.error.details as Record<string, unknown>);
      }
    }
  }

  // chain, identity, revocation
  for (const check of ['chain', 'identity', 'revocation'] as const) {
    if (!log.runs(check)) continue;
    if (!signer) { log.blocked(check, unsigned ? 'unsigned loader' : 'no verified signer'); continue; }
    if (check === 'chain') {
      const r = validateChain(signer, { roots: policy.roots, intermediates: [...policy.intermediates, ...bundle.certificates.slice(1)] }, { at: opts.at });
      if (r.ok) log.pass('chain', `chains to ${r.path[r.path.length - 1].subject}`, { path: r.path.map((c) => c.subject) });
      else log.fail('chain', 'UNTRUSTED', r.error.message, r.error.details as Record<string, unknown>);
    } else if (check === 'identity') {
      const id = identityAllowed(policy, signer.subject, sans(signer));
      if (id.ok) log.pass('identity', id.matched === undefined ? 'any identity under the roots is allowed' : `matches allowed identity #${id.matched}`, { subject: signer.subject });
      else log.fail('identity', 'UNTRUSTED', `signer ${signer.subject} is not an allowed identity`, { got: { subject: signer.subject, sans: sans(signer) }, want: policy.identities });
    } else if (policy.crls.length === 0) {
      log.pass('revocation', 'no CRLs configured');
    } else {
      const r = validateChain(signer, { roots: policy.roots, intermediates: [...policy.intermediates, ...bundle.certificates.slice(1)], crls: policy.crls }, { at: opts.at, requireRevocationCheck: true });
      if (r.ok) log.pass('revocation', 'not revoked by any configured CRL');
      else log.fail('revocation', 'UNTRUSTED', r.error.message, r.error.details as Record<string, unknown>);
    }
  }

  // transparency log
  if (log.runs('transparencyLog')) {
    if (policy.logKeys.length === 0) log.pass('transparencyLog', 'no log keys in the policy: inclusion not required');
    else if (!bundle.tlog) log.fail('transparencyLog', 'UNTRUSTED', 'the bundle carries no transparency-log proof');
    else if (!bundle.manifest) log.fail('transparencyLog', 'UNTRUSTED', 'nothing to prove inclusion of: the bundle has no manifest');
    else {
      try {
        const note = openNote(bundle.tlog.checkpoint, policy.logKeys.map(parseVerifierKey));
        const cp = parseCheckpoint(note.text);
        const leaf = facts.leaf;
        if (toHex(leaf) !== toHex(fromB64(bundle.tlog.leafHash))) throw new TlogError('TLOG_INCLUSION_PROOF_ERROR', 'the logged leaf is not this bundle\'s manifest');
        verifyInclusion(BigInt(bundle.tlog.logIndex), cp.size, leaf, bundle.tlog.hashes.map(fromB64), cp.root);
        log.pass('transparencyLog', `included at index ${bundle.tlog.logIndex} of ${cp.origin} (size ${cp.size}), checkpoint signed by ${note.signedBy.join(', ')}`);
      } catch (e) {
        log.fail('transparencyLog', 'UNTRUSTED', (e as Error).message, { code: (e as { code?: string }).code });
      }
    }
  }

  // manifest
  let manifest: Record<string, unknown> | null = null;
  if (log.runs('manifest')) {
    if (!bundle.manifest) {
      log.fail('manifest', unsigned ? 'UNSIGNED' : 'PARTIALSIG', 'the bundle has no signed manifest');
    } else {
      const v = facts.statement;
      if (!v.ok) {
        log.fail('manifest', signer ? 'PARTIALSIG' : 'BADSIG', `manifest: ${v.error.message}`, v.error.details as Record<string, unknown>);
      } else {
        const st = v.statement;
        const m = st.predicate as Record<string, unknown>;
        const digests = Object.fromEntries(st.subject.map((s) => [s.name, s.digest.sha256]));
        const bySigner = signer ? v.signers.some((s) => s.subjectKeyIdentifier === signer!.subjectKeyIdentifier) : false;
        if (st.predicateType !== MANIFEST_PREDICATE_TYPE) log.fail('manifest', 'MISMATCH', `predicateType ${st.predicateType}`, { got: st.predicateType, want: MANIFEST_PREDICATE_TYPE });
        else if (digests['insns.bin'] !== digestsOf().insns || digests['data.bin'] !== digestsOf().data) {
          log.fail('manifest', 'MISMATCH', 'the manifest\'s subjects are not this loader', { got: digestsOf(), want: digests });
        } else if (m.scheme !== bundle.scheme) {
          log.fail('manifest', 'MISMATCH', `the manifest says scheme ${String(m.scheme)}, the bundle ${bundle.scheme}`, { got: bundle.scheme, want: m.scheme });
        } else if (signer && !bySigner) {
          log.fail('manifest', 'PARTIALSIG', 'the manifest is signed by a different key than the loader');
        } else {
          manifest = m;
          log.pass('manifest', 'signed manifest describes this loader');
        }
      }
    }
  }

  // replay
  let replay: ReplayOutcome | null = null;
  if (log.runs('replay')) {
    if (!opts.replay) log.fail('replay', 'FAULT', 'no kernel model available to replay the loader');
    else if (!manifest) log.blocked('replay', 'no verified manifest to compare with');
    else {
      replay = opts.replay(loader, manifest.plan, bundle.scheme, digestsOf());
      if (replay.fault) log.fail('replay', 'FAULT', `the loader faulted in the kernel model: ${replay.fault}`);
      else if (!replay.equal) log.fail('replay', 'MISMATCH', `replay differs from the manifest in ${replay.differences.length} place(s)`, { differences: replay.differences.slice(0, 20) });
      else log.pass('replay', `replayed: ${replay.programs.length} programs, ${replay.maps.length} maps, as the manifest states`);
    }
  }

  // object
  if (log.runs('object')) {
    if (!opts.rederive) log.pass('object', 'no object given');
    else if (!manifest) log.blocked('object', 'no verified manifest with the generation options');
    else {
      try {
        const again = opts.rederive(manifest);
        if (toHex(again.insns) === toHex(loader.insns) && toHex(again.data) === toHex(loader.data)) log.pass('object', 'the loader re-derived from the object is byte-identical');
        else log.fail('object', 'MISMATCH', 'the loader re-derived from the object differs from the bundle\'s', { got: { insns: sha256(loader.insns), data: sha256(loader.data) }, want: { insns: sha256(again.insns), data: sha256(again.data) } });
      } catch (e) {
        log.fail('object', 'MISMATCH', `cannot re-derive the loader from the object: ${(e as Error).message}`);
      }
    }
  }

  // contents
  if (log.runs('contents')) {
    const problems = contentProblems(policy, loader, replay);
    if (problems.length) log.fail('contents', 'POLICY', problems.join('; '), { problems });
    else log.pass('contents', 'within the policy\'s program types, map types, helpers and limits');
  }

  const verdict = decideVerdict(log.results);
  return {
    verdict, ok: verdict === 'OK', policy: policy.name, checks: log.results,
    signer: signer ? { subject: signer.subject, sans: sans(signer), subjectKeyIdentifier: signer.subjectKeyIdentifier ?? '', issuer: signer.issuer, serial: signer.serialNumber } : null,
    scheme: bundle.scheme, replay,
  };
}

function contentProblems(policy: TrustPolicy, loader: { insns: Uint8Array; data: Uint8Array }, replay: ReplayOutcome | null): string[] {
  const out: string[] = [];
  const l = policy.limits;
  if (l.maxLoaderInsns !== undefined && loader.insns.length / 8 > l.maxLoaderInsns) out.push(`loader has ${loader.insns.length / 8} insns, limit ${l.maxLoaderInsns}`);
  if (l.maxDataBytes !== undefined && loader.data.length > l.maxDataBytes) out.push(`loader data is ${loader.data.length} bytes, limit ${l.maxDataBytes}`);
  if (!replay) return out;
  if (l.maxPrograms !== undefined && replay.programs.length > l.maxPrograms) out.push(`${replay.programs.length} programs, limit ${l.maxPrograms}`);
  if (l.maxMaps !== undefined && replay.maps.length > l.maxMaps) out.push(`${replay.maps.length} maps, limit ${l.maxMaps}`);
  const a = policy.allowed;
  for (const p of replay.programs) {
    if (a.programTypes && !a.programTypes.includes(p.type)) out.push(`program ${p.name}: type ${p.type} not allowed`);
    if (l.maxInsnsPerProgram !== undefined && p.insns > l.maxInsnsPerProgram) out.push(`program ${p.name}: ${p.insns} insns, limit ${l.maxInsnsPerProgram}`);
    if (a.helpers) for (const h of p.helpers) if (!a.helpers.includes(h)) out.push(`program ${p.name}: helper ${h} not allowed`);
  }
  for (const m of replay.maps) {
    if (a.mapTypes && !a.mapTypes.includes(m.type)) out.push(`map ${m.name}: type ${m.type} not allowed`);
    if (l.maxMapEntries !== undefined && m.maxEntries > l.maxMapEntries) out.push(`map ${m.name}: max_entries ${m.maxEntries}, limit ${l.maxMapEntries}`);
  }
  return out;
}
