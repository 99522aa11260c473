/** CO-RE relocation against a target kernel's BTF (libbpf relo_core semantics). */
export {
  applyCoreRelocations,
  type ApplyCoreOptions,
  type CoreCandidateCache,
  type CoreRelocation,
  type CoreReport,
  type CoreSpecView,
  type CoreTarget,
} from './relocate.js';
export { calcRelo, type CoreResult, type CoreValue } from './calc.js';
export { patchInsn, CORE_POISON_IMM } from './patch.js';
export { matchSpec, fieldsAreCompat, typesAreCompat, typesMatch, kindsCoreCompat } from './match.js';
export { essentialName, essentialNameLength, namesMatch } from './names.js';
export {
  CORE_KIND,
  CORE_SPEC_MAX_LEN,
  parseCoreSpec,
  parseAccessString,
  skipModsAndTypedefs,
  resolveSize,
  type CoreAccessor,
  type CoreSpec,
} from './spec.js';
