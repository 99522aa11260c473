/**
 * Verification as the CLI and the API run it: the signing core's verify() with the kernel model
 * injected (replay of the loader against the manifest's plan) and, when the object is given, the
 * loader re-derived from it with the manifest's recorded options.
 */
import { planFromJson } from '../loader/plan/index.js';
import { replay, compareWithPlan } from '../kernel/replay/index.js';
import type { KernelProfile } from '../kernel/profile/index.js';
import { verify, type ReplayOutcome } from '../signing/verify.js';
import type { Bundle } from '../signing/bundle.js';
import type { TrustPolicy } from '../signing/policy.js';
import type { Verdict } from '../signing/verdict.js';
import { buildLoader, type LoaderCache } from './loader.js';
import { readKernelProfile } from './profile.js';
import { Lru } from '../shared/lru.js';
import { jsonReplacer, toPlainJson } from '../shared/json.js';
import { sha256Hex } from '../shared/bytes.js';
import { deepFreeze, isDeepFrozen } from '../shared/freeze.js';

/** The kernel profile replays run against: 'host' (the running kernel, default), a profile directory or a vmlinux BTF file. */
export function loadProfile(spec = 'host'): KernelProfile {
  return readKernelProfile(spec);
}

export function replayOutcome(loader: { insns: Uint8Array; data: Uint8Array }, planJson: unknown, scheme: string, profile: KernelProfile): ReplayOutcome {
  const plan = planFromJson(planJson);
  const report = replay(loader, profile, { scheme: scheme as 'unsigned', nrMaps: plan.nrMaps, nrProgs: plan.programs.length });
  const fault = report.fault ? `${report.fault.code}: ${report.fault.message}` : !report.ok ? `stage ${report.stage} failed with errno ${report.errno}` : null;
  const cmp = compareWithPlan(report, plan);
  return {
    fault, equal: cmp.equal, differences: cmp.differences,
    programs: report.progs.map((p) => ({ name: p.name, type: p.typeName, insns: p.insnCnt, helpers: p.helpers })),
    maps: report.maps.map((m) => ({ name: m.name, type: m.typeName, maxEntries: m.maxEntries })),
    report,
  };
}

/** Where a ReplayCache outcome keeps its JSON bytes (see ReplayCache.outcome). */
const JSON_BYTES = Symbol('json');
type WithJson = ReplayOutcome & { [JSON_BYTES]?: Buffer };

/**
 * Replay outcomes by everything a replay depends on — the loader's instructions and blob, the
 * manifest's plan, the scheme and the kernel profile — as SHA-256 digests: replay is a pure
 * function of these, so a hit is the outcome a replay would give. Outcomes are kept (and handed
 * out) as plain JSON, the form the API answers with. The other checks of a verification (the
 * signature, the chain at the current time, the log proof, the manifest) always run.
 */
export class ReplayCache {
  readonly #lru: Lru<string, ReplayOutcome>;
  readonly #profiles = new WeakMap<KernelProfile, number>();
  /** Digests of plans that cannot change (deep-frozen: the statement memo's), by identity. */
  readonly #plans = new WeakMap<object, string>();
  #nextProfile = 0;

  constructor(entries = 64, maxBytes = 64 << 20) {
    this.#lru = new Lru(entries, maxBytes);
  }

  get stats(): { hits: number; misses: number; evictions: number; entries: number } {
    return this.#lru.summary;
  }

  /** `digests`, when the caller has them, are the SHA-256 (hex) of loader.insns and loader.data. */
  outcome(loader: { insns: Uint8Array; data: Uint8Array }, planJson: unknown, scheme: string, profile: KernelProfile, digests?: { insns: string; data: string }): ReplayOutcome {
    let p = this.#profiles.get(profile);
    if (p === undefined) this.#profiles.set(profile, (p = this.#nextProfile++));
    const key = `${digests?.insns ?? sha256Hex(loader.insns)}:${digests?.data ?? sha256Hex(loader.data)}:${this.#planDigest(planJson)}:${scheme}:${p}`;
    return this.#lru.through(key, () => {
      // Plain JSON built directly (toPlainJson), then its text without a replacer: the same text
      // as JSON.stringify with jsonReplacer, which with JSON.parse cost ~0.55 ms more per replay.
      const o = toPlainJson<ReplayOutcome>(replayOutcome(loader, planJson, scheme, profile));
      const text = JSON.stringify(o);
      // The JSON as UTF-8, made once (a verdict's largest part), kept on the outcome itself under a
      // symbol (JSON.stringify and Object.keys do not see it): a WeakMap keyed by outcomes kept
      // each caches-off verification's outcome alive through V8's scavenges (see deepFreeze).
      Object.defineProperty(o, JSON_BYTES, { value: Buffer.from(text, 'utf8') });
      return o;
    }, (o) => 4 * ((o as WithJson)[JSON_BYTES]?.length ?? 0));
  }

  #planDigest(planJson: unknown): string {
    const frozen = isDeepFrozen(planJson);
    const known = frozen ? this.#plans.get(planJson as object) : undefined;
    if (known !== undefined) return known;
    const d = sha256Hex(new TextEncoder().encode(JSON.stringify(planJson) ?? 'undefined'));
    if (frozen) this.#plans.set(planJson as object, d);
    return d;
  }

  /** JSON of an outcome as UTF-8 (the cached bytes when the outcome came from this cache). */
  json(o: ReplayOutcome): Buffer {
    return (o as WithJson)[JSON_BYTES] ?? Buffer.from(JSON.stringify(o, jsonReplacer), 'utf8');
  }
}

/** A POST /v1/verifications body, parsed and checked: the bundle, the object (base64), a policy inline or by name. */
export interface VerificationRequest {
  bundle: Bundle;
  object?: string;
  policy?: string | Record<string, unknown>;
}

/**
 * Parsed request bodies by the SHA-256 of their bytes: parsing and checking the same bytes gives
 * the same value, so a CI gate posting the same bundle again skips the JSON parse and the schema
 * check (some 100 µs for a 30 KB bundle). A body is kept from its second sight on (Lru's
 * secondSight): a gate that checks each build's new bundle once would otherwise keep every
 * bundle's parse, and what verification derives from it, until evicted — some 60 KB per request
 * carried into V8's old space, and a full collection every second at 2,800 verifications/s.
 * Only successful parses are kept; bad bodies are parsed, and answered with their problem, every
 * time. Kept values are deep-frozen and shared (deepFreeze), so the verification memos may key on
 * their identity (see verify's bundle facts); a value that is not kept is not frozen. With 0
 * entries nothing is hashed or kept.
 */
export class ParsedBodies<T> {
  readonly #lru: Lru<string, T>;

  constructor(entries = 64, maxBytes = 64 << 20) {
    this.#lru = new Lru(entries, maxBytes, { secondSight: true });
  }

  get stats(): { hits: number; misses: number; evictions: number; entries: number } {
    return this.#lru.summary;
  }

  parse(raw: Uint8Array, parse: (raw: Uint8Array) => T): T {
    if (this.#lru.maxEntries <= 0) return parse(raw);
    const key = sha256Hex(raw);
    const hit = this.#lru.get(key);
    if (hit !== undefined) return hit;
    const value = parse(raw);
    // Weighed at three times the body: its parsed strings take about its size again (one byte per
    // character: bundles are ASCII), the facts verification keeps with a shared bundle (its
    // decoded loader and certificates) up to three quarters of it, and the rest is headroom for
    // the objects around them.
    this.#lru.set(key, value, 3 * raw.length);
    return this.#lru.has(key) ? deepFreeze(value) : value;
  }
}

export function verifyBundle(bundle: Bundle, policy: TrustPolicy, opts: { at: Date; object?: Uint8Array; profile?: KernelProfile | null; replays?: ReplayCache; loaders?: LoaderCache }): Verdict<ReplayOutcome> {
  const profile = opts.profile;
  const build = opts.loaders ? opts.loaders.build.bind(opts.loaders) : buildLoader;
  return verify(bundle, policy, {
    at: opts.at,
    replay: profile ? (loader, plan, scheme, digests) => (opts.replays ? opts.replays.outcome(loader, plan, scheme, profile, digests) : replayOutcome(loader, plan, scheme, profile)) : undefined,
    rederive: opts.object ? (m) => {
      if (!m) throw new Error('no manifest with the generation options');
      const o = m.object as { name: string; file: string };
      const options = m.options as { flavour: 'v1.7'; standalone: boolean; kernel: { mapExcl: boolean }; host: Record<string, unknown> };
      const host = { ...options.host, ksymAddresses: Object.fromEntries(Object.entries((options.host.ksymAddresses ?? {}) as Record<string, string>).map(([k, v]) => [k, BigInt(v)])) };
      const built = build(opts.object!, o.file, { scheme: m.scheme as 'unsigned', name: o.name, flavour: options.flavour, standalone: options.standalone, mapExcl: options.kernel.mapExcl, host });
      return { insns: built.loader.insns, data: built.loader.data, plan: built.plan };
    } : undefined,
  });
}

/**
 * A verdict as UTF-8 JSON (bytes as hex, bigints as decimal strings), the replay report taken
 * from the cache's bytes when it has them: the same bytes JSON.stringify would give.
 */
export function verdictJson(v: Verdict<ReplayOutcome>, replays?: ReplayCache): Buffer {
  const { replay, ...rest } = v;
  const head = JSON.stringify(rest, jsonReplacer);
  const tail = replay === null ? NULL : replays ? replays.json(replay) : Buffer.from(JSON.stringify(replay, jsonReplacer), 'utf8');
  return Buffer.concat([Buffer.from(`${head.slice(0, -1)},"replay":`, 'utf8'), tail, CLOSE]);
}

const NULL = Buffer.from('null'), CLOSE = Buffer.from('}');
