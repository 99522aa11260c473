/**
 * The manifest: canonical JSON (RFC 8785) stating in plain data what the loader will create and
 * load — object digest and summary, the plan, loader digests, scheme, generator, kernel profile,
 * options — signed as a DSSE envelope holding an in-toto Statement whose subjects are the
 * loader's two files, so supply-chain tools can read it.
 */
import { createHash } from 'node:crypto';
import { makeStatement, signStatement } from './statement.js';
import { MANIFEST_PREDICATE_TYPE } from './bundle.js';
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
/** Plain JSON: bytes as hex, bigints as decimal strings, no undefined. */
export function toJsonValue(v) {
    return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x)));
}
export function makeManifest(m) {
    return toJsonValue({
        version: 1,
        generator: m.generator,
        object: m.object,
        scheme: m.scheme,
        loader: { insns: { sha256: sha256(m.loader.insns), size: m.loader.insns.length }, data: { sha256: sha256(m.loader.data), size: m.loader.data.length } },
        kernelProfile: m.kernelProfile,
        options: m.options,
        plan: m.plan,
    });
}
export function manifestStatement(manifest, loader) {
    return makeStatement([
        { name: 'insns.bin', digest: { sha256: sha256(loader.insns) } },
        { name: 'data.bin', digest: { sha256: sha256(loader.data) } },
    ], MANIFEST_PREDICATE_TYPE, manifest);
}
export async function signManifest(manifest, loader, signer) {
    return signStatement(manifestStatement(manifest, loader), signer);
}
//# sourceMappingURL=manifest.js.map