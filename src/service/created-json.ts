/** The answer to a signing request, `{ id, bundle, links }`, as UTF-8 JSON bytes. */
import type { Bundle } from '../signing/bundle.js';
import type { JsonTexts } from '../shared/json.js';

export interface Created {
  id: string;
  bundle: Bundle;
  links: Record<string, string>;
}

const CREATED_KEYS = ['id', 'bundle', 'links'],
  BUNDLE_KEYS = ['mediaType', 'scheme', 'loader', 'signature', 'certificates', 'manifest', 'tlog'];
const LOADER_KEYS = ['insns', 'data'],
  ENVELOPE_KEYS = ['payload', 'payloadType', 'signatures'];
const NO_TEXTS: JsonTexts = new Map();

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
 * that its long strings whose JSON text is already kept as bytes (`texts`: the loader files and
 * the manifest payload in base64, some 30 KB, written once per built loader, see Signed.texts)
 * are copied in as they are, and only the rest of the answer (a few hundred bytes and the log
 * proof, whose checkpoint note has an em dash) is serialised and encoded per answer. Any other
 * shape is serialised whole.
 */
export function createdJson(created: Created, texts: JsonTexts = NO_TEXTS): Buffer {
  if (!usualShape(created)) return Buffer.from(JSON.stringify(created), 'utf8');
  const b = created.bundle;
  const parts: Buffer[] = [];
  let text = '';
  const str = (s: string): void => {
    const bytes = texts.get(s);
    if (bytes === undefined) text += JSON.stringify(s);
    else {
      parts.push(Buffer.from(text, 'utf8'), bytes);
      text = '';
    }
  };
  text += `{"id":${JSON.stringify(created.id)},"bundle":{"mediaType":${JSON.stringify(b.mediaType)},"scheme":${JSON.stringify(b.scheme)},"loader":{"insns":`;
  str(b.loader.insns);
  text += ',"data":';
  str(b.loader.data);
  text += `},"signature":${JSON.stringify(b.signature)},"certificates":${JSON.stringify(b.certificates)},"manifest":`;
  if (b.manifest === null) text += 'null';
  else {
    text += '{"payload":';
    str(b.manifest.payload);
    text += `,"payloadType":${JSON.stringify(b.manifest.payloadType)},"signatures":${JSON.stringify(b.manifest.signatures)}}`;
  }
  text += `,"tlog":${JSON.stringify(b.tlog)}},"links":${JSON.stringify(created.links)}}`;
  parts.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(parts);
}
