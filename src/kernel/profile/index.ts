/** Kernel profiles: a target kernel as plain data. */
export {
  profileFromParts,
  profileFromFiles,
  profileToFiles,
  profileView,
  helperAllowed,
  hasBpfMapExcl,
  refusedAttach,
  ksymAddress,
  errnoOf,
  PROFILE_FORMAT,
  GPL_ONLY_HELPERS,
  type KernelProfile,
  type ProfileParts,
  type ProfileInput,
  type ProfileJson,
  type RefusedAttach,
  type SignatureSupport,
  type ModuleBtf,
  type BpfMapLayout,
} from './profile.js';
export { parseKernelRelease, kernelVersionCode, type KernelVersion } from './version.js';
export { parseKallsyms, formatKallsyms, KallsymsTable, type KallsymsEntry } from './kallsyms.js';
export { minimizeBtf, type MinimizeResult } from './minimize.js';
