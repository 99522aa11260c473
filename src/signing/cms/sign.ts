/**
 * Builds the CMS SignedData the kernel verifies, exactly as bpftool's
 * `CMS_sign(... CMS_NOCERTS|CMS_BINARY|CMS_DETACHED)` + `CMS_add1_signer(... CMS_USE_KEYID|CMS_NOATTR)`
 * writes it (kernel-signing.md §2.2):
 *
 *   ContentInfo { signedData, [0] SignedData {
 *     version 3, digestAlgorithms { sha256 (no parameters) },
 *     encapContentInfo { id-data } (no eContent: detached),
 *     (no certificates, no crls)
 *     signerInfos { SignerInfo { version 3, sid [0] subjectKeyIdentifier, sha256,
 *       (no signedAttrs), rsaEncryption+NULL | ecdsa-with-SHA256, signature over SHA-256(content) } } } }
 *
 * The structure is fixed, so it is written directly with the DER writer: everything but the
 * subjectKeyIdentifier and the signature is encoded once per algorithm and reused.
 */
import { OID, cmsSignatureAlgorithm, signerDigest, type SignerAlgorithm } from '../algorithms.js';
import { SigningError } from '../errors.js';
import type { Signer } from '../keys/signer.js';
import {
  NULL,
  contextConstructed,
  encode,
  implicitPrimitive,
  objectIdentifier,
  octetString,
  raw,
  sequence,
  setOf,
  smallInteger,
  type DerNode,
} from './der-writer.js';

/** CMSVersion v3: SignedData and SignerInfo with a subjectKeyIdentifier signer (RFC 5652 §5.1, §5.3). */
const VERSION_3 = raw(encode(smallInteger(3)));
const CONTENT_TYPE_SIGNED_DATA = raw(encode(objectIdentifier(OID.signedData)));
/** encapContentInfo { id-data }, no eContent (detached) */
const ENCAP_ID_DATA = raw(encode(sequence(objectIdentifier(OID.data))));

interface AlgorithmParts {
  /** SignedData.digestAlgorithms: SET { AlgorithmIdentifier { digest } } */
  digestAlgorithms: DerNode;
  /** SignerInfo.digestAlgorithm: AlgorithmIdentifier { digest } (no parameters) */
  digestAlgorithm: DerNode;
  /** SignerInfo.signatureAlgorithm: rsaEncryption + NULL, or ecdsa-with-SHA* without parameters */
  signatureAlgorithm: DerNode;
}

function makeAlgorithmParts(alg: SignerAlgorithm): AlgorithmParts {
  const digest = sequence(objectIdentifier(OID[signerDigest(alg)]));
  const sig = cmsSignatureAlgorithm(alg);
  return {
    digestAlgorithms: raw(encode(setOf(digest))),
    digestAlgorithm: raw(encode(digest)),
    signatureAlgorithm: raw(
      encode(sig.nullParameters ? sequence(objectIdentifier(sig.algorithm), NULL) : sequence(objectIdentifier(sig.algorithm))),
    ),
  };
}

/** The parts of every algorithm, encoded once when the module loads (a constant table). */
const PARTS: Readonly<Record<SignerAlgorithm, AlgorithmParts>> = Object.freeze({
  'rsa-pkcs1v15-sha256': makeAlgorithmParts('rsa-pkcs1v15-sha256'),
  'ecdsa-p256-sha256': makeAlgorithmParts('ecdsa-p256-sha256'),
  'ecdsa-p384-sha256': makeAlgorithmParts('ecdsa-p384-sha256'),
});

function algorithmParts(alg: SignerAlgorithm): AlgorithmParts {
  return PARTS[alg] ?? makeAlgorithmParts(alg);
}

/** The DER ContentInfo for one signature made by a key with `subjectKeyIdentifier`. */
export function encodeSignedData(alg: SignerAlgorithm, subjectKeyIdentifier: Uint8Array, signature: Uint8Array): Uint8Array {
  const parts = algorithmParts(alg);
  const signerInfo = sequence(
    VERSION_3,
    implicitPrimitive(0, subjectKeyIdentifier), // sid [0] SubjectKeyIdentifier
    parts.digestAlgorithm,
    parts.signatureAlgorithm,
    octetString(signature),
  );
  const signedData = sequence(VERSION_3, parts.digestAlgorithms, ENCAP_ID_DATA, setOf(signerInfo));
  return encode(sequence(CONTENT_TYPE_SIGNED_DATA, contextConstructed(0, signedData)));
}

/** Signs `content` (detached) and returns the DER ContentInfo. */
export async function signDetached(content: Uint8Array, signer: Signer): Promise<Uint8Array> {
  if (signer.subjectKeyIdentifier.length === 0) {
    throw new SigningError('CERT_INVALID', 'cms: signer has an empty subjectKeyIdentifier', { field: 'subjectKeyIdentifier' });
  }
  let signature: Uint8Array;
  try {
    signature = await signer.sign(content);
  } catch (e) {
    if (e instanceof SigningError) throw e;
    throw new SigningError('SIGN_FAILED', `cms: signer failed: ${(e as Error).message}`, {}, { cause: e });
  }
  if (!(signature instanceof Uint8Array) || signature.length === 0) {
    throw new SigningError('SIGN_FAILED', 'cms: signer returned no signature');
  }
  return encodeSignedData(signer.algorithm, Uint8Array.from(signer.subjectKeyIdentifier), signature);
}
