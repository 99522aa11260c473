import { sameCertificate } from './certificate.js';
import { checkSignedBy } from './signature.js';
export const MAX_PATH_LENGTH = 8;
function isRoot(c, roots) {
    return roots.some((r) => sameCertificate(r, c));
}
function mayHaveIssued(issuer, child) {
    if (issuer.subject !== child.issuer)
        return false;
    if (issuer.subjectKeyIdentifier && child.authorityKeyIdentifier)
        return issuer.subjectKeyIdentifier === child.authorityKeyIdentifier;
    return true;
}
/** Returns the path leaf → … → root, or why there is none. */
export function buildPath(leaf, intermediates, roots) {
    if (isRoot(leaf, roots))
        return { ok: true, path: [leaf] };
    const pool = [...roots, ...intermediates.filter((c) => !isRoot(c, roots))];
    let badSignature;
    const extend = (path) => {
        const tip = path[path.length - 1];
        if (path.length > MAX_PATH_LENGTH)
            return undefined;
        for (const candidate of pool) {
            if (path.some((p) => sameCertificate(p, candidate)) || !mayHaveIssued(candidate, tip))
                continue;
            if (checkSignedBy(tip.der, tip.signatureAlgorithm, candidate.publicKey) !== 'ok') {
                badSignature ??= tip;
                continue;
            }
            const next = [...path, candidate];
            if (isRoot(candidate, roots))
                return next;
            const found = extend(next);
            if (found)
                return found;
        }
        return undefined;
    };
    const path = extend([leaf]);
    if (path)
        return { ok: true, path };
    if (badSignature) {
        return { ok: false, reason: 'BAD_CERT_SIGNATURE', subject: badSignature.subject, message: `${badSignature.subject} is not signed by its named issuer` };
    }
    return { ok: false, reason: 'NO_CHAIN', subject: leaf.subject, message: `no path from ${leaf.subject} to a configured root` };
}
//# sourceMappingURL=chain.js.map