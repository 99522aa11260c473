/**
 * libbpf 1.1 compatibility (what Debian's bpftool 7.1 and its skel_internal.h expect): libbpf
 * 1.1 sets BPF_F_MMAPABLE on every .data/.rodata/.bss map, v1.7.0 only when the section has a
 * non-static variable (loader-format.md §8). A light skeleton for skel_internal.h 1.1 mmaps
 * every internal map, so its loader must create them mmapable too.
 */
import { BPF_F_MMAPABLE } from '../uapi/index.js';
export function withLibbpf11Mmapable(plan) {
    const changed = [];
    const internal = new Set(plan.maps.filter((m) => m.internal && !m.name.endsWith('.kconfig') && !m.mmapable).map((m) => m.index));
    const ops = plan.ops.map((op) => {
        if (op.op !== 'map_create' || !internal.has(op.mapIndex) || op.attr.flags & BPF_F_MMAPABLE)
            return op;
        changed.push(op.attr.name);
        return { ...op, attr: { ...op.attr, flags: op.attr.flags | BPF_F_MMAPABLE } };
    });
    const maps = plan.maps.map((m) => (internal.has(m.index) ? { ...m, mmapable: true, flags: m.flags | BPF_F_MMAPABLE } : m));
    return { plan: { ...plan, ops, maps }, changed };
}
//# sourceMappingURL=compat.js.map