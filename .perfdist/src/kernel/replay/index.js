/** Replay: a loader run in the kernel model, its trace and effects, and their comparison with a plan. */
export { replay } from './replay.js';
export { compareWithPlan } from './compare.js';
export { formatReport } from './format.js';
//# sourceMappingURL=index.js.map