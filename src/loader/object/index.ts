export { parseObject, parseObjectParts, objectNameFromPath } from './parse.js';
export type { ParseObjectOptions } from './parse.js';
export { detectFeatures, FEATURES, CORE_RELO_KINDS, isGplCompatible } from './features.js';
export { internalMapName, mapTypeName } from './maps.js';
export type {
  ObjectSpec,
  ProgramSpec,
  FunctionSpec,
  MapSpec,
  MapOrigin,
  RelocSpec,
  GlobalVarSpec,
  ExternSpec,
  KconfigKind,
  BtfSummary,
} from './spec.js';
export { summarizeObject } from './summary.js';
export type { ObjectSummary, MapSummary } from './summary.js';
