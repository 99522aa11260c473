/**
 * Path building: from a signer certificate up to one of the configured roots, through the
 * intermediates given. An issuer candidate must have the certificate's issuer name as subject,
 * a subjectKeyIdentifier equal to the certificate's authorityKeyIdentifier (when both exist),
 * and must have signed it. Depth-first, bounded, no certificate used twice.
 */
import type { Certificate } from './certificate.js';
import { sameCertificate } from './certificate.js';
import { checkSignedBy } from './signature.js';
import type { VerificationCaches } from '../caches.js';

export const MAX_PATH_LENGTH = 8;

export type ChainSearch =
  { ok: true; path: Certificate[] } | { ok: false; reason: 'NO_CHAIN' | 'BAD_CERT_SIGNATURE'; subject: string; message: string };

function isRoot(c: Certificate, roots: readonly Certificate[]): boolean {
  return roots.some((r) => sameCertificate(r, c));
}

function mayHaveIssued(issuer: Certificate, child: Certificate): boolean {
  if (issuer.subject !== child.issuer) return false;
  if (issuer.subjectKeyIdentifier && child.authorityKeyIdentifier) return issuer.subjectKeyIdentifier === child.authorityKeyIdentifier;
  return true;
}

/** Returns the path leaf → … → root, or why there is none (`caches`: the verification's memos, see VerificationCaches). */
export function buildPath(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  roots: readonly Certificate[],
  caches?: VerificationCaches,
): ChainSearch {
  if (isRoot(leaf, roots)) return { ok: true, path: [leaf] };
  const pool = [...roots, ...intermediates.filter((c) => !isRoot(c, roots))];
  let badSignature: Certificate | undefined;

  const extend = (path: Certificate[]): Certificate[] | undefined => {
    const tip = path[path.length - 1];
    if (path.length > MAX_PATH_LENGTH) return undefined;
    for (const candidate of pool) {
      if (path.some((p) => sameCertificate(p, candidate)) || !mayHaveIssued(candidate, tip)) continue;
      if (checkSignedBy(tip.der, tip.signatureAlgorithm, candidate.publicKey, caches) !== 'ok') {
        badSignature ??= tip;
        continue;
      }
      const next = [...path, candidate];
      if (isRoot(candidate, roots)) return next;
      const found = extend(next);
      if (found) return found;
    }
    return undefined;
  };

  const path = extend([leaf]);
  if (path) return { ok: true, path };
  if (badSignature) {
    return {
      ok: false,
      reason: 'BAD_CERT_SIGNATURE',
      subject: badSignature.subject,
      message: `${badSignature.subject} is not signed by its named issuer`,
    };
  }
  return { ok: false, reason: 'NO_CHAIN', subject: leaf.subject, message: `no path from ${leaf.subject} to a configured root` };
}
