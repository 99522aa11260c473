/** The answer to a signing request, `{ id, bundle, links }`, as UTF-8 JSON bytes. */
import type { Bundle } from '../signing/bundle.js';
import { jsonString } from '../shared/json.js';

export interface Created {
  id: string;
  bundle: Bundle;
  links: Record<string, string>;
}

const CREATED_KEYS = ['id', 'bundle', 'links'],
  BUNDLE_KEYS = ['mediaType', 'scheme', 'loader', 'signature', 'certificates', 'manifest', 'tlog'];
const LOADER_KEYS = ['insns', 'data'],
  ENVELOPE_KEYS = ['payload', 'payloadType', 'signatures'];

/** True when `o`'s own enumerable keys are exactly `keys`, in that order, with no toJSON (what JSON.stringify would then write in order). */
function sameKeys(o: object, keys: readonly string[]): boolean {
  if (Object.getPrototypeOf(o) !== Object.prototype || 'toJSON' in o) return false;
  let i = 0;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) return false;
    if (k !== keys[i++]) return false;
  }
  return i === keys.length;
}

/** True when `created` has the usual shape, member for member, that createdJson writes by hand. */
function usualShape(created: Created): boolean {
  const b = created.bundle;
  if (
    !sameKeys(created, CREATED_KEYS) ||
    !sameKeys(b, BUNDLE_KEYS) ||
    !sameKeys(b.loader, LOADER_KEYS) ||
    (b.manifest !== null && !sameKeys(b.manifest, ENVELOPE_KEYS))
  )
    return false;
  if (
    typeof b.loader.insns !== 'string' ||
    typeof b.loader.data !== 'string' ||
    (b.manifest !== null && typeof b.manifest.payload !== 'string')
  )
    return false;
  const members: unknown[] = [
    created.id,
    b.mediaType,
    b.scheme,
    b.signature,
    b.certificates,
    b.tlog,
    b.manifest?.payloadType,
    b.manifest?.signatures,
    created.links,
  ];
  return !members.some((v) => v === undefined);
}

/**
 * The same bytes as JSON.stringify. Written member by member for a bundle of the usual shape, so
 * that its large base64 strings (the loader files and the manifest payload, some 30 KB, made by
 * Node's encoder when signing and named in `jsonSafe`, see Signed.jsonSafe) go between quotes as
 * they are instead of being scanned for escapes on every answer. The checkpoint note's em dash (C2SP signed notes) keeps the proof
 * a two-byte string; only its few hundred bytes are encoded as such. Any other shape is
 * serialised whole.
 */
export function createdJson(created: Created, jsonSafe: readonly string[] = []): Buffer {
  if (!usualShape(created)) return Buffer.from(JSON.stringify(created), 'utf8');
  const b = created.bundle;
  const manifest =
    b.manifest === null
      ? 'null'
      : `{"payload":${jsonString(b.manifest.payload, jsonSafe)},"payloadType":${JSON.stringify(b.manifest.payloadType)},"signatures":${JSON.stringify(b.manifest.signatures)}}`;
  const head =
    `{"id":${JSON.stringify(created.id)},"bundle":{"mediaType":${JSON.stringify(b.mediaType)},"scheme":${JSON.stringify(b.scheme)},` +
    `"loader":{"insns":${jsonString(b.loader.insns, jsonSafe)},"data":${jsonString(b.loader.data, jsonSafe)}},"signature":${JSON.stringify(b.signature)},` +
    `"certificates":${JSON.stringify(b.certificates)},"manifest":${manifest},"tlog":`;
  return Buffer.concat([
    Buffer.from(head, 'utf8'),
    Buffer.from(JSON.stringify(b.tlog), 'utf8'),
    Buffer.from(`},"links":${JSON.stringify(created.links)}}`, 'utf8'),
  ]);
}
