/**
 * Object bytes → everything `bpfsign gen` produces, in memory: loader instructions and blob,
 * per-map initial values, the light skeleton header and loader.json (plan, digests, options,
 * ctx layout). Used by the CLI (which writes files) and the API (which returns them).
 */
import { jsonReplacer } from '../shared/json.js';
import { Lru } from '../shared/lru.js';
import { fromHex, sha256 as sha256Bytes, sha256Hex as sha256, toHex } from '../shared/bytes.js';
import {
  emitLightSkeleton,
  emitSkeleton,
  generateLoader,
  type LightSkeletonInput,
  type SkeletonFile,
  type SkeletonLang,
  lskelMapsFromObject,
  lskelProgsFromObject,
  type GeneratedLoader,
  type LoaderScheme,
  type LskelFlavour,
} from '../loader/gen/index.js';
import { parseObjectParts, type ObjectSpec } from '../loader/object/index.js';
import { planObject, withLibbpf11Mmapable, type HostOptions, type Plan } from '../loader/plan/index.js';
import { LoaderError } from '../loader/errors.js';

export const GENERATOR = { name: 'bpfsign', version: '0.1.0', libbpfCompat: 'v1.7.0' };

/**
 * - 'v1.7': bpfsign's loader (hardened signed schemes) in bpftool 7.7's header layout;
 * - 'bpftool-7.1': Debian's bpftool 7.1 (libbpf 1.1) header and internal-map handling;
 * - 'libbpf-1.7': what bpftool 7.7 / libbpf v1.7.0 write, byte for byte (loader and header),
 *   unsigned or 'linux-6.18' signed, including v1.7.0's weaknesses (see loaderWeaknesses):
 *   for re-deriving and checking a bpftool-signed skeleton, not for making new ones.
 */
export type BuildFlavour = 'v1.7' | 'bpftool-7.1' | 'libbpf-1.7';

export interface BuildOptions {
  scheme: LoaderScheme;
  /** Skeleton name (a C identifier); libbpf's object name is its first 15 characters. */
  name: string;
  flavour: BuildFlavour;
  standalone: boolean;
  mapExcl: boolean;
  host: HostOptions;
}

export interface BuiltLoader {
  name: string;
  spec: ObjectSpec;
  plan: Plan;
  loader: GeneratedLoader;
  /** The light skeleton header (unsigned; made on first read). */
  readonly header: string;
  /** map index → initial value (internal maps). */
  inits: Map<number, Uint8Array>;
  /** loader.json as data. */
  manifest: Record<string, unknown>;
  /** What the header was made from, to make it again with a signature (signedHeader). */
  lskel: LightSkeletonInput;
  /** The header's flavour: 'libbpf-1.7' builds print the 'v1.7' layout (bpftool 7.7's). */
  headerOptions: { flavour: LskelFlavour; standalone: boolean };
  /**
   * What signing derives from this loader, the same for every signature (service/sign.ts keeps it
   * here). Not in a WeakMap keyed by the loader: what the WeakMap held survived V8's scavenges,
   * so every cold signature's manifest, statement and payload were copied and promoted to the
   * old space.
   */
  signingMemo: unknown;
}

/** JSON with bytes as hex and bigints as decimal strings. */
export function plainJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, jsonReplacer, indent);
}

export function buildLoader(bytes: Uint8Array, fileName: string, opts: BuildOptions): BuiltLoader {
  const { spec, elf, btf } = parseObjectParts(bytes, { name: opts.name });
  const planned = planObject(spec, { ...opts.host, object: bytes, elf });
  // A bpftool-7.1 skeleton mmaps every internal map (skel_internal.h of libbpf 1.1): create them so.
  const plan = opts.flavour === 'bpftool-7.1' ? withLibbpf11Mmapable(planned).plan : planned;
  const libbpf17 = opts.flavour === 'libbpf-1.7';
  if (libbpf17) {
    // libbpf v1.0+ refuses legacy `maps` section definitions before generating anything.
    const legacy = spec.maps.find((m) => m.origin === 'legacy');
    if (legacy)
      throw new LoaderError(
        'OBJECT_UNSUPPORTED',
        `libbpf v1.7.0 compat: map '${legacy.name}' is a legacy 'maps' section definition, which libbpf v1.0+ rejects`,
        { symbol: legacy.name, field: 'legacy_maps' },
      );
  }
  const headerFlavour: LskelFlavour = opts.flavour === 'bpftool-7.1' ? 'bpftool-7.1' : 'v1.7';
  const loader = generateLoader(plan, {
    scheme: opts.scheme,
    kernel: { mapExcl: opts.mapExcl },
    compat: libbpf17 ? 'libbpf-1.7.0' : 'bpfsign',
  });
  const maps = lskelMapsFromObject(spec, btf, { flavour: headerFlavour, pageSize: opts.host.pageSize });
  const inits = new Map<number, Uint8Array>();
  for (const op of plan.ops) {
    if (op.op !== 'map_update') continue;
    inits.set(op.mapIndex, op.value);
    // The .kconfig image is what the plan computed from the (explicit) kconfig inputs.
    const m = maps.find((x) => x.name === plan.maps[op.mapIndex].name);
    if (m?.mmap && plan.maps[op.mapIndex].name.endsWith('.kconfig')) m.mmap.initialValue = op.value;
  }
  const lskel: LightSkeletonInput = {
    name: opts.name,
    insns: loader.insns,
    data: loader.data,
    maps,
    progs: lskelProgsFromObject(spec),
    hasBtf: btf !== null,
  };
  const manifest = {
    generator: GENERATOR,
    object: { file: fileName, name: opts.name, sha256: sha256(bytes), size: bytes.length },
    scheme: opts.scheme,
    options: { flavour: opts.flavour, standalone: opts.standalone, kernel: { mapExcl: opts.mapExcl }, host: plan.host },
    digests: {
      insns: { sha256: sha256(loader.insns), size: loader.insns.length },
      data: { sha256: sha256(loader.data), size: loader.data.length },
    },
    ctx: {
      size: loader.ctxLayout.size,
      maps: loader.ctxLayout.maps.map((m, i) => ({ index: i, ...m, ...(inits.has(i) ? { init: `init.${i}.bin` } : {}) })),
      progs: loader.ctxLayout.progs.map((p, i) => ({ index: i, ...p })),
    },
    plan,
  };
  const headerOptions = { flavour: headerFlavour, standalone: opts.standalone };
  return new Built(opts.name, spec, plan, loader, inits, manifest, lskel, headerOptions);
}

/**
 * A built loader. The unsigned header is made when first read (a signed loader's header is made
 * with its signature instead); a class, so that getter is shared on the prototype rather than
 * giving every built loader a hidden class of its own that keeps it alive.
 */
class Built implements BuiltLoader {
  #header: string | null = null;
  signingMemo: unknown = undefined;
  constructor(
    readonly name: string,
    readonly spec: ObjectSpec,
    readonly plan: Plan,
    readonly loader: GeneratedLoader,
    readonly inits: Map<number, Uint8Array>,
    readonly manifest: Record<string, unknown>,
    readonly lskel: LightSkeletonInput,
    readonly headerOptions: BuiltLoader['headerOptions'],
  ) {}

  get header(): string {
    return (this.#header ??= emitLightSkeleton(this.lskel, this.headerOptions));
  }
}

/**
 * The light skeleton of a signed loader: the same header with the PKCS#7 signature and
 * excl_prog_hash = SHA-256(instructions) embedded (`opts_sig`, `opts_excl_hash`, and a
 * `keyring_id` member the caller sets), as libbpf v1.7's signed skeletons carry them — the same
 * fields serve both schemes. Needs the v1.7 flavour.
 */
export function signedHeader(built: BuiltLoader, signature: Uint8Array): string {
  return emitLightSkeleton(
    { ...built.lskel, signature: { sig: signature, exclHash: sha256Bytes(built.loader.insns) } },
    built.headerOptions,
  );
}

/**
 * The light skeleton of `built` in `lang` (lang.ts): signed (PKCS#7 signature and excl_prog_hash
 * embedded) when `signature` is given — for C only in the v1.7 layout, as signedHeader; Go and
 * Rust skeletons have one layout, which always carries them.
 */
export function skeletonFile(built: BuiltLoader, lang: SkeletonLang, signature: Uint8Array | null = null): SkeletonFile {
  if (lang === 'c')
    return {
      fileName: `${built.name}.lskel.h`,
      text: signature && built.headerOptions.flavour === 'v1.7' ? signedHeader(built, signature) : built.header,
    };
  const input = signature ? { ...built.lskel, signature: { sig: signature, exclHash: sha256Bytes(built.loader.insns) } } : built.lskel;
  return emitSkeleton(lang, input, built.headerOptions);
}

/**
 * What a cached built loader holds, in bytes, estimated: its parsed object, plan, manifest and
 * header input took 14 to 34 times the object's size for the test objects (V8 heap after a full
 * collection, 20 of each); what signing keeps with it (signingMemo: the statement payload,
 * base64 of the loader) about eight times the loader's instructions and data again, and the JSON
 * text of those strings and one signer's envelope about six times more (the envelope is 1.8 to
 * 2.6 times the loader for the test objects).
 */
export function loaderWeight(objectBytes: number, built: BuiltLoader): number {
  return 24 * objectBytes + 14 * (built.loader.insns.length + built.loader.data.length);
}

/**
 * Loaders made before, by object digest and every build option: making a loader is a pure
 * function of the two (the project's determinism rule, tested byte for byte), so a hit returns
 * exactly what a miss would build — CI re-signing the same object, or verifying bundles with
 * their object, skips the work. Built loaders are shared and must not be mutated. Bounded by
 * entries and by the memory they hold (loaderWeight; 8 MiB: a dozen and a half loaders of a 20 KB
 * object, signed); `entries` 0 turns it off. At 16 MiB the memory bench's resident set grew by
 * 27 MB from its 2,000th to its 10,000th sign (the target allows 25), at 8 MiB by 15 and 25 MB.
 */
export class LoaderCache {
  readonly #lru: Lru<string, BuiltLoader>;

  constructor(entries = 64, maxBytes = 8 << 20) {
    this.#lru = new Lru(entries, maxBytes);
  }

  get stats(): { hits: number; misses: number; evictions: number; entries: number } {
    return this.#lru.summary;
  }

  build(bytes: Uint8Array, fileName: string, opts: BuildOptions): BuiltLoader {
    const key = `${sha256(bytes)}\0${fileName}\0${JSON.stringify(opts, jsonReplacer)}`;
    return this.#lru.through(
      key,
      () => buildLoader(bytes, fileName, opts),
      (b) => loaderWeight(bytes.length, b),
    );
  }
}

/**
 * What the light skeleton header is made from apart from the loader and its signature, as
 * plain JSON (initial map images in hex): a stored loader keeps this instead of the header
 * text — a few hundred bytes instead of tens of kilobytes — and the header is made again,
 * byte-identical, when it is asked for.
 */
export interface SkeletonRecord {
  name: string;
  maps: (Omit<LightSkeletonInput['maps'][number], 'mmap'> & {
    mmap: (Omit<NonNullable<LightSkeletonInput['maps'][number]['mmap']>, 'initialValue'> & { initialValue: string }) | null;
  })[];
  progs: LightSkeletonInput['progs'];
  hasBtf: boolean;
  flavour: LskelFlavour;
  standalone: boolean;
}

export function skeletonRecord(built: BuiltLoader): SkeletonRecord {
  const { name, maps, progs, hasBtf } = built.lskel;
  return {
    name,
    progs,
    hasBtf,
    ...built.headerOptions,
    maps: maps.map((m) => ({ ...m, mmap: m.mmap ? { ...m.mmap, initialValue: toHex(m.mmap.initialValue) } : null })),
  };
}

/**
 * The header of a stored loader: signed (signature and excl_prog_hash embedded) when there is a
 * signature and the flavour is v1.7, as `signedHeader` makes it; else the plain header.
 */
export function headerFromRecord(r: SkeletonRecord, loader: { insns: Uint8Array; data: Uint8Array }, signature: Uint8Array | null): string {
  const lskel = lskelFromRecord(r, loader);
  if (signature && r.flavour === 'v1.7') lskel.signature = { sig: signature, exclHash: sha256Bytes(loader.insns) };
  return emitLightSkeleton(lskel, { flavour: r.flavour, standalone: r.standalone });
}

/**
 * The light skeleton of a stored loader in `lang` (lang.ts), as skeletonFile makes it for a fresh
 * one: C is headerFromRecord's header; Go and Rust always carry the signature when there is one.
 */
export function skeletonFromRecord(
  r: SkeletonRecord,
  loader: { insns: Uint8Array; data: Uint8Array },
  signature: Uint8Array | null,
  lang: SkeletonLang,
): SkeletonFile {
  if (lang === 'c') return { fileName: `${r.name}.lskel.h`, text: headerFromRecord(r, loader, signature) };
  const lskel = lskelFromRecord(r, loader);
  if (signature) lskel.signature = { sig: signature, exclHash: sha256Bytes(loader.insns) };
  return emitSkeleton(lang, lskel, { flavour: r.flavour, standalone: r.standalone });
}

function lskelFromRecord(r: SkeletonRecord, loader: { insns: Uint8Array; data: Uint8Array }): LightSkeletonInput {
  return {
    name: r.name,
    insns: loader.insns,
    data: loader.data,
    progs: r.progs,
    hasBtf: r.hasBtf,
    maps: r.maps.map((m) => ({ ...m, mmap: m.mmap ? { ...m.mmap, initialValue: fromHex(m.mmap.initialValue) } : null })),
  };
}
