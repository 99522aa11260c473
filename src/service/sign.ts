/**
 * Signing a generated loader: the kernel's PKCS#7 over the scheme's content, the manifest signed
 * as DSSE/in-toto by the same key, assembled into a bundle (the service adds the log proof).
 */
import { signDetached, signedContent, type Signer } from '../signing/index.js';
import { BUNDLE_MEDIA_TYPE, toB64, type Bundle } from '../signing/bundle.js';
import { makeManifest, manifestStatement } from '../signing/manifest.js';
import { canonicalBytes, canonicalize, type JsonValue } from '../signing/canonical.js';
import { preparePayload, signPrepared, type Envelope, type PreparedPayload } from '../signing/dsse.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../signing/statement.js';
import { summarizeObject } from '../loader/object/index.js';
import { GENERATOR, type BuiltLoader } from './loader.js';

export interface Signed {
  signature: Uint8Array;
  manifest: JsonValue;
  envelope: Envelope;
  /** The envelope's RFC 8785 bytes (what the transparency log records): canonicalBytes(envelope). */
  envelopeBytes: Uint8Array;
  bundle: Bundle;
  /** The bundle's base64 strings made by Node's encoder (loader files, manifest payload): JSON-safe as they are (jsonString). */
  jsonSafe: readonly string[];
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
  /** The bundle's loader files in base64. */
  loaderB64: { insns: string; data: string };
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
  t = {
    content: signedContent(scheme, loader.insns, loader.data),
    manifest,
    payload,
    envelopeHead,
    loaderB64: { insns: toB64(loader.insns), data: toB64(loader.data) },
  };
  built.signingMemo = t;
  return t;
}

/** Requires built.loader to have been generated for `scheme` (the loaders differ per scheme). */
export async function signBuilt(built: BuiltLoader, signer: Signer, certificates: string[]): Promise<Signed> {
  const scheme = built.loader.scheme;
  const t = toSign(built);
  const signature = await signDetached(t.content, signer);
  const envelope = await signPrepared(t.payload, signer);
  const bundle: Bundle = {
    mediaType: BUNDLE_MEDIA_TYPE,
    scheme,
    loader: { ...t.loaderB64 },
    signature: toB64(signature),
    certificates,
    manifest: envelope,
    tlog: null,
  };
  // The envelope's canonical bytes without serialising its 20-odd KB payload again per signature.
  const envelopeBytes =
    envelope.payload === t.payload.base64 && envelope.payloadType === IN_TOTO_PAYLOAD_TYPE
      ? Buffer.concat([t.envelopeHead, Buffer.from(`${canonicalize(envelope.signatures)}}`, 'utf8')])
      : canonicalBytes(envelope);
  return {
    signature,
    manifest: t.manifest,
    envelope,
    envelopeBytes,
    bundle,
    jsonSafe: [t.loaderB64.insns, t.loaderB64.data, t.payload.base64],
  };
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
