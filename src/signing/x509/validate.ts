/**
 * Is a signer certificate trusted at a given time? Builds a path to the configured roots, then
 * checks validity periods, CA constraints, the leaf's keyUsage/extendedKeyUsage and revocation
 * from the CRLs given. Synchronous and pure: roots, CRLs and the time are inputs.
 */
import { OID } from '../algorithms.js';
import { VerificationError, type UntrustedReason } from '../errors.js';
import { parseCertificate, type Certificate, type CertificateInput } from './certificate.js';
import { buildPath } from './chain.js';
import { normalizeSerial, parseCrl, type Crl, type CrlInput } from './crl.js';
import { checkSignedBy } from './signature.js';
import type { VerificationCaches } from '../caches.js';

const KU_DIGITAL_SIGNATURE = 1;
const KU_KEY_CERT_SIGN = 32;
const KU_CRL_SIGN = 64;
const ANY_EKU = '2.5.29.37.0';

export interface TrustMaterial {
  roots: readonly CertificateInput[];
  intermediates?: readonly CertificateInput[];
  crls?: readonly CrlInput[];
}

export interface ChainPolicy {
  /** the time the certificates must be valid at (signing time, or now) */
  at: Date;
  /** EKU the leaf must carry (default codeSigning); null: do not check */
  extendedKeyUsage?: string | null;
  /** fail with REVOCATION_UNKNOWN when an issuer in the path has no CRL (default false) */
  requireRevocationCheck?: boolean;
  /** The caller's memos (parsed certificates, verified signatures); absent: nothing is kept. */
  caches?: VerificationCaches;
}

export type RevocationStatus = 'good' | 'unknown';

export interface ChainValidated {
  ok: true;
  /** leaf → … → root */
  path: Certificate[];
  /** per non-root certificate in path order: 'good' when a current CRL from its issuer does not list it */
  revocation: RevocationStatus[];
}

export interface ChainRejected {
  ok: false;
  error: VerificationError;
  path?: Certificate[];
}

export type ChainValidation = ChainValidated | ChainRejected;

function untrusted(reason: UntrustedReason, cert: Certificate, message: string, at?: Date): VerificationError {
  return new VerificationError('UNTRUSTED', `x509: ${message}`, {
    reason,
    subject: cert.subject,
    subjectKeyIdentifier: cert.subjectKeyIdentifier,
    at: at?.toISOString(),
  });
}

function checkValidity(path: Certificate[], at: Date): VerificationError | undefined {
  for (const c of path) {
    if (at < c.notBefore) return untrusted('NOT_YET_VALID', c, `${c.subject} is not valid before ${c.notBefore.toISOString()}`, at);
    if (at > c.notAfter) return untrusted('EXPIRED', c, `${c.subject} expired at ${c.notAfter.toISOString()}`, at);
  }
  return undefined;
}

function checkIssuers(path: Certificate[]): VerificationError | undefined {
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    const isRoot = i === path.length - 1;
    const bc = c.basicConstraints;
    // trust anchors without the extension are accepted (RFC 5280 §6.1 treats them as given)
    if ((!bc && !isRoot) || (bc && !bc.ca)) return untrusted('NOT_CA', c, `${c.subject} issued a certificate but is not a CA`);
    if (c.keyUsage !== undefined && !(c.keyUsage & KU_KEY_CERT_SIGN))
      return untrusted('NOT_CA', c, `${c.subject} lacks keyUsage keyCertSign`);
    const below = i - 1; // intermediate CAs between this issuer and the leaf
    if (bc?.pathLength !== undefined && below > bc.pathLength) {
      return untrusted('PATH_LENGTH', c, `${c.subject} allows ${bc.pathLength} intermediate CA(s), path has ${below}`);
    }
  }
  return undefined;
}

function checkLeafUsage(leaf: Certificate, eku: string | null): VerificationError | undefined {
  if (leaf.keyUsage !== undefined && !(leaf.keyUsage & KU_DIGITAL_SIGNATURE)) {
    return untrusted('KEY_USAGE', leaf, `${leaf.subject} lacks keyUsage digitalSignature`);
  }
  if (eku !== null) {
    const have = leaf.extendedKeyUsage ?? [];
    if (!have.includes(eku) && !have.includes(ANY_EKU)) {
      return new VerificationError('UNTRUSTED', `x509: ${leaf.subject} lacks extendedKeyUsage ${eku}`, {
        reason: 'EXTENDED_KEY_USAGE',
        subject: leaf.subject,
        subjectKeyIdentifier: leaf.subjectKeyIdentifier,
        got: [...have],
        want: eku,
      });
    }
  }
  return undefined;
}

function checkRevocation(
  path: Certificate[],
  crls: Crl[],
  at: Date,
  require: boolean,
  caches?: VerificationCaches,
): { error?: VerificationError; status: RevocationStatus[] } {
  const status: RevocationStatus[] = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const c = path[i];
    const issuer = path[i + 1];
    const fromIssuer = crls.filter(
      (l) =>
        l.issuer === issuer.subject &&
        (!l.authorityKeyIdentifier || !issuer.subjectKeyIdentifier || l.authorityKeyIdentifier === issuer.subjectKeyIdentifier),
    );
    for (const crl of fromIssuer) {
      if (issuer.keyUsage !== undefined && !(issuer.keyUsage & KU_CRL_SIGN)) {
        return { error: untrusted('CRL_INVALID', issuer, `${issuer.subject} lacks keyUsage cRLSign but a CRL names it`), status };
      }
      if (checkSignedBy(crl.der, crl.signatureAlgorithm, issuer.publicKey, caches) !== 'ok') {
        return { error: untrusted('CRL_INVALID', issuer, `a CRL naming ${issuer.subject} as issuer is not signed by it`), status };
      }
      if (at < crl.thisUpdate || (crl.nextUpdate && at > crl.nextUpdate)) {
        return {
          error: untrusted('CRL_INVALID', issuer, `the CRL of ${issuer.subject} is not current at ${at.toISOString()}`, at),
          status,
        };
      }
      const revokedAt = crl.revoked.get(normalizeSerial(c.serialNumber));
      if (revokedAt) {
        return {
          error: untrusted('REVOKED', c, `${c.subject} (serial ${c.serialNumber}) was revoked at ${revokedAt.toISOString()}`, at),
          status,
        };
      }
    }
    if (fromIssuer.length === 0 && require) {
      return { error: untrusted('REVOCATION_UNKNOWN', c, `no CRL from ${issuer.subject} to check ${c.subject}`), status };
    }
    status.push(fromIssuer.length > 0 ? 'good' : 'unknown');
  }
  return { status };
}

/** Validates `leaf` against the trust material under `policy`. Never throws for untrusted input. */
export function validateChain(leaf: CertificateInput, trust: TrustMaterial, policy: ChainPolicy): ChainValidation {
  let cert: Certificate;
  let roots: Certificate[];
  let intermediates: Certificate[];
  let crls: Crl[];
  try {
    const parsed = policy.caches?.certificates;
    cert = parseCertificate(leaf, parsed);
    roots = trust.roots.map((r) => parseCertificate(r, parsed));
    intermediates = (trust.intermediates ?? []).map((r) => parseCertificate(r, parsed));
    crls = (trust.crls ?? []).map((l) => parseCrl(l));
  } catch (e) {
    if (e instanceof VerificationError) return { ok: false, error: e };
    throw e;
  }
  const found = buildPath(cert, intermediates, roots, policy.caches);
  if (!found.ok) return { ok: false, error: untrusted(found.reason, cert, found.message) };
  const path = found.path;
  const error =
    checkValidity(path, policy.at) ??
    checkIssuers(path) ??
    checkLeafUsage(cert, policy.extendedKeyUsage === undefined ? OID.codeSigning : policy.extendedKeyUsage);
  if (error) return { ok: false, error, path };
  const revocation = checkRevocation(path, crls, policy.at, policy.requireRevocationCheck ?? false, policy.caches);
  if (revocation.error) return { ok: false, error: revocation.error, path };
  return { ok: true, path, revocation: revocation.status };
}
