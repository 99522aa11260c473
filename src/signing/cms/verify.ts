/**
 * Synchronous, pure verification of a detached CMS signature by the kernel's rules
 * (kernel-signing.md §4): detached id-data content, SignerInfo v1 (issuer+serial) or v3 (SKID),
 * digest sha224/256/384/512, rsaEncryption or ecdsa-with-SHA*, signed attributes optional but,
 * when present, exactly one contentType (= id-data) and one messageDigest (= digest of content).
 *
 * Returns a result instead of throwing, so a verdict can be built from it. This checks the
 * signature against candidate keys only; whether the matching certificate is *trusted* is
 * x509/validate's job.
 */
import { hash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import { CMS_SIGNATURE_KEY_FAMILY, DIGEST_BY_OID, OID, algorithmOfKey, verifyRaw, type DigestName } from '../algorithms.js';
import { VerificationError } from '../errors.js';
import { parseCertificate, type Certificate, type CertificateInput } from '../x509/certificate.js';
import { decodeSignedData, type DecodedSignedData, type DecodedSignerInfo, type SignerId } from './decode.js';
import { toHex } from '../../shared/bytes.js';
import type { VerificationCaches } from '../caches.js';

/** Key family + curve/size + digest of a verified signature, e.g. 'ecdsa-p384-sha256'. */
export type VerifiedAlgorithm = `${'rsa-pkcs1v15' | 'ecdsa-p256' | 'ecdsa-p384'}-${DigestName}`;

export type SignerStatus = 'VERIFIED' | 'UNKNOWNKEY' | 'BADSIG' | 'UNSUPPORTED' | 'MALFORMED';

export interface SignerOutcome {
  index: number;
  sid: SignerId;
  status: SignerStatus;
  /** the candidate whose key matched the signer identifier */
  certificate?: Certificate;
  algorithm?: VerifiedAlgorithm;
  signedAttributes: boolean;
  message: string;
}

export interface CmsVerified {
  ok: true;
  /** the first verified signer */
  signer: { subjectKeyIdentifier?: string; certificate: Certificate };
  algorithm: VerifiedAlgorithm;
  digestAlgorithm: DigestName;
  /** hex digest of the content under `digestAlgorithm` */
  contentDigest: string;
  signedAttributes: boolean;
  signers: SignerOutcome[];
  structure: DecodedSignedData;
}

export interface CmsRejected {
  ok: false;
  error: VerificationError;
  signers: SignerOutcome[];
  structure?: DecodedSignedData;
}

export type CmsVerification = CmsVerified | CmsRejected;

function stripZeros(hex: string): string {
  return hex.replace(/^(00)+(?=..)/, '').toLowerCase();
}

/** A certificate's issuer Name (DER, hex), for SignerInfos that name their key by issuer and serial. */
function issuerName(cert: Certificate): string {
  const asn = AsnConvert.parse(cert.der, AsnCertificate);
  return toHex(new Uint8Array(AsnConvert.serialize(asn.tbsCertificate.issuer)));
}

function matches(sid: SignerId, cert: Certificate): boolean {
  if (sid.$case === 'subjectKeyIdentifier') return cert.subjectKeyIdentifier === sid.keyId;
  return issuerName(cert) === toHex(sid.issuer) && stripZeros(cert.serialNumber) === stripZeros(sid.serialNumber);
}

function keyName(alg: string): 'rsa-pkcs1v15' | 'ecdsa-p256' | 'ecdsa-p384' {
  return alg.replace(/-sha256$/, '') as 'rsa-pkcs1v15' | 'ecdsa-p256' | 'ecdsa-p384';
}

/** DER of OBJECT IDENTIFIER id-data (1.2.840.113549.1.7.1). */
const ID_DATA_DER = '06092a864886f70d010701';

/** The bytes the signature covers, or why the signed attributes are refused (kernel pkcs7 rules). */
function signedBytes(
  si: DecodedSignerInfo,
  content: Uint8Array,
  contentDigest: Uint8Array,
): { ok: true; bytes: Uint8Array } | { ok: false; status: SignerStatus; message: string } {
  if (!si.signedAttrsDer || !si.signedAttrs) return { ok: true, bytes: content };
  const types = si.signedAttrs.map((a) => a.type);
  if (new Set(types).size !== types.length || si.signedAttrs.some((a) => a.values.length !== 1)) {
    return { ok: false, status: 'BADSIG', message: 'repeated or multi-valued signed attribute' };
  }
  const ct = si.signedAttrs.find((a) => a.type === OID.contentType);
  const md = si.signedAttrs.find((a) => a.type === OID.messageDigest);
  if (!ct || !md) return { ok: false, status: 'MALFORMED', message: 'signed attributes lack contentType or messageDigest' };
  if (toHex(ct.values[0]) !== ID_DATA_DER) return { ok: false, status: 'MALFORMED', message: 'signed contentType is not id-data' };
  const want = '04' + contentDigest.length.toString(16).padStart(2, '0') + toHex(contentDigest);
  if (toHex(md.values[0]) !== want) return { ok: false, status: 'BADSIG', message: 'messageDigest does not match the content' };
  return { ok: true, bytes: si.signedAttrsDer };
}

function verifySigner(
  si: DecodedSignerInfo,
  index: number,
  content: Uint8Array,
  candidates: Certificate[],
  caches?: VerificationCaches,
): SignerOutcome {
  const signedAttributes = si.signedAttrs !== undefined;
  // Built member by member: spreading the frozen decoded structures took the slow generic path.
  const out = (
    status: SignerStatus,
    message: string,
    extra?: { certificate?: Certificate; algorithm?: VerifiedAlgorithm },
  ): SignerOutcome => {
    const o: SignerOutcome = { index, sid: si.sid, signedAttributes, status, message };
    if (extra?.certificate) o.certificate = extra.certificate;
    if (extra?.algorithm) o.algorithm = extra.algorithm;
    return o;
  };
  if (si.version === 1 && si.sid.$case !== 'issuerAndSerialNumber') return out('MALFORMED', 'SignerInfo v1 must use issuerAndSerialNumber');
  if (si.version === 3 && si.sid.$case !== 'subjectKeyIdentifier') return out('MALFORMED', 'SignerInfo v3 must use subjectKeyIdentifier');
  if (si.version !== 1 && si.version !== 3) return out('MALFORMED', `SignerInfo version ${si.version} (want 1 or 3)`);
  const digest = DIGEST_BY_OID[si.digestAlgorithm.oid];
  if (!digest) return out('UNSUPPORTED', `digest algorithm ${si.digestAlgorithm.oid}`);
  const family = CMS_SIGNATURE_KEY_FAMILY[si.signatureAlgorithm.oid];
  if (!family)
    return out('UNSUPPORTED', `signature algorithm ${si.signatureAlgorithm.oid} (the kernel wants rsaEncryption or ecdsa-with-SHA*)`);
  const cert = candidates.find((c) => matches(si.sid, c));
  if (!cert) {
    const id = si.sid.$case === 'subjectKeyIdentifier' ? `subjectKeyIdentifier ${si.sid.keyId}` : `serial ${si.sid.serialNumber}`;
    return out('UNKNOWNKEY', `no candidate certificate has ${id}`);
  }
  const keyAlg = algorithmOfKey(cert.publicKey);
  if (!keyAlg.ok) return out('UNSUPPORTED', keyAlg.reason, { certificate: cert });
  if ((family === 'rsa') !== (keyAlg.algorithm === 'rsa-pkcs1v15-sha256')) {
    return out('BADSIG', `signature algorithm ${si.signatureAlgorithm.oid} does not fit the ${keyName(keyAlg.algorithm)} key`, {
      certificate: cert,
    });
  }
  const algorithm: VerifiedAlgorithm = `${keyName(keyAlg.algorithm)}-${digest}`;
  const contentDigest = new Uint8Array(hash(digest, content, 'buffer'));
  const covered = signedBytes(si, content, contentDigest);
  if (!covered.ok) return out(covered.status, covered.message, { certificate: cert, algorithm });
  // Without signed attributes the signature covers the content, whose SHA-256 is at hand.
  if (
    !verifyRaw(
      cert.publicKey,
      digest,
      covered.bytes,
      si.signature,
      covered.bytes === content && digest === 'sha256' ? contentDigest : undefined,
      caches,
    )
  ) {
    return out('BADSIG', `signature does not verify with the key of ${cert.subject}`, { certificate: cert, algorithm });
  }
  return out('VERIFIED', `verified with the key of ${cert.subject}`, { certificate: cert, algorithm });
}

/**
 * Verifies a detached CMS signature over `content` against candidate certificates (matched by
 * the SignerInfo's subjectKeyIdentifier or issuer+serial, as the kernel matches keyring keys).
 * Succeeds when at least one signer verifies and none has a bad signature. `caches`: the caller's
 * memos (parsed certificates, decoded signatures, verified signatures); absent, nothing is kept.
 */
export function verifyDetached(
  der: Uint8Array,
  content: Uint8Array,
  candidates: readonly CertificateInput[],
  caches?: VerificationCaches,
): CmsVerification {
  let structure: DecodedSignedData;
  let certs: Certificate[];
  try {
    certs = candidates.map((c) => parseCertificate(c, caches?.certificates));
    structure = decodeSignedData(der, caches?.signedData);
  } catch (e) {
    if (e instanceof VerificationError) return { ok: false, error: e, signers: [] };
    throw e;
  }
  const reject = (error: VerificationError, signers: SignerOutcome[] = []): CmsRejected => ({ ok: false, error, signers, structure });
  if (structure.version !== 1 && structure.version !== 3) {
    return reject(
      new VerificationError('MALFORMED', `cms: SignedData version ${structure.version} (want 1 or 3)`, {
        field: 'version',
        got: structure.version,
      }),
    );
  }
  if (structure.eContentPresent) {
    return reject(
      new VerificationError('MALFORMED', 'cms: content is embedded; the kernel wants a detached signature', { field: 'eContent' }),
    );
  }
  if (structure.eContentType !== OID.data) {
    return reject(
      new VerificationError('MALFORMED', `cms: eContentType ${structure.eContentType} is not id-data`, {
        field: 'eContentType',
        got: structure.eContentType,
        want: OID.data,
      }),
    );
  }
  if (structure.signerInfos.length === 0) return reject(new VerificationError('MALFORMED', 'cms: no SignerInfo', { field: 'signerInfos' }));
  // digestAlgorithms is not covered by any signature: it must list exactly the signers' digest
  // algorithms, once each, or one signature would have many spellings that all verify.
  const listed = structure.digestAlgorithms.map((a) => `${a.oid}/${a.parameters}`);
  const used = new Set(structure.signerInfos.map((si) => si.digestAlgorithm.oid));
  const listedOids = structure.digestAlgorithms.map((a) => a.oid);
  if (
    new Set(listed).size !== listed.length ||
    listedOids.length !== used.size ||
    !listedOids.every((o) => used.has(o)) ||
    structure.digestAlgorithms.some((a) => a.parameters !== 'absent' && a.parameters !== 'null')
  ) {
    return reject(
      new VerificationError('MALFORMED', "cms: SignedData.digestAlgorithms is not exactly the signers' digest algorithms", {
        field: 'digestAlgorithms',
        got: listedOids,
        want: [...used],
      }),
    );
  }

  const signers = structure.signerInfos.map((si, i) => verifySigner(si, i, content, certs, caches));
  const first = (s: SignerStatus) => signers.find((o) => o.status === s);
  const bad = first('BADSIG') ?? first('MALFORMED');
  if (bad) {
    const code = bad.status === 'BADSIG' ? 'BADSIG' : 'MALFORMED';
    return reject(new VerificationError(code, `cms: signerInfos[${bad.index}]: ${bad.message}`, sidDetails(bad)), signers);
  }
  const good = first('VERIFIED');
  if (good && good.certificate && good.algorithm) {
    const si = structure.signerInfos[good.index];
    const digest = DIGEST_BY_OID[si.digestAlgorithm.oid];
    return {
      ok: true,
      signer: { subjectKeyIdentifier: good.certificate.subjectKeyIdentifier, certificate: good.certificate },
      algorithm: good.algorithm,
      digestAlgorithm: digest,
      contentDigest: hash(digest, content, 'hex'),
      signedAttributes: good.signedAttributes,
      signers,
      structure,
    };
  }
  const unsupported = first('UNSUPPORTED');
  if (unsupported)
    return reject(
      new VerificationError('UNSUPPORTED', `cms: signerInfos[${unsupported.index}]: ${unsupported.message}`, sidDetails(unsupported)),
      signers,
    );
  const unknown = signers[0];
  return reject(
    new VerificationError('UNKNOWNKEY', `cms: signerInfos[${unknown.index}]: ${unknown.message}`, sidDetails(unknown)),
    signers,
  );
}

function sidDetails(o: SignerOutcome): { subjectKeyIdentifier?: string; subject?: string } {
  return {
    subjectKeyIdentifier: o.sid.$case === 'subjectKeyIdentifier' ? o.sid.keyId : undefined,
    subject: o.certificate?.subject,
  };
}
