/** Replay: a loader run in the kernel model, its trace and effects, and their comparison with a plan. */
export { replay, type ReplayOptions, type ReplayScheme, type ReplayCtxLayout, type LoaderBytes } from './replay.js';
export { compareWithPlan, type Comparison, type Difference } from './compare.js';
export { formatReport } from './format.js';
export type { ReplayReport, ReplayStage, ReportMap, ReportProg, CtxRead } from './report.js';
export { xlatedInputFromReport, xlatedMapFromReport } from './xlated-input.js';
