/** Loader generation: libbpf gen_loader-compatible loader programs and data blobs. */
export {
  generateLoader,
  type GenerateOptions,
  type GeneratedLoader,
  type LoaderScheme,
  type KernelProfile,
  type CtxLayout,
  type LoaderCompat,
} from './generate.js';
export { Emitter, type Slot } from './emitter.js';
export { Recorder, type RecorderOptions } from './recorders.js';
export {
  emitLightSkeleton,
  printHex,
  mapIdent as skeletonMapIdent,
  sanitizeIdent,
  type LightSkeletonInput,
  type LightSkeletonOptions,
  type LskelMap,
  type LskelProg,
  type LskelFlavour,
  type LskelSignature,
} from './lskel.js';
export { lskelMapsFromObject, lskelProgsFromObject } from './lskel-object.js';
export { parseLightSkeleton, parseCString, type ParsedLightSkeleton } from './lskel-parse.js';
export { loaderWeaknesses, type LoaderWeakness, type LoaderWeaknessCode, type LoaderWeaknessOptions } from './weaknesses.js';
export {
  emitSkeleton,
  isSkeletonLang,
  skeletonFileName,
  SKELETON_LANGS,
  type SkeletonLang,
  type SkeletonFile,
  type SkeletonEmitter,
} from './lang.js';
export type { SkelType, SkelField } from './skel-type.js';
