/** Static checks of final program instructions against a kernel profile. */
export { checkProgram, errorsOf, MAX_BPF_STACK, type Finding, type FindingCode, type CheckOptions } from './check.js';
