/** Plans: the kernel operations libbpf's gen_loader records for an object, as data. */
export { planObject, mapIdent, skeletonIdent, DEFAULT_KERNEL_VERSION } from './plan-object.js';
export { editBtf, hiddenSubprograms, type BtfEditInput } from './btf-edits.js';
export { kconfigImage, type KconfigInputs } from './kconfig.js';
export { planProgram, type ProgramContext } from './program.js';
export type { Plan, PlanOp, PlanMap, PlanOptions, HostOptions, HostInputs, MapCreateAttr, ProgLoadAttr, ExternRecord } from './plan.js';
export { withLibbpf11Mmapable } from './compat.js';
export { planFromJson } from './json.js';
export { hostOptionsOf, hostTextOf, kconfigLines, kernelVersionOf, nameValue, HostTextError, type HostText } from './host-text.js';
