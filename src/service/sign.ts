/**
 * Signing a generated loader: the kernel's PKCS#7 over the scheme's content, the manifest signed
 * as DSSE/in-toto by the same key, assembled into a bundle (the service adds the log proof).
 */
import { createHash, type Hash } from 'node:crypto';
import { signDetached, signedContent, type Signer } from '../signing/index.js';
import { BUNDLE_MEDIA_TYPE, toB64, type Bundle } from '../signing/bundle.js';
import { makeManifest, manifestStatement } from '../signing/manifest.js';
import { canonicalBytes, canonicalize, type JsonValue } from '../signing/canonical.js';
import { preparePayload, signPrepared, type Envelope, type PreparedPayload } from '../signing/dsse.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../signing/statement.js';
import { summarizeObject } from '../loader/object/index.js';
import { sha256Hex } from '../shared/bytes.js';
import { base64Text, jsonTexts, type JsonTexts } from '../shared/json.js';
import { GENERATOR, type BuiltLoader } from './loader.js';

export interface Signed {
  signature: Uint8Array;
  manifest: JsonValue;
  envelope: Envelope;
  /** The envelope's RFC 8785 bytes (what the transparency log records): canonicalBytes(envelope). */
  envelopeBytes: Uint8Array;
  bundle: Bundle;
  /** SHA-256 (hex) of envelopeBytes: the digest the log entry names the manifest by. */
  envelopeSha256: string;
  /** The JSON text of the bundle's long strings (loader files and manifest payload in base64), kept per built loader. */
  texts: JsonTexts;
}

/** What is signed for a built loader, apart from the key: the same for every signature of it. */
interface ToSign {
  /** The scheme's signed content (instructions, or instructions ‖ data). */
  content: Uint8Array;
  manifest: JsonValue;
  /** RFC 8785 bytes of the in-toto Statement carrying the manifest (the DSSE payload), ready for DSSE. */
  payload: PreparedPayload;
  /** The canonical envelope's bytes up to its signatures, which alone differ per signature. */
  envelopeHead: Buffer;
  /** SHA-256 over envelopeHead so far: each signature's envelope digest is a copy of it, given the few bytes after. */
  envelopeHeadHash: Hash;
  /** JSON text of loaderB64's strings and the payload's base64. */
  texts: JsonTexts;
  /** The bundle's loader files in base64. */
  loaderB64: { insns: string; data: string };
  /** Signatures made of this loader, by signer (signBuilt's `reuse`). */
  signatures: WeakMap<Signer, Promise<Signatures>>;
}

/** One signer's signatures of a built loader: the loader's PKCS#7 and the manifest's envelope. */
interface Signatures {
  signature: Uint8Array;
  envelope: Envelope;
  envelopeBytes: Uint8Array;
  envelopeSha256: string;
}

/** Per built loader, kept in its signingMemo (built loaders are otherwise immutable and may come from the LoaderCache). */
function toSign(built: BuiltLoader): ToSign {
  let t = built.signingMemo as ToSign | undefined;
  if (t) return t;
  const scheme = built.loader.scheme;
  if (scheme === 'unsigned') throw new Error('sign: the loader was generated for the unsigned scheme');
  const loader = { insns: built.loader.insns, data: built.loader.data };
  const m = built.manifest as { object: { file: string; sha256: string; size: number }; options: { kernel: { mapExcl: boolean } } };
  const manifest = makeManifest({
    generator: GENERATOR,
    object: { name: built.name, file: m.object.file, sha256: m.object.sha256, size: m.object.size, summary: summarizeObject(built.spec) },
    plan: built.plan,
    loader,
    scheme,
    kernelProfile: { name: 'linux-6.18', mapExcl: m.options.kernel.mapExcl },
    options: built.manifest.options,
  });
  const payload = preparePayload(canonicalBytes(manifestStatement(manifest, loader)), IN_TOTO_PAYLOAD_TYPE);
  // Members in RFC 8785 order: payload, payloadType, signatures. Base64 has nothing JSON escapes,
  // so the payload is quoted as it is (canonicalize would scan all of it for escapes, per signature).
  const envelopeHead = Buffer.from(
    `{"payload":"${payload.base64}","payloadType":${canonicalize(IN_TOTO_PAYLOAD_TYPE)},"signatures":`,
    'latin1',
  );
  const [insns, data] = [loader.insns, loader.data].map(base64Text);
  t = {
    content: signedContent(scheme, loader.insns, loader.data),
    manifest,
    payload,
    envelopeHead,
    envelopeHeadHash: createHash('sha256').update(envelopeHead),
    loaderB64: { insns: insns.base64, data: data.base64 },
    // The payload's JSON text is keyed by the envelope's own base64 string (no second copy of it).
    texts: jsonTexts([insns, data, payload]),
    signatures: new WeakMap(),
  };
  built.signingMemo = t;
  return t;
}

/**
 * Signs a built loader: its PKCS#7 signature and its manifest's envelope. Requires built.loader to
 * have been generated for `scheme` (the loaders differ per scheme). With `reuse`, a loader signed
 * again by the same signer gets the signatures it got the first time, byte for byte, as RSA's
 * (deterministic) would be anyway: what is signed is the same bytes, so the first signatures are
 * as valid as new ones, and the service's cached loaders (LoaderCache) are then signed once per
 * key, not once per request. Without it (and for every new built loader), the signer signs.
 */
export async function signBuilt(built: BuiltLoader, signer: Signer, certificates: string[], reuse = false): Promise<Signed> {
  const t = toSign(built);
  let made = reuse ? t.signatures.get(signer) : undefined;
  if (made === undefined) {
    made = signatures(t, signer);
    if (reuse) {
      t.signatures.set(signer, made);
      // A failed signing is not kept: the next request asks the signer again.
      made.catch(() => t.signatures.delete(signer));
    }
  }
  const { signature, envelope, envelopeBytes, envelopeSha256 } = await made;
  const bundle: Bundle = {
    mediaType: BUNDLE_MEDIA_TYPE,
    scheme: built.loader.scheme,
    loader: { ...t.loaderB64 },
    signature: toB64(signature),
    certificates,
    manifest: envelope,
    tlog: null,
  };
  return { signature, manifest: t.manifest, envelope, envelopeBytes, envelopeSha256, bundle, texts: t.texts };
}

async function signatures(t: ToSign, signer: Signer): Promise<Signatures> {
  const signature = await signDetached(t.content, signer);
  const envelope = await signPrepared(t.payload, signer);
  // The envelope's canonical bytes and digest without serialising or hashing its 20-odd KB
  // payload again per signature.
  if (envelope.payload === t.payload.base64 && envelope.payloadType === IN_TOTO_PAYLOAD_TYPE) {
    const tail = Buffer.from(`${canonicalize(envelope.signatures)}}`, 'utf8');
    return {
      signature,
      envelope,
      envelopeBytes: Buffer.concat([t.envelopeHead, tail]),
      envelopeSha256: t.envelopeHeadHash.copy().update(tail).digest('hex'),
    };
  }
  const envelopeBytes = canonicalBytes(envelope);
  return { signature, envelope, envelopeBytes, envelopeSha256: sha256Hex(envelopeBytes) };
}

/** A bundle for an unsigned loader: no signature, no manifest signature. */
export function unsignedBundle(built: BuiltLoader): Bundle {
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    scheme: built.loader.scheme,
    loader: { insns: toB64(built.loader.insns), data: toB64(built.loader.data) },
    signature: null,
    certificates: [],
    manifest: null,
    tlog: null,
  };
}
