/**
 * The CMS builder signDetached used before the DER writer, kept as the reference the new bytes
 * must equal: the same SignedData assembled with @peculiar/asn1-cms and serialized by
 * @peculiar/asn1-schema. Not used by src/.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { OID, cmsSignatureAlgorithm, type SignerAlgorithm } from '../../../src/signing/algorithms.js';
import { SigningError } from '../../../src/signing/errors.js';
import type { Signer } from '../../../src/signing/keys/signer.js';

/** The @peculiar-built DER ContentInfo for a given signature. */
export function referenceEncodeSignedData(alg: SignerAlgorithm, subjectKeyIdentifier: Uint8Array, signature: Uint8Array): Uint8Array {
  const sigAlg = cmsSignatureAlgorithm(alg);
  const signerInfo = new SignerInfo({
    version: CMSVersion.v3,
    sid: new SignerIdentifier({ subjectKeyIdentifier: new SubjectKeyIdentifier(Uint8Array.from(subjectKeyIdentifier)) }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: OID.sha256 }),
    signatureAlgorithm: new SignatureAlgorithmIdentifier(
      sigAlg.nullParameters ? { algorithm: sigAlg.algorithm, parameters: null } : { algorithm: sigAlg.algorithm },
    ),
    signature: new OctetString(Uint8Array.from(signature)),
  });
  const signedData = new SignedData({
    version: CMSVersion.v3,
    digestAlgorithms: new DigestAlgorithmIdentifiers([new DigestAlgorithmIdentifier({ algorithm: OID.sha256 })]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const contentInfo = new ContentInfo({ contentType: OID.signedData, content: AsnConvert.serialize(signedData) });
  return new Uint8Array(AsnConvert.serialize(contentInfo));
}

/** signDetached as it was: same checks, same errors, @peculiar serialization. */
export async function referenceSignDetached(content: Uint8Array, signer: Signer): Promise<Uint8Array> {
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
  return referenceEncodeSignedData(signer.algorithm, signer.subjectKeyIdentifier, signature);
}
