/** Static checks of final program instructions against a kernel profile, and the verifier's path walk the model follows. */
export { checkProgram, errorsOf, MAX_BPF_STACK, type Finding, type FindingCode, type CheckOptions } from './check.js';
export { walkPaths, type PathRefusal, type PathRefusalCode, type PathWalkOptions, type PathWalkResult } from './paths.js';
