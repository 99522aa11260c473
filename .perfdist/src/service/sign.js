/**
 * Signing a generated loader: the kernel's PKCS#7 over the scheme's content, the manifest signed
 * as DSSE/in-toto by the same key, assembled into a bundle (the service adds the log proof).
 */
import { signDetached, signedContent } from '../signing/index.js';
import { BUNDLE_MEDIA_TYPE, toB64 } from '../signing/bundle.js';
import { makeManifest, signManifest } from '../signing/manifest.js';
import { summarizeObject } from '../loader/object/index.js';
import { GENERATOR } from './loader.js';
/** Requires built.loader to have been generated for `scheme` (the loaders differ per scheme). */
export async function signBuilt(built, signer, certificates) {
    const scheme = built.loader.scheme;
    if (scheme === 'unsigned')
        throw new Error('sign: the loader was generated for the unsigned scheme');
    const loader = { insns: built.loader.insns, data: built.loader.data };
    const signature = await signDetached(signedContent(scheme, loader.insns, loader.data), signer);
    const m = built.manifest;
    const manifest = makeManifest({
        generator: GENERATOR,
        object: { name: built.name, file: m.object.file, sha256: m.object.sha256, size: m.object.size, summary: summarizeObject(built.spec) },
        plan: built.plan, loader, scheme,
        kernelProfile: { name: 'linux-6.18', mapExcl: m.options.kernel.mapExcl },
        options: built.manifest.options,
    });
    const envelope = await signManifest(manifest, loader, signer);
    const bundle = {
        mediaType: BUNDLE_MEDIA_TYPE, scheme, loader: { insns: toB64(loader.insns), data: toB64(loader.data) },
        signature: toB64(signature), certificates, manifest: envelope, tlog: null,
    };
    return { signature, manifest, envelope, bundle };
}
/** A bundle for an unsigned loader: no signature, no manifest signature. */
export function unsignedBundle(built) {
    return {
        mediaType: BUNDLE_MEDIA_TYPE, scheme: built.loader.scheme, loader: { insns: toB64(built.loader.insns), data: toB64(built.loader.data) },
        signature: null, certificates: [], manifest: null, tlog: null,
    };
}
//# sourceMappingURL=sign.js.map