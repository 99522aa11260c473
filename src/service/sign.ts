/**
 * Signing a generated loader: the kernel's PKCS#7 over the scheme's content, the manifest signed
 * as DSSE/in-toto by the same key, assembled into a bundle (the service adds the log proof).
 */
import { signDetached, signedContent, type Signer } from '../signing/index.js';
import { BUNDLE_MEDIA_TYPE, toB64, type Bundle } from '../signing/bundle.js';
import { makeManifest, manifestStatement } from '../signing/manifest.js';
import { canonicalBytes, type JsonValue } from '../signing/canonical.js';
import { signEnvelope, type Envelope } from '../signing/dsse.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../signing/statement.js';
import { summarizeObject } from '../loader/object/index.js';
import { GENERATOR, type BuiltLoader } from './loader.js';

export interface Signed {
  signature: Uint8Array;
  manifest: JsonValue;
  envelope: Envelope;
  bundle: Bundle;
}

/** What is signed for a built loader, apart from the key: the same for every signature of it. */
interface ToSign {
  /** The scheme's signed content (instructions, or instructions ‖ data). */
  content: Uint8Array;
  manifest: JsonValue;
  /** RFC 8785 bytes of the in-toto Statement carrying the manifest (the DSSE payload). */
  statement: Uint8Array;
}

/** Per built loader (built loaders are immutable and may come from the LoaderCache). */
const toSignMemo = new WeakMap<BuiltLoader, ToSign>();

function toSign(built: BuiltLoader): ToSign {
  let t = toSignMemo.get(built);
  if (t) return t;
  const scheme = built.loader.scheme;
  if (scheme === 'unsigned') throw new Error('sign: the loader was generated for the unsigned scheme');
  const loader = { insns: built.loader.insns, data: built.loader.data };
  const m = built.manifest as { object: { file: string; sha256: string; size: number }; options: { kernel: { mapExcl: boolean } } };
  const manifest = makeManifest({
    generator: GENERATOR,
    object: { name: built.name, file: m.object.file, sha256: m.object.sha256, size: m.object.size, summary: summarizeObject(built.spec) },
    plan: built.plan, loader, scheme,
    kernelProfile: { name: 'linux-6.18', mapExcl: m.options.kernel.mapExcl },
    options: built.manifest.options,
  });
  t = { content: signedContent(scheme, loader.insns, loader.data), manifest, statement: canonicalBytes(manifestStatement(manifest, loader) as never) };
  toSignMemo.set(built, t);
  return t;
}

/** Requires built.loader to have been generated for `scheme` (the loaders differ per scheme). */
export async function signBuilt(built: BuiltLoader, signer: Signer, certificates: string[]): Promise<Signed> {
  const scheme = built.loader.scheme;
  const t = toSign(built);
  const signature = await signDetached(t.content, signer);
  const envelope = await signEnvelope(t.statement, IN_TOTO_PAYLOAD_TYPE, signer);
  const bundle: Bundle = {
    mediaType: BUNDLE_MEDIA_TYPE, scheme, loader: { insns: toB64(built.loader.insns), data: toB64(built.loader.data) },
    signature: toB64(signature), certificates, manifest: envelope, tlog: null,
  };
  return { signature, manifest: t.manifest, envelope, bundle };
}

/** A bundle for an unsigned loader: no signature, no manifest signature. */
export function unsignedBundle(built: BuiltLoader): Bundle {
  return {
    mediaType: BUNDLE_MEDIA_TYPE, scheme: built.loader.scheme, loader: { insns: toB64(built.loader.insns), data: toB64(built.loader.data) },
    signature: null, certificates: [], manifest: null, tlog: null,
  };
}
