/**
 * The loader service: making a loader for an object (build → sign → log → store, one call) and
 * reading stored loaders back. It owns the stored row's format (loader-row.ts) and the bytes of
 * the answer to a signing request (created-json.ts); the API only maps HTTP to these calls.
 *
 *   sign:  key lookup ─► FIFO gate ─► LoaderCache.build ─► signBuilt ─► TransparencyLog.appendLoader
 *          (entry and row in one transaction; the call resolves once it committed) ─► inclusion proof
 */
import { randomUUID } from 'node:crypto';
import type { LoaderScheme, SkeletonFile, SkeletonLang } from '../loader/gen/index.js';
import { LoaderError } from '../loader/errors.js';
import { hostOptionsOf, HostTextError, type HostOptions } from '../loader/plan/index.js';
import type { Signer } from '../signing/index.js';
import { fromB64, type Bundle } from '../signing/bundle.js';
import type { Store } from '../store/index.js';
import { StoreError } from '../store/types.js';
import { createdJson } from './created-json.js';
import type { FifoGate } from './fifo.js';
import { headerFromRecord, skeletonFromRecord, type BuildFlavour, type BuildOptions, type LoaderCache } from './loader.js';
import { manifestText, parseRow, prepareLoader, type PreparedLoader } from './loader-row.js';
import type { TransparencyLog } from './log.js';

/** The options of one signing request, checked by the caller (the API's LoaderOptions schema). */
export interface SignOptions {
  /** Skeleton name (a C identifier); the object's file name is `${name}.o`. */
  name: string;
  scheme: LoaderScheme;
  /** Signing key id; default the active key. Ignored for the unsigned scheme. */
  key?: string;
  profile: 'linux-6.18' | 'linux-6.18-excl';
  flavour: BuildFlavour;
  /** LINUX_KERNEL_VERSION as "a.b[.c]" (minor at most 255). */
  kernelVersion?: string;
  cpus?: number;
  pageSize?: number;
  /** Kernel symbol addresses, `NAME=ADDRESS[,NAME=ADDRESS…]` (decimal or 0x hex). */
  ksym?: string;
  /** Kconfig values, `CONFIG_NAME=VALUE[,…]`. */
  kconfig?: string;
}

/** A signing key as the keyring gives it: an unknown id rejects with an error whose code is KEY_NOT_FOUND. */
export interface SigningKey {
  id: string;
  signer: Signer;
  certificates: string[];
}
export interface KeySource {
  active(id?: string): Promise<SigningKey>;
}

export interface LoaderServiceDeps {
  store: Store;
  log: TransparencyLog;
  keys: KeySource;
  /** First-in, first-out turns for the CPU-bound build. */
  cpu: FifoGate;
  /** Loaders made before (content-addressed; shared with re-derivation in verifications). */
  loaders: LoaderCache;
  /** Starts timing one signing after its key is found; the returned function ends it (a metrics histogram). */
  timer?: (scheme: LoaderScheme) => () => void;
  /** A new loader id (default: a random UUID). */
  newId?: () => string;
  /** The clock for the stored row's createdAt. */
  now?: () => Date;
}

/** A made loader: its id, where it is served, what was logged, and the answer's JSON bytes. */
export interface MadeLoader {
  id: string;
  location: string;
  logIndex: string | null;
  keyId: string | null;
  /** `{ id, bundle, links }` as UTF-8 JSON (the bundle with its inclusion proof). */
  json: Buffer;
}

export type LoaderServiceErrorCode = 'KEY_NOT_FOUND' | 'LOADER_NOT_FOUND' | 'NOT_SIGNED';

/** A request the loader service cannot answer: an unknown key or loader, or a part an unsigned loader lacks. */
export class LoaderServiceError extends Error {
  constructor(
    readonly code: LoaderServiceErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'LoaderServiceError';
  }
}

/** A stored loader, read: its bundle (with a fresh log proof) and its header and manifest text, made when asked for. */
interface Loaded {
  bundle: Bundle;
  header: () => string;
  skeleton: (lang: SkeletonLang) => SkeletonFile;
  manifest: () => string | null;
}

/** A loader file served on its own. */
export type LoaderPart = 'insns' | 'data' | 'signature';

/** The build options of a signing request: the host values in the order the cache key and manifest have them. */
export function buildOptions(o: SignOptions): BuildOptions {
  // In the order gen's options give them (loader/plan/host-text.ts reads both), so the same
  // options make the same loader.json.
  const host: HostOptions = hostOptionsOf({ kconfig: o.kconfig, kernelVersion: o.kernelVersion, ksym: o.ksym });
  if (o.cpus) host.possibleCpus = o.cpus;
  if (o.pageSize) host.pageSize = o.pageSize;
  return { scheme: o.scheme, name: o.name, flavour: o.flavour, standalone: false, mapExcl: o.profile === 'linux-6.18-excl', host };
}

/** Whether `value` reads as the host field `field` as buildOptions reads it (for the API's schema, which names the field). */
export function readsAsHostField(field: 'ksym' | 'kernelVersion', value: string): boolean {
  try {
    hostOptionsOf({ [field]: value });
    return true;
  } catch (e) {
    if (e instanceof HostTextError) return false;
    throw e;
  }
}

export class LoaderService {
  readonly #d: LoaderServiceDeps;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: LoaderServiceDeps) {
    this.#d = deps;
    this.#newId = deps.newId ?? randomUUID;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * Makes, signs (unless the scheme is unsigned), logs and stores the loader for `object`. The key
   * is looked up first, so an unknown key id is a KEY_NOT_FOUND and nothing is logged. Resolves
   * once the log entry and the row are committed.
   */
  async sign(object: Uint8Array, options: SignOptions): Promise<MadeLoader> {
    const key = options.scheme === 'unsigned' ? null : await this.#key(options.key);
    const stop = this.#d.timer?.(options.scheme);
    const id = this.#newId();
    // A copy: the cache may keep what is built from it, and `object` may be a slice of a larger buffer.
    const bytes = new Uint8Array(object);
    const made = await this.#d.cpu
      .run(() => this.#d.loaders.build(bytes, `${options.name}.o`, buildOptions(options)))
      .then((built) => prepareLoader(built, { id, scheme: options.scheme, key, createdAt: this.#now().toISOString() }));
    const bundle = await this.#commit(id, made);
    stop?.();
    const base = `/v1/loaders/${id}`;
    const links = {
      self: base,
      header: `${base}/lskel.h`,
      insns: `${base}/insns`,
      data: `${base}/data`,
      signature: `${base}/signature`,
      manifest: `${base}/manifest`,
    };
    return {
      id,
      location: base,
      logIndex: bundle.tlog?.logIndex ?? null,
      keyId: key?.id ?? null,
      json: createdJson({ id, bundle, links }, made.texts),
    };
  }

  async #key(id: string | undefined): Promise<SigningKey> {
    return this.#d.keys.active(id).catch((e: Error & { code?: string }) => {
      if (e.code === 'KEY_NOT_FOUND') throw new LoaderServiceError('KEY_NOT_FOUND', e.message, { field: 'key', got: id });
      throw e;
    });
  }

  /** Stores the row (unsigned), or logs the entry and the row in one transaction and returns the bundle with its proof. */
  async #commit(id: string, made: PreparedLoader): Promise<Bundle> {
    if (made.envelopeBytes === null) {
      await this.#d.store.putBundle({ ...made.row, logIndex: null });
      return made.bundle;
    }
    const { index, committedSize } = await this.#d.log.appendLoader(id, made.bundle, made.envelopeBytes, made.row, {
      data: made.dataSha256,
      manifest: made.envelopeSha256 ?? undefined,
    });
    return { ...made.bundle, tlog: await this.#d.log.inclusion(index, committedSize) };
  }

  /** The bundle of loader `id`, with a log proof against the newest checkpoint. */
  async bundle(id: string): Promise<Bundle> {
    return (await this.#load(id)).bundle;
  }

  /** Its light skeleton header (signed when the loader is, and of the v1.7 flavour). */
  async header(id: string): Promise<string> {
    return (await this.#load(id)).header();
  }

  /** Its light skeleton in `lang` (lang.ts): C is the header; Go and Rust carry the signature when there is one. */
  async skeleton(id: string, lang: SkeletonLang): Promise<SkeletonFile> {
    return (await this.#load(id)).skeleton(lang);
  }

  /** One of its files; NOT_SIGNED for the signature of an unsigned loader. */
  async part(id: string, part: LoaderPart): Promise<Buffer> {
    const { bundle } = await this.#load(id);
    const b64 = part === 'signature' ? bundle.signature : bundle.loader[part];
    if (b64 === null) throw new LoaderServiceError('NOT_SIGNED', `loader ${id} is unsigned`);
    return Buffer.from(b64, 'base64');
  }

  /** Its manifest as canonical JSON (RFC 8785); NOT_SIGNED for an unsigned loader. */
  async manifest(id: string): Promise<string> {
    const manifest = (await this.#load(id)).manifest();
    if (manifest === null) throw new LoaderServiceError('NOT_SIGNED', `loader ${id} is unsigned and has no manifest`);
    return manifest;
  }

  /** Signed manifests (DSSE envelopes) of loaders made from an object, or with these instructions, by SHA-256 hex; at most 100. */
  async manifestsByDigest(sha256: string): Promise<{ id: string; createdAt: string; logIndex: string | null; envelope: unknown }[]> {
    const rows = await this.#d.store.bundlesByDigest(sha256, 100);
    return Promise.all(
      rows.map(async (r) => {
        const s = parseRow(r.bundle);
        const logged = 'v' in s && s.refs && r.logIndex !== null ? await this.#d.store.logEntry(r.logIndex) : null;
        const envelope = logged
          ? (JSON.parse(Buffer.from(await this.#d.log.manifestOf(logged.body)).toString('utf8')) as unknown)
          : s.bundle.manifest;
        return { id: r.id, createdAt: r.createdAt, logIndex: r.logIndex === null ? null : r.logIndex.toString(), envelope };
      }),
    );
  }

  async #load(id: string): Promise<Loaded> {
    const { store, log } = this.#d;
    const b = await store.getBundle(id);
    if (!b) throw new LoaderServiceError('LOADER_NOT_FOUND', `no loader ${id}`, { id });
    const s = parseRow(b.bundle);
    if (!('v' in s)) {
      const skeleton = (lang: SkeletonLang): SkeletonFile => {
        if (lang === 'c') return { fileName: 'lskel.h', text: s.header };
        throw new LoaderError('OBJECT_UNSUPPORTED', `loader ${id} was stored with its C header only: no ${lang} skeleton`, {
          field: 'lang',
          got: lang,
          want: 'c',
        });
      };
      return { bundle: s.bundle, header: () => s.header, skeleton, manifest: () => s.manifest };
    }
    const bundle: Bundle = { ...s.bundle, tlog: b.logIndex === null ? null : await log.inclusion(b.logIndex) };
    if (s.refs) {
      const [insns, data, entry] = await Promise.all([
        store.getBlob(s.refs.insns),
        store.getBlob(s.refs.data),
        b.logIndex === null ? null : store.logEntry(b.logIndex),
      ]);
      if (!insns || !data || !entry)
        throw new StoreError(
          'STORE_CORRUPT',
          `loader ${id}: its stored parts are missing (insns ${!!insns}, data ${!!data}, log entry ${!!entry})`,
        );
      bundle.loader = { insns: Buffer.from(insns).toString('base64'), data: Buffer.from(data).toString('base64') };
      bundle.manifest = JSON.parse(Buffer.from(await log.manifestOf(entry.body)).toString('utf8')) as Bundle['manifest'];
    }
    return {
      bundle,
      header: () =>
        headerFromRecord(
          s.skeleton,
          { insns: fromB64(bundle.loader.insns), data: fromB64(bundle.loader.data) },
          bundle.signature === null ? null : fromB64(bundle.signature),
        ),
      skeleton: (lang) =>
        skeletonFromRecord(
          s.skeleton,
          { insns: fromB64(bundle.loader.insns), data: fromB64(bundle.loader.data) },
          bundle.signature === null ? null : fromB64(bundle.signature),
          lang,
        ),
      manifest: () => manifestText(bundle),
    };
  }
}
