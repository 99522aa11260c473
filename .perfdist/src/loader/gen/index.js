/** Loader generation: libbpf gen_loader-compatible loader programs and data blobs. */
export { generateLoader } from './generate.js';
export { Emitter, OP } from './emitter.js';
export { Recorder } from './recorders.js';
export { emitLightSkeleton, printHex, mapIdent as skeletonMapIdent, sanitizeIdent, } from './lskel.js';
export { lskelMapsFromObject, lskelProgsFromObject } from './lskel-object.js';
//# sourceMappingURL=index.js.map