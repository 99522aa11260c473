/**
 * A stored loader's row: what a signing request commits, and how a stored row is read back.
 *
 * The row's `bundle` text is the bundle as answered, minus what is stored elsewhere — its log
 * proof (made afresh from the log when read, against the newest checkpoint) and, for a logged
 * loader, the loader's instructions and blob (content-addressed blobs, stored once however often
 * the same loader is signed) and its signed manifest (the canonical envelope, a blob named by the
 * log entry's manifestSha256). The header is made again from `skeleton` when asked for. Rows
 * written before this layout (StoredV1) hold everything themselves.
 */
import type { LoaderScheme } from '../loader/gen/index.js';
import { canonicalBytes, type JsonValue } from '../signing/canonical.js';
import type { Bundle } from '../signing/bundle.js';
import type { Signer } from '../signing/index.js';
import type { JsonTexts } from '../shared/json.js';
import type { BundleRecord } from '../store/types.js';
import { skeletonRecord, type BuiltLoader, type SkeletonRecord } from './loader.js';
import { signBuilt, unsignedBundle } from './sign.js';

export interface Stored {
  v: 2;
  bundle: Bundle;
  skeleton: SkeletonRecord;
  refs?: { insns: string; data: string; manifest: 'log' };
}
export interface StoredV1 {
  bundle: Bundle;
  header: string;
  manifest: string | null;
}

export function parseRow(text: string): Stored | StoredV1 {
  return JSON.parse(text) as Stored | StoredV1;
}

/** A bundle's manifest (the predicate of its signed in-toto statement) as canonical JSON text; null when unsigned. */
export function manifestText(bundle: Bundle): string | null {
  if (!bundle.manifest) return null;
  const statement = JSON.parse(Buffer.from(bundle.manifest.payload, 'base64').toString('utf8')) as { predicate: JsonValue };
  return new TextDecoder().decode(canonicalBytes(statement.predicate));
}

/** What a signing request commits and answers: the bundle (without its log proof), the envelope's canonical bytes for the log (null when unsigned) and the row to store. */
export interface PreparedLoader {
  bundle: Bundle;
  envelopeBytes: Uint8Array | null;
  row: Omit<BundleRecord, 'logIndex'>;
  /** The JSON text of the bundle's long strings (Signed.texts). */
  texts: JsonTexts;
  /** SHA-256 (hex) of envelopeBytes; null when unsigned. */
  envelopeSha256: string | null;
  /** The loader blob's SHA-256 (hex; the manifest's digests.data), for the log entry. */
  dataSha256: string;
}

/**
 * A PreparedLoader made from a built loader. A function of its own so that a request waiting for
 * its commit holds only these, not its built loader (parsed object, plan, manifest: its own per
 * request when caches are off).
 */
export async function prepareLoader(
  built: BuiltLoader,
  r: { id: string; scheme: LoaderScheme; key: { id: string; signer: Signer; certificates: string[] } | null; createdAt: string },
): Promise<PreparedLoader> {
  const m = built.manifest as { object: { sha256: string }; digests: { insns: { sha256: string }; data: { sha256: string } } };
  const row = (stored: Stored, signer: string | null) => ({
    id: r.id,
    createdAt: r.createdAt,
    objectSha256: m.object.sha256,
    insnsSha256: m.digests.insns.sha256,
    scheme: r.scheme,
    signer,
    bundle: JSON.stringify(stored),
  });
  if (r.key === null) {
    const bundle = unsignedBundle(built);
    return {
      bundle,
      envelopeBytes: null,
      envelopeSha256: null,
      row: row({ v: 2, bundle, skeleton: skeletonRecord(built) }, null),
      texts: new Map(),
      dataSha256: m.digests.data.sha256,
    };
  }
  // A loader signed again by the same key gets its first signatures (signBuilt's reuse).
  const signed = await signBuilt(built, r.key.signer, r.key.certificates, true);
  // A logged loader: its bytes as blobs, its manifest named by the log entry.
  const refs = { insns: m.digests.insns.sha256, data: m.digests.data.sha256, manifest: 'log' as const };
  return {
    bundle: signed.bundle,
    envelopeBytes: signed.envelopeBytes,
    envelopeSha256: signed.envelopeSha256,
    texts: signed.texts,
    dataSha256: refs.data,
    row: {
      ...row(
        { v: 2, bundle: { ...signed.bundle, loader: { insns: '', data: '' }, manifest: null }, skeleton: skeletonRecord(built), refs },
        r.key.id,
      ),
      blobs: [
        { sha256: refs.insns, bytes: built.loader.insns },
        { sha256: refs.data, bytes: built.loader.data },
      ],
    },
  };
}
