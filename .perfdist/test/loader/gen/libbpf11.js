import { withLibbpf11Mmapable } from '../../../src/loader/plan/index.js';
export function toLibbpf11(input) {
    const { plan, changed } = withLibbpf11Mmapable(input);
    const notes = changed.map((n) => `map ${n}: BPF_F_MMAPABLE added (libbpf 1.1 maps every internal map mmapable)`);
    let stackSize = plan.stackSize;
    if (stackSize !== 136) {
        notes.push(`stack area ${stackSize} → 136 bytes (libbpf does not size it for ${plan.nrPrograms} programs)`);
        stackSize = 136;
    }
    return { plan: { ...plan, stackSize }, notes };
}
//# sourceMappingURL=libbpf11.js.map