/**
 * The log's entries: one small record of fixed shape per signed loader, as RFC 8785 canonical
 * JSON (the bytes whose RFC 6962 leaf hash is in the tree):
 *
 *   {"dataSha256":…,"insnsSha256":…,"kind":"bpfsign/loader/v1","loaderSignature":…,
 *    "manifestSha256":…,"objectSha256":…,"scheme":…,"signerCertSha256":…}
 *
 *   manifestSha256    SHA-256 (hex) of the signed manifest: the canonical bytes of the bundle's
 *                     DSSE envelope, which is stored and served by this digest
 *   loaderSignature   the kernel PKCS#7 (base64 DER, a few hundred bytes)
 *   signerCertSha256  SHA-256 (hex) of the signer's certificate (DER): a key id anyone derives
 *   scheme            linux-6.18 | linux-load-time
 *   insnsSha256, dataSha256   the loader's bytes; objectSha256 the object it was made from
 *
 * Every field is derived from a bundle alone, so a verifier recomputes the entry, and its leaf
 * hash, from the bundle it holds. The record is under 1 KiB for any object (the manifest is
 * behind its digest), far below the 64 KiB a C2SP entry bundle allows an entry.
 */
import { canonicalBytes } from '../canonical.js';
import { canonicalBase64, sha256Hex } from '../../shared/bytes.js';
import { envelopeSha256 } from '../dsse.js';
import { TlogError } from './errors.js';
import { hashLeaf } from './hasher.js';

export const LOADER_ENTRY_KIND = 'bpfsign/loader/v1';
/** What a C2SP entry bundle can hold per entry (a big-endian u16 length). */
export const MAX_ENTRY_BYTES = 0xffff;

export interface LoaderEntry {
  kind: typeof LOADER_ENTRY_KIND;
  manifestSha256: string;
  loaderSignature: string;
  signerCertSha256: string;
  scheme: 'linux-6.18' | 'linux-load-time';
  insnsSha256: string;
  dataSha256: string;
  objectSha256: string;
}

/** The parts of a bundle an entry is made from (a Bundle has them all). */
export interface EntrySource {
  scheme: string;
  loader: { insns: string; data: string };
  signature: string | null;
  certificates: string[];
  manifest: { payload: string; payloadType: string; signatures: unknown[] } | null;
}

const HEX64 = /^[0-9a-f]{64}$/;
const FIELDS = [
  'dataSha256',
  'insnsSha256',
  'kind',
  'loaderSignature',
  'manifestSha256',
  'objectSha256',
  'scheme',
  'signerCertSha256',
] as const;
/** A PKCS#7 over a loader is a few hundred bytes; a chain of long certificates still far below this. */
const MAX_SIGNATURE_CHARS = 16 << 10;

const malformed = (message: string, field: string, got?: unknown) =>
  new TlogError('TLOG_ENTRY_MALFORMED', `log entry: ${message}`, { field, ...(got === undefined ? {} : { got }) });

const hexOf = sha256Hex;
const b64Bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** DER of the first certificate of a PEM text. */
function pemDer(pem: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw malformed('the signer certificate is not PEM', 'certificates[0]');
  return b64Bytes(m[1].replace(/\s+/g, ''));
}

/** The object digest the manifest names (predicate.object.sha256 of the DSSE payload's statement). */
function manifestObjectSha256(payloadB64: string): string {
  let statement: unknown;
  try {
    statement = JSON.parse(Buffer.from(payloadB64, 'base64').toString('utf8'));
  } catch {
    throw malformed('the manifest payload is not JSON', 'manifest.payload');
  }
  const sha = (statement as { predicate?: { object?: { sha256?: unknown } } } | null)?.predicate?.object?.sha256;
  if (typeof sha !== 'string' || !HEX64.test(sha)) throw malformed('the manifest names no object SHA-256', 'manifest.payload');
  return sha;
}

/**
 * The entry of a signed bundle. `known` takes digests the caller already has (a verifier has
 * the loader's and the statement's): each is computed from the bundle when not given.
 * Requires a signed bundle (signature, signer certificate, manifest).
 */
export function loaderEntryFromBundle(
  b: EntrySource,
  known: { insnsSha256?: string; dataSha256?: string; objectSha256?: string; manifestBytes?: Uint8Array; manifestSha256?: string } = {},
): LoaderEntry {
  if (b.scheme !== 'linux-6.18' && b.scheme !== 'linux-load-time')
    throw malformed(`scheme ${JSON.stringify(b.scheme)} is not logged`, 'scheme', b.scheme);
  if (b.signature === null) throw malformed('the bundle has no loader signature', 'signature');
  if (b.manifest === null) throw malformed('the bundle has no signed manifest', 'manifest');
  if (b.certificates.length === 0) throw malformed('the bundle has no signer certificate', 'certificates');
  return {
    kind: LOADER_ENTRY_KIND,
    manifestSha256: known.manifestSha256 ?? (known.manifestBytes ? hexOf(known.manifestBytes) : envelopeSha256(b.manifest)),
    loaderSignature: b.signature,
    signerCertSha256: hexOf(pemDer(b.certificates[0])),
    scheme: b.scheme,
    insnsSha256: known.insnsSha256 ?? hexOf(b64Bytes(b.loader.insns)),
    dataSha256: known.dataSha256 ?? hexOf(b64Bytes(b.loader.data)),
    objectSha256: known.objectSha256 ?? manifestObjectSha256(b.manifest.payload),
  };
}

/** The logged bytes of an entry: RFC 8785 canonical JSON. */
export function loaderEntryBytes(e: LoaderEntry): Uint8Array {
  return canonicalBytes(e);
}

/** The RFC 6962 leaf hash of an entry. */
export function loaderEntryLeaf(e: LoaderEntry): Uint8Array {
  return hashLeaf(loaderEntryBytes(e));
}

/**
 * Reads logged bytes as an entry: every field present with its form, nothing else, and the
 * bytes canonical (one entry has one spelling, so its leaf hash is a function of its content).
 */
export function parseLoaderEntry(bytes: Uint8Array): LoaderEntry {
  if (bytes.length > MAX_ENTRY_BYTES) throw malformed(`${bytes.length} bytes, want at most ${MAX_ENTRY_BYTES}`, '(entry)', bytes.length);
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw malformed(`not UTF-8 JSON: ${(e as Error).message}`, '(entry)');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed('not a JSON object', '(entry)');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  const extra = keys.find((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra !== undefined) throw malformed(`unknown field ${JSON.stringify(extra)}`, extra);
  for (const f of FIELDS)
    if (typeof o[f] !== 'string') throw malformed(`${f} missing or not a string`, f, o[f] === undefined ? undefined : typeof o[f]);
  if (o.kind !== LOADER_ENTRY_KIND)
    throw malformed(`kind ${JSON.stringify(o.kind)}, want ${JSON.stringify(LOADER_ENTRY_KIND)}`, 'kind', o.kind);
  for (const f of ['manifestSha256', 'signerCertSha256', 'insnsSha256', 'dataSha256', 'objectSha256'] as const) {
    if (!HEX64.test(o[f] as string)) throw malformed(`${f} is not 64 lowercase hex digits`, f, String(o[f]).slice(0, 80));
  }
  if (o.scheme !== 'linux-6.18' && o.scheme !== 'linux-load-time')
    throw malformed(`scheme ${JSON.stringify(o.scheme)}`, 'scheme', o.scheme);
  const sig = o.loaderSignature as string;
  if (sig.length === 0 || sig.length > MAX_SIGNATURE_CHARS || canonicalBase64(sig) === null)
    throw malformed('loaderSignature is not canonical base64', 'loaderSignature', sig.slice(0, 80));
  const e = o as unknown as LoaderEntry;
  if (Buffer.compare(Buffer.from(loaderEntryBytes(e)), Buffer.from(bytes)) !== 0)
    throw malformed('the bytes are not canonical JSON (RFC 8785)', '(entry)');
  return e;
}
