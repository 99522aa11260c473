/** The bpf() model: fd table, kernel objects, commands, the loader's helpers. */
export { BpfModel, objName } from './model.js';
export { loadProgram } from './prog-load.js';
export { loaderHelpers, formatPrintk } from './helpers.js';
export { checkBtf } from './btf-check.js';
export { checkMapCreate, elemSize, mapHash, updateElem, lookupElem, MAP_F } from './maps.js';
export { calcTag, maskMapFds } from './tag.js';
export { CMD, CMD_NAME, readAttr, decodeAttr, UserMemory } from './attr.js';
export { E, SysError, errnoName } from './errno.js';
export { FdTable } from './objects.js';
export { profileView, GPL_ONLY_HELPERS } from './profile-view.js';
//# sourceMappingURL=index.js.map