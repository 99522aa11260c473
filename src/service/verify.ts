/**
 * Verification as the CLI and the API run it: the signing core's verify() with the kernel model
 * injected (replay of the loader against the manifest's plan) and, when the object is given, the
 * loader re-derived from it with the manifest's recorded options.
 */
import { planFromJson } from '../loader/plan/index.js';
import { replay } from '../kernel/replay/index.js';
import { compareWithPlan } from './replay-compare.js';
import type { KernelProfile } from '../kernel/profile/index.js';
import { verify, type HardeningFinding, type ReplayOutcome } from '../signing/verify.js';
import { loaderWeaknesses, type LoaderWeakness } from '../loader/gen/index.js';
import type { Plan } from '../loader/plan/index.js';
import type { Bundle } from '../signing/bundle.js';
import { PolicyFormatError, type TrustPolicy } from '../signing/policy.js';
import { helperId } from '../loader/isa/index.js';
import type { Verdict } from '../signing/verdict.js';
import type { VerificationCaches } from '../signing/caches.js';
import { buildLoader, type BuildFlavour, type BuildOptions, type BuiltLoader, type LoaderCache } from './loader.js';
import { manifestPredicate } from './verify-files.js';
import { fromB64 } from '../signing/bundle.js';
import { readKernelProfile } from './profile.js';
import { fingerprint, Lru, Sightings } from '../shared/lru.js';
import { jsonReplacer, toPlainJson } from '../shared/json.js';
import { sha256Hex } from '../shared/bytes.js';
import { deepFreeze, isDeepFrozen } from '../shared/freeze.js';

/** The kernel profile replays run against: 'host' (the running kernel, default), a profile directory or a vmlinux BTF file. */
export function loadProfile(spec = 'host'): KernelProfile {
  return readKernelProfile(spec);
}

export function replayOutcome(
  loader: { insns: Uint8Array; data: Uint8Array },
  planJson: unknown,
  scheme: string,
  profile: KernelProfile,
): ReplayOutcome {
  const plan = planFromJson(planJson);
  return replayWith(loader, plan, scheme, profile, { nrMaps: plan.nrMaps, nrProgs: plan.programs.length });
}

/**
 * Replays a loader and compares its effects with `plan`; with no plan (a header without its
 * object) the effects are reported uncompared (`compared: false`). `ctx` gives the ctx's
 * dimensions and, for a header, the skeleton's initial images.
 */
export function replayWith(
  loader: { insns: Uint8Array; data: Uint8Array },
  plan: Plan | null,
  scheme: string,
  profile: KernelProfile,
  ctx: { nrMaps: number; nrProgs: number; initialValues?: ReadonlyMap<number, Uint8Array> },
): ReplayOutcome {
  const report = replay(loader, profile, {
    scheme: scheme as 'unsigned',
    nrMaps: ctx.nrMaps,
    nrProgs: ctx.nrProgs,
    ...(ctx.initialValues ? { initialValues: Object.fromEntries(ctx.initialValues) } : {}),
  });
  const fault = report.fault
    ? `${report.fault.code}: ${report.fault.message}`
    : !report.ok
      ? `stage ${report.stage} failed with errno ${report.errno}`
      : null;
  const cmp = plan ? compareWithPlan(report, plan) : { equal: true, differences: [] };
  return {
    fault,
    equal: cmp.equal,
    differences: cmp.differences,
    ...(plan ? {} : { compared: false }),
    programs: report.progs.map((p) => ({ name: p.name, type: p.typeName, insns: p.insnCnt, helpers: p.helpers })),
    maps: report.maps.map((m) => ({ name: m.name, type: m.typeName, maxEntries: m.maxEntries })),
    report,
  };
}

/**
 * The loader weaknesses a policy decides on (the hardening check), for a signed loader: what the
 * loader's code lets its caller change after the metadata check (CTX_OVERRIDES_MAP), and a signed
 * header that sets no excl_prog_hash. The instruction-only METADATA_MAP_NOT_EXCLUSIVE (no in-loader
 * map->excl check) is not counted: that check reads a kernel field released 6.18 kernels lack, and
 * a loader whose metadata map is created with excl_prog_hash has the kernel enforce exclusivity at
 * PROG_LOAD (EACCES otherwise).
 */
export function signedLoaderFindings(found: LoaderWeakness[]): HardeningFinding[] {
  return found.filter((w) => !(w.code === 'METADATA_MAP_NOT_EXCLUSIVE' && w.details.source === 'insns'));
}

/** Where a ReplayCache outcome keeps its JSON text (see ReplayCache.outcome). */
const JSON_TEXT = Symbol('json');
type WithJson = ReplayOutcome & { [JSON_TEXT]?: string };

/**
 * Replay outcomes by everything a replay depends on — the loader's instructions and blob, the
 * manifest's plan, the scheme and the kernel profile — as SHA-256 digests: replay is a pure
 * function of these, so a hit is the outcome a replay would give. Outcomes are kept (and handed
 * out) as plain JSON, the form the API answers with. The other checks of a verification (the
 * signature, the chain at the current time, the log proof, the manifest) always run.
 */
export class ReplayCache {
  readonly #lru: Lru<string, ReplayOutcome>;
  readonly #findings: Lru<string, HardeningFinding[]>;
  readonly #profiles = new WeakMap<KernelProfile, number>();
  /** Digests of plans that cannot change (deep-frozen: the statement memo's), by identity. */
  readonly #plans = new WeakMap<object, string>();
  #nextProfile = 0;

  constructor(entries = 64, maxBytes = 64 << 20) {
    this.#lru = new Lru(entries, maxBytes);
    this.#findings = new Lru(entries, maxBytes >> 2);
  }

  get stats(): { hits: number; misses: number; evictions: number; entries: number } {
    return this.#lru.summary;
  }

  /**
   * A signed loader's hardening findings by its instructions' base64 text: a pure function of
   * those bytes, and a data-flow walk over every instruction.
   */
  findings(insnsB64: string): HardeningFinding[] {
    return this.#findings.through(
      insnsB64,
      () => signedLoaderFindings(loaderWeaknesses(fromB64(insnsB64))),
      () => insnsB64.length,
    );
  }

  /** `digests`, when the caller has them, are the SHA-256 (hex) of loader.insns and loader.data. */
  outcome(
    loader: { insns: Uint8Array; data: Uint8Array },
    planJson: unknown,
    scheme: string,
    profile: KernelProfile,
    digests?: { insns: string; data: string },
  ): ReplayOutcome {
    let p = this.#profiles.get(profile);
    if (p === undefined) this.#profiles.set(profile, (p = this.#nextProfile++));
    const key = `${digests?.insns ?? sha256Hex(loader.insns)}:${digests?.data ?? sha256Hex(loader.data)}:${this.#planDigest(planJson)}:${scheme}:${p}`;
    return this.#lru.through(
      key,
      () => {
        // Plain JSON built directly (toPlainJson), then its text without a replacer: the same text
        // as JSON.stringify with jsonReplacer and a JSON.parse back, without their second pass.
        const o = toPlainJson<ReplayOutcome>(replayOutcome(loader, planJson, scheme, profile));
        const text = JSON.stringify(o);
        // The JSON text, made once (a verdict's largest part), kept on the outcome itself under a
        // symbol (JSON.stringify and Object.keys do not see it): a WeakMap keyed by outcomes kept
        // each caches-off verification's outcome alive through V8's scavenges (see deepFreeze).
        Object.defineProperty(o, JSON_TEXT, { value: text });
        return o;
      },
      (o) => 4 * ((o as WithJson)[JSON_TEXT]?.length ?? 0),
    );
  }

  #planDigest(planJson: unknown): string {
    const frozen = isDeepFrozen(planJson);
    const known = frozen ? this.#plans.get(planJson as object) : undefined;
    if (known !== undefined) return known;
    const d = sha256Hex(new TextEncoder().encode(JSON.stringify(planJson) ?? 'undefined'));
    if (frozen) this.#plans.set(planJson as object, d);
    return d;
  }

  /** JSON text of an outcome (the cached text when the outcome came from this cache). */
  json(o: ReplayOutcome): string {
    return (o as WithJson)[JSON_TEXT] ?? JSON.stringify(o, jsonReplacer);
  }
}

/** A POST /v1/verifications body, parsed and checked: the bundle, the object (base64), a policy inline or by name. */
export interface VerificationRequest {
  /** Exactly one of bundle and header. */
  bundle?: Bundle;
  /** A light skeleton's text (verify-header.ts). */
  header?: string;
  /** PEM certificates given beside a header. */
  certificates?: string[];
  object?: string;
  policy?: string | Record<string, unknown>;
}

/**
 * Parsed request bodies by the SHA-256 of their bytes: parsing and checking the same bytes gives
 * the same value, so a CI gate posting the same bundle again skips the JSON parse and the schema
 * check. A body is kept from its second sight on (a doorkeeper, as in TinyLFU): a gate that checks each
 * build's new bundle once would otherwise keep every bundle's parse, and what verification
 * derives from it, until evicted — all of it carried into V8's old space, making full
 * collections frequent under load.
 * Only successful parses are kept; bad bodies are parsed, and answered with their problem, every
 * time. Kept values are deep-frozen and shared (deepFreeze), so the verification memos may key on
 * their identity (see verify's bundle facts); a value that is not kept is not frozen. With 0
 * entries nothing is hashed or kept.
 */
export class ParsedBodies<T> {
  readonly #lru: Lru<string, T>;
  /**
   * Fingerprints (CRC-32 and length) of the bodies seen lately, two generations of up to
   * `entries` each (the doorkeeper), and of the bodies kept: a body whose fingerprint is in
   * neither is parsed without being hashed or looked up (a CI gate's new bundle: the SHA-256 of
   * its 50 KB was a twentieth of its verification). Two bodies of one fingerprint only cost the
   * second a hash and a lookup, which are exact; a kept fingerprint whose body was dropped costs
   * one lookup, and is forgotten then. The kept set is emptied past four times `entries` (kept
   * bodies are then found again from their next sight but one).
   */
  readonly #sights: Sightings<string>;
  readonly #kept = new Set<string>();

  constructor(entries = 64, maxBytes = 64 << 20) {
    this.#lru = new Lru(entries, maxBytes);
    this.#sights = new Sightings(entries);
  }

  get stats(): { hits: number; misses: number; evictions: number; entries: number } {
    return this.#lru.summary;
  }

  parse(raw: Uint8Array, parse: (raw: Uint8Array) => T): T {
    if (this.#lru.maxEntries <= 0) return parse(raw);
    const sight = fingerprint([raw]);
    const kept = this.#kept.has(sight);
    if (!this.#sights.sight(sight) && !kept) {
      this.#lru.stats.misses++;
      return parse(raw);
    }
    const key = sha256Hex(raw);
    const hit = this.#lru.get(key);
    if (hit !== undefined) return hit;
    if (kept) this.#kept.delete(sight);
    const value = parse(raw);
    // Weighed at three times the body: its parsed strings take about its size again (one byte per
    // character: bundles are ASCII), the facts verification keeps with a shared bundle (its
    // decoded loader and certificates) up to three quarters of it, and the rest is headroom for
    // the objects around them.
    this.#lru.set(key, value, 3 * raw.length);
    if (!this.#lru.has(key)) return value;
    if (this.#kept.size >= 4 * this.#lru.maxEntries) this.#kept.clear();
    this.#kept.add(sight);
    return deepFreeze(value);
  }
}

/** The loader gen makes from `object` with a manifest's recorded name, scheme and options. */
function buildFromManifest(
  m: Record<string, unknown>,
  object: Uint8Array,
  build: (bytes: Uint8Array, file: string, o: BuildOptions) => BuiltLoader,
): BuiltLoader {
  const o = m.object as { name: string; file: string };
  const options = m.options as { flavour: BuildFlavour; standalone: boolean; kernel: { mapExcl: boolean }; host: Record<string, unknown> };
  const host = {
    ...options.host,
    ksymAddresses: Object.fromEntries(
      Object.entries((options.host.ksymAddresses ?? {}) as Record<string, string>).map(([k, v]) => [k, BigInt(v)]),
    ),
  };
  return build(object, o.file, {
    scheme: m.scheme as 'unsigned',
    name: o.name,
    flavour: options.flavour,
    standalone: options.standalone,
    mapExcl: options.kernel.mapExcl,
    host,
  });
}

/**
 * The loader gen makes from `object` with the options the bundle's manifest records (what a gen
 * directory's loader.json and header are compared with), or null when the bundle has no readable
 * manifest or the object does not build.
 */
export function rebuiltFor(bundle: Bundle, object: Uint8Array, loaders?: LoaderCache): BuiltLoader | null {
  const m = manifestPredicate(bundle);
  if (!m) return null;
  try {
    return buildFromManifest(m, object, loaders ? loaders.build.bind(loaders) : buildLoader);
  } catch {
    return null; // the object check names why
  }
}

/**
 * The policy with its allowed helpers as ids: a policy may name them (`bpf_map_lookup_elem` or
 * `map_lookup_elem`) and the replay reports ids. A name the helper table does not know is a
 * PolicyFormatError naming it (it could never allow anything).
 */
export function withHelperIds(policy: TrustPolicy): TrustPolicy {
  const helpers = policy.allowed.helpers;
  if (!helpers || helpers.every((h) => typeof h === 'number')) return policy;
  const bad: { path: string; message: string }[] = [];
  const ids = helpers.map((h, i) => {
    if (typeof h === 'number') return h;
    const id = helperId(h);
    if (id === undefined) bad.push({ path: `allowed.helpers.${i}`, message: `unknown helper ${h}` });
    return id ?? -1;
  });
  if (bad.length) throw new PolicyFormatError(bad);
  return { ...policy, allowed: { ...policy.allowed, helpers: ids } };
}

/** `caches`: the calling thread's verification memos (VerificationMemos); absent, nothing is kept (the CLI). */
export function verifyBundle(
  bundle: Bundle,
  policy: TrustPolicy,
  opts: {
    at: Date;
    object?: Uint8Array;
    profile?: KernelProfile | null;
    replays?: ReplayCache;
    loaders?: LoaderCache;
    caches?: VerificationCaches;
  },
): Verdict<ReplayOutcome> {
  const profile = opts.profile;
  const build = opts.loaders ? opts.loaders.build.bind(opts.loaders) : buildLoader;
  return verify(bundle, withHelperIds(policy), {
    at: opts.at,
    caches: opts.caches,
    replay: profile
      ? (loader, plan, scheme, digests) =>
          opts.replays ? opts.replays.outcome(loader, plan, scheme, profile, digests) : replayOutcome(loader, plan, scheme, profile)
      : undefined,
    rederive: opts.object
      ? (m) => {
          if (!m) throw new Error('no manifest with the generation options');
          const built = buildFromManifest(m, opts.object!, build);
          return { insns: built.loader.insns, data: built.loader.data, plan: built.plan };
        }
      : undefined,
    findings: () =>
      bundle.signature === null
        ? []
        : opts.replays
          ? opts.replays.findings(bundle.loader.insns)
          : signedLoaderFindings(loaderWeaknesses(fromB64(bundle.loader.insns))),
  });
}

/**
 * A verdict's JSON text (bytes as hex, bigints as decimal strings), the replay report taken from
 * the cache's text when it has them: the same text JSON.stringify would give. Text, not bytes:
 * it crosses from a verification worker to the event loop as a string, which lives and dies in
 * the young generation there, where a transferred buffer was external memory that only a full
 * collection gave back (the event loop allocates too little for scavenges to come often: under a
 * load of new bundles its full collections came every second).
 */
export function verdictJson(v: Verdict<ReplayOutcome>, replays?: ReplayCache): string {
  const { replay, ...rest } = v;
  const head = JSON.stringify(rest, jsonReplacer);
  const tail = replay === null ? 'null' : replays ? replays.json(replay) : JSON.stringify(replay, jsonReplacer);
  return `${head.slice(0, -1)},"replay":${tail}}`;
}
