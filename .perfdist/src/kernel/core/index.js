/** CO-RE relocation against a target kernel's BTF (libbpf relo_core semantics). */
export { applyCoreRelocations } from './relocate.js';
export { calcRelo } from './calc.js';
export { patchInsn, CORE_POISON_IMM } from './patch.js';
export { matchSpec, fieldsAreCompat, typesAreCompat, typesMatch, kindsCoreCompat } from './match.js';
export { essentialName, essentialNameLength, namesMatch } from './names.js';
export { CORE_KIND, CORE_SPEC_MAX_LEN, parseCoreSpec, parseAccessString, skipModsAndTypedefs, resolveSize } from './spec.js';
//# sourceMappingURL=index.js.map