export { parseObject, objectNameFromPath } from './parse.js';
export { detectFeatures, FEATURES, CORE_RELO_KINDS, isGplCompatible } from './features.js';
export { internalMapName, mapTypeName } from './maps.js';
export { summarizeObject } from './summary.js';
//# sourceMappingURL=index.js.map