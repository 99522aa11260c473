/** Plans: the kernel operations libbpf's gen_loader records for an object, as data. */
export { planObject, mapIdent, DEFAULT_KERNEL_VERSION } from './plan-object.js';
export { editBtf, hiddenSubprograms } from './btf-edits.js';
export { kconfigImage } from './kconfig.js';
export { planProgram } from './program.js';
export { withLibbpf11Mmapable } from './compat.js';
export { planFromJson } from './json.js';
//# sourceMappingURL=index.js.map