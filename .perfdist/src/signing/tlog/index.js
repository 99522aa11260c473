export { HASH_SIZE, sha256, emptyRoot, hashLeaf, hashChildren, equalBytes } from './hasher.js';
export { splitPoint, subtreeHash, rootHash, inclusionProof, consistencyProof } from './proof.js';
export { rootFromInclusionProof, verifyInclusion, verifyConsistency } from './verify.js';
export { formatCheckpoint, parseCheckpoint, ed25519KeyHash, ed25519Signer, ed25519VerifierKey, parseVerifierKey, signNote, openNote, } from './checkpoint.js';
export { TlogError } from './errors.js';
//# sourceMappingURL=index.js.map