/**
 * Verifying a light skeleton on its own — the file a CI gate usually holds, ours or one
 * `bpftool gen skeleton -L -S` wrote. The header carries the loader, its PKCS#7 (no certificate:
 * bpftool's SignerInfo names the key by SKI, so the signer is found among the policy's
 * certificates) and excl_prog_hash, but no manifest and no log proof. What stands in for them:
 *
 *   text      the header prints again from its own reading (every line of C is the emitter's),
 *             and with the object it is byte for byte the header gen writes for that object
 *   scheme    the content the signature verifies over: instructions (linux-6.18) or
 *             instructions ‖ data (linux-load-time); a header does not say which
 *   object    with the object, the loader is re-derived (our v1.7 and libbpf v1.7.0's flavours)
 *             and must be byte-identical; its plan is what the replay is compared with
 *   hardening what the loader's own code lets a caller change after its hash check
 *   contents  the two parts the text check prints back as read — the maps' initial images and the
 *             global variables' declarations — against what the signed loader loads (replayed
 *             with no images in its ctx, and its BTF); part of the files check (header-contents.ts)
 */
import { sha256 as sha256Bytes } from '../shared/bytes.js';
import { loaderWeaknesses, type ParsedLightSkeleton } from '../loader/gen/index.js';
import { checkLightSkeletonText, firstDifference, type LightSkeletonTextCheck } from '../loader/gen/lskel-reread.js';
import type { KernelProfile } from '../kernel/profile/index.js';
import { verifyDetached } from '../signing/cms/index.js';
import { parseCertificate, type Certificate } from '../signing/x509/index.js';
import type { VerificationCaches } from '../signing/caches.js';
import { signedContent } from '../signing/schemes.js';
import { verify, type HardeningFinding, type HeaderInput, type ReplayOutcome } from '../signing/verify.js';
import type { TrustPolicy } from '../signing/policy.js';
import { withCheck, type Verdict } from '../signing/verdict.js';
import { LoaderError } from '../loader/errors.js';
import { buildLoader, signedHeader, type BuildFlavour, type BuiltLoader, type LoaderCache } from './loader.js';
import { replayWith, signedLoaderFindings, withHelperIds, type ReplayCache } from './verify.js';
import { checkHeaderContents, type HeaderContentsCheck } from './header-contents.js';

export interface HeaderVerification {
  verdict: Verdict<ReplayOutcome>;
  /** The skeleton's name, scheme as found, and which flavour re-derived it (with the object). */
  header: { name: string; scheme: HeaderInput['scheme']; maps: number; progs: number; flavour: BuildFlavour | null };
  /** Whether the header's text is what the emitter prints (and gen writes, with the object). */
  text: { ok: true } | { ok: false; line: number; got: string; want: string; message: string };
  /**
   * The initial images and declarations compared with the signed loader's (null: not run, because
   * the text check failed or the object showed the header is the one gen writes for it).
   */
  contents: HeaderContentsCheck | null;
}

export interface HeaderVerifyOptions {
  at: Date;
  object?: Uint8Array;
  /** The object's file name (what gen records); defaults to NAME.o. */
  objectFile?: string;
  profile?: KernelProfile | null;
  /** Certificates given beside the header (signer, intermediates), PEM. */
  certificates?: string[];
  replays?: ReplayCache;
  loaders?: LoaderCache;
  /** The calling thread's verification memos (VerificationMemos); absent, nothing is kept (the CLI). */
  caches?: VerificationCaches;
}

/** A header that cannot be read at all (not a light skeleton): the caller's input error. */
export class HeaderFormatError extends Error {
  override readonly name = 'HeaderFormatError';
  readonly code = 'HEADER_INVALID' as const;
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};

/** Which scheme's content the signature verifies over, among the candidates; linux-6.18 when neither. */
function schemeOf(h: ParsedLightSkeleton, candidates: Certificate[], caches: VerificationCaches | undefined): HeaderInput['scheme'] {
  if (!h.signature) return 'unsigned';
  if (verifyDetached(h.signature, h.insns, candidates, caches).ok) return 'linux-6.18';
  if (verifyDetached(h.signature, concat(h.insns, h.data), candidates, caches).ok) return 'linux-load-time';
  return 'linux-6.18';
}

function candidatesOf(policy: TrustPolicy, given: string[], caches: VerificationCaches | undefined): Certificate[] {
  const out: Certificate[] = [];
  for (const pem of [...given, ...policy.intermediates, ...policy.roots]) {
    try {
      out.push(parseCertificate(pem, caches?.certificates));
    } catch {
      /* the chain check names a bad certificate */
    }
  }
  return out;
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** The flavours a header may have been made with, in the order they are tried. */
const FLAVOURS: { flavour: BuildFlavour; mapExcl: boolean }[] = [
  { flavour: 'v1.7', mapExcl: false },
  { flavour: 'v1.7', mapExcl: true },
  { flavour: 'libbpf-1.7', mapExcl: false },
];

/** The object's loader that equals the header's, trying each flavour; the first that builds when none equals. */
function rederive(
  h: ParsedLightSkeleton,
  scheme: HeaderInput['scheme'],
  object: Uint8Array,
  file: string,
  loaders?: LoaderCache,
): { built: BuiltLoader; flavour: BuildFlavour; equal: boolean } | { error: string } {
  const build = loaders ? loaders.build.bind(loaders) : buildLoader;
  let first: { built: BuiltLoader; flavour: BuildFlavour } | null = null;
  let error = '';
  for (const f of FLAVOURS) {
    if (f.mapExcl && scheme !== 'linux-6.18') continue;
    let built: BuiltLoader;
    try {
      built = build(object, file, { scheme, name: h.name, flavour: f.flavour, standalone: false, mapExcl: f.mapExcl, host: {} });
    } catch (e) {
      error ||= (e as Error).message;
      continue;
    }
    if (same(built.loader.insns, h.insns) && same(built.loader.data, h.data)) return { built, flavour: f.flavour, equal: true };
    first ??= { built, flavour: f.flavour };
  }
  return first ? { ...first, equal: false } : { error };
}

/** Hardening findings of a header's loader that the policy decides on (see the note on exclusivity). */
export function headerFindings(h: ParsedLightSkeleton): HardeningFinding[] {
  if (!h.signature) return [];
  // The instruction-only METADATA_MAP_NOT_EXCLUSIVE (no in-loader map->excl check) is left out:
  // that check needs a kernel field released 6.18 kernels lack, and a header that sets
  // excl_prog_hash has the kernel enforce exclusivity at PROG_LOAD. A signed header without
  // excl_prog_hash is reported (source 'header').
  return signedLoaderFindings(loaderWeaknesses(h.insns, { header: h }));
}

export function verifyHeader(text: string, policy: TrustPolicy, opts: HeaderVerifyOptions): HeaderVerification {
  const check: LightSkeletonTextCheck = checkLightSkeletonText(text);
  if (!check.ok && !check.reread) throw new HeaderFormatError(check.message, { section: 'lskel.h' });
  const h = check.reread!.parsed;
  const scheme = schemeOf(h, candidatesOf(policy, opts.certificates ?? [], opts.caches), opts.caches);
  const input: HeaderInput = {
    kind: 'header',
    scheme,
    loader: { insns: h.insns, data: h.data },
    signature: h.signature,
    certificates: opts.certificates ?? [],
  };

  let derived: ReturnType<typeof rederive> | null = null;
  const objectLoader = () => (derived ??= rederive(h, scheme, opts.object!, opts.objectFile ?? `${h.name}.o`, opts.loaders));
  const profile = opts.profile;
  const ctx = { nrMaps: h.maps.length, nrProgs: h.progs.length, initialValues: h.initialValues };

  const verdict = verify(input, withHelperIds(policy), {
    at: opts.at,
    caches: opts.caches,
    replay: profile
      ? (loader, _plan, s) => {
          const d = opts.object ? objectLoader() : null;
          const plan = d && 'built' in d ? d.built.plan : null;
          return replayWith(loader, plan, s, profile, ctx);
        }
      : undefined,
    rederive: opts.object
      ? () => {
          const d = objectLoader();
          if ('error' in d) throw new LoaderError('OBJECT_UNSUPPORTED', d.error || 'no flavour builds this object', {});
          return { insns: d.built.loader.insns, data: d.built.loader.data, plan: d.built.plan };
        }
      : undefined,
    findings: () => headerFindings(h),
  });

  let textResult: HeaderVerification['text'] = check.ok
    ? { ok: true }
    : { ok: false, line: check.line, got: check.got, want: check.want, message: check.message };
  // excl_prog_hash must be the loader's digest, or the kernel refuses the metadata map's use (EACCES).
  if (textResult.ok && h.exclProgHash && !same(h.exclProgHash, sha256Bytes(h.insns))) {
    textResult = {
      ok: false,
      line: 0,
      got: Buffer.from(h.exclProgHash).toString('hex'),
      want: Buffer.from(sha256Bytes(h.insns)).toString('hex'),
      message: 'opts_excl_hash is not the SHA-256 of the loader instructions',
    };
  }
  let flavour: BuildFlavour | null = null;
  if (opts.object) {
    const d = objectLoader();
    if ('built' in d) {
      flavour = d.equal ? d.flavour : null;
      if (d.equal && textResult.ok) {
        const want = h.signature ? signedHeader(d.built, h.signature) : d.built.header;
        const diff = firstDifference(text, want);
        if (diff) textResult = { ok: false, ...diff, message: `line ${diff.line} differs from the header gen writes for this object` };
      }
    }
  }
  // Without the object, the images and declarations are compared with what the signed loader
  // loads; with it, a header equal to gen's for the object already has the object's.
  const contents = textResult.ok && !flavour ? checkHeaderContents(check.reread!, text, { scheme, profile }) : null;
  const files = !textResult.ok
    ? {
        check: 'files' as const,
        status: 'fail' as const,
        code: 'MISMATCH' as const,
        message: `the header: ${textResult.message}`,
        details: { line: textResult.line, got: textResult.got, want: textResult.want },
      }
    : contents?.status === 'fail'
      ? {
          check: 'files' as const,
          status: 'fail' as const,
          code: 'MISMATCH' as const,
          message: `the header: ${contents.message}`,
          details: { problems: contents.problems },
        }
      : {
          check: 'files' as const,
          status: 'pass' as const,
          message: flavour
            ? 'the header is byte for byte the one gen writes for this object'
            : `the header prints again byte for byte from its own reading; ${contents!.message}`,
          ...(contents?.status === 'unchecked' ? { details: { contents: 'unchecked', reason: contents.reason } } : {}),
        };
  // bpftool's PKCS#7, and ours in a header, carry no certificate: say where the signer's comes from.
  if (!(opts.certificates ?? []).length) {
    for (const c of verdict.checks) {
      if (c.check === 'signature' && c.code === 'UNKNOWNKEY')
        c.message +=
          "; a light skeleton carries no certificate: give the signer's beside it (--cert, or certificates in the request; GET /v1/keys lists the service's) or put it in the policy";
    }
  }
  return {
    verdict: withCheck(verdict, policy, files),
    header: { name: h.name, scheme, maps: h.maps.length, progs: h.progs.length, flavour },
    text: textResult,
    contents,
  };
}
