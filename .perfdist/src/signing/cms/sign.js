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
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CMSVersion, ContentInfo, DigestAlgorithmIdentifier, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignatureAlgorithmIdentifier, SignedData, SignerIdentifier, SignerInfo, SignerInfos, } from '@peculiar/asn1-cms';
import { SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { OID, cmsSignatureAlgorithm } from '../algorithms.js';
import { SigningError } from '../errors.js';
/** Signs `content` (detached) and returns the DER ContentInfo. */
export async function signDetached(content, signer) {
    if (signer.subjectKeyIdentifier.length === 0) {
        throw new SigningError('CERT_INVALID', 'cms: signer has an empty subjectKeyIdentifier', { field: 'subjectKeyIdentifier' });
    }
    let signature;
    try {
        signature = await signer.sign(content);
    }
    catch (e) {
        if (e instanceof SigningError)
            throw e;
        throw new SigningError('SIGN_FAILED', `cms: signer failed: ${e.message}`, {}, { cause: e });
    }
    if (!(signature instanceof Uint8Array) || signature.length === 0) {
        throw new SigningError('SIGN_FAILED', 'cms: signer returned no signature');
    }
    const sigAlg = cmsSignatureAlgorithm(signer.algorithm);
    const signerInfo = new SignerInfo({
        version: CMSVersion.v3,
        sid: new SignerIdentifier({ subjectKeyIdentifier: new SubjectKeyIdentifier(Uint8Array.from(signer.subjectKeyIdentifier)) }),
        digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: OID.sha256 }),
        signatureAlgorithm: new SignatureAlgorithmIdentifier(sigAlg.nullParameters ? { algorithm: sigAlg.algorithm, parameters: null } : { algorithm: sigAlg.algorithm }),
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
//# sourceMappingURL=sign.js.map