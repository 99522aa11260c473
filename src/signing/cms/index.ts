export { signDetached } from './sign.js';
export { verifyDetached } from './verify.js';
export type { CmsVerification, CmsVerified, CmsRejected, SignerOutcome, SignerStatus, VerifiedAlgorithm } from './verify.js';
export { decodeSignedData, MAX_CMS_SIZE } from './decode.js';
export type { DecodedSignedData, DecodedSignerInfo, SignerId, SignedAttribute, AlgorithmInfo } from './decode.js';
