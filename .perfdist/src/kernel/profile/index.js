/** Kernel profiles: a target kernel as plain data. */
export { profileFromParts, profileFromFiles, profileToFiles, helperAllowed, hasBpfMapExcl, PROFILE_FORMAT, } from './profile.js';
export { parseKernelRelease, kernelVersionCode } from './version.js';
export { parseKallsyms, formatKallsyms } from './kallsyms.js';
export { minimizeBtf } from './minimize.js';
//# sourceMappingURL=index.js.map