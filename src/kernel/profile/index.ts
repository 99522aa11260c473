/** Kernel profiles: a target kernel as plain data. */
export {
  profileFromParts, profileFromFiles, profileToFiles, helperAllowed, hasBpfMapExcl, PROFILE_FORMAT,
  type KernelProfile, type ProfileParts, type ProfileJson, type RefusedAttach,
} from './profile.js';
export { parseKernelRelease, kernelVersionCode, type KernelVersion } from './version.js';
export { parseKallsyms, formatKallsyms, type KallsymsEntry } from './kallsyms.js';
export { minimizeBtf, type MinimizeResult } from './minimize.js';
