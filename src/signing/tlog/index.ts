export { HASH_SIZE, sha256, emptyRoot, hashLeaf, hashChildren, equalBytes } from './hasher.js';
export { splitPoint, subtreeHash, rootHash, inclusionProof, consistencyProof, type LeafSource, type HashSource } from './proof.js';
export { MerkleTree } from './tree.js';
export { rootFromInclusionProof, verifyInclusion, verifyConsistency } from './verify.js';
export {
  formatCheckpoint,
  parseCheckpoint,
  ed25519KeyHash,
  ed25519Signer,
  ed25519VerifierKey,
  parseVerifierKey,
  signNote,
  openNote,
  type Checkpoint,
  type NoteSigner,
  type NoteVerifier,
} from './checkpoint.js';
export { TlogError, type TlogErrorCode } from './errors.js';
export { TLOG_PROOF_HEADER, formatTlogProof, parseTlogProof, verifyTlogProof, type TlogProof } from './proof-file.js';
export {
  LOADER_ENTRY_KIND,
  MAX_ENTRY_BYTES,
  loaderEntryFromBundle,
  loaderEntryBytes,
  loaderEntryLeaf,
  parseLoaderEntry,
  type LoaderEntry,
  type EntrySource,
} from './entry.js';
