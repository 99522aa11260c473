/** Replay: a loader run in the kernel model, its trace and effects (compared with a plan in src/service/replay-compare.ts). */
export { replay, type ReplayOptions, type ReplayScheme, type ReplayCtxLayout, type LoaderBytes } from './replay.js';
export { formatReport } from './format.js';
export type { ReplayReport, ReplayStage, ReportMap, ReportProg, CtxRead } from './report.js';
export { xlatedInputFromReport, xlatedMapFromReport } from './xlated-input.js';
