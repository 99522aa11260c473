/** Static checks of final program instructions against a kernel profile. */
export { checkProgram, errorsOf, MAX_BPF_STACK } from './check.js';
//# sourceMappingURL=index.js.map