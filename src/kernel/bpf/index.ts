/** The bpf() model: fd table, kernel objects, commands, the loader's helpers. */
export { BpfModel, type BpfModelOptions, type TraceEntry } from './model.js';
export { objName, type ModelContext, type SignatureVerifier } from './context.js';
export { loadProgram } from './prog-load.js';
export { resolveKeyringId, KEY_SPEC, SYSTEM_KEYRING, type KeyringRef } from './keyring.js';
export { loaderHelpers, formatPrintk, type LoaderHelpersOutput } from './helpers.js';
export { checkBtf } from './btf-check.js';
export { checkMapCreate, elemSize, mapHash, updateElem, lookupElem, MAP_F, type MapCreateRequest } from './maps.js';
export { calcTag, maskMapFds, type ProgDigest } from './tag.js';
export { CMD, CMD_NAME, readAttr, decodeAttr, UserMemory, type Decoded } from './attr.js';
export { E, SysError, errnoName } from './errno.js';
export {
  FdTable,
  type KernelBtf,
  type KernelMap,
  type KernelProg,
  type KernelObject,
  type ResolvedLoad,
  type KfuncRef,
  type InnerMapMeta,
  type XlatedPrediction,
} from './objects.js';
export {
  profileView,
  GPL_ONLY_HELPERS,
  type KernelProfile,
  type ProfileInput,
  type ProfileView,
  type ProfileViewInput,
  type SignatureSupport,
  type ModuleBtf,
  type RefusedAttach,
} from './profile-view.js';
