/** Helpers whose bpf_func_proto says gpl_only = true (kernel/trace/bpf_trace.c, kernel/bpf/helpers.c). */
export const GPL_ONLY_HELPERS = new Set([
    4, // probe_read
    6, // trace_printk
    22, // perf_event_read
    25, // perf_event_output
    27, // get_stackid
    36, // probe_write_user
    45, // probe_read_str
    55, // perf_event_read_value
    56, // perf_prog_read_value
    58, // override_return
    67, // get_stack
    109, // send_signal
    111, // skb_output
    112, // probe_read_user
    113, // probe_read_kernel
    114, // probe_read_user_str
    115, // probe_read_kernel_str
    117, // send_signal_thread
    119, // xdp_output
    177, // trace_vprintk
]);
function memberByteOffset(btf, structId, member) {
    const m = btf.members(structId).find((x) => x.name === member);
    return m ? Math.floor(m.bitOffset / 8) : null;
}
/** A complete view from a partial one: the version (default 6.18) and the BTF decide the rest. */
export function profileView(input) {
    const version = input.version ?? 0x061200;
    const btf = input.btf ?? null;
    const v618 = version >= 0x061200;
    let bpfMap = input.bpfMap;
    let attrSize = input.attrSize;
    if (btf) {
        const id = btf.findByName('bpf_map', 'STRUCT');
        if (!bpfMap && id !== undefined) {
            bpfMap = { size: btf.sizeOf(id), sha: memberByteOffset(btf, id, 'sha'), excl: memberByteOffset(btf, id, 'excl') };
        }
        const attr = btf.findByName('bpf_attr', 'UNION');
        if (attrSize === undefined && attr !== undefined)
            attrSize = btf.sizeOf(attr);
    }
    return {
        name: input.name,
        version,
        btf,
        modules: input.modules ?? [],
        kallsyms: input.kallsyms ?? {},
        signature: input.signature ?? (v618 ? 'insns' : 'none'),
        tagHash: input.tagHash ?? (v618 ? 'sha256' : 'sha1'),
        mapHash: input.mapHash ?? v618,
        mapHashNeedsFrozen: input.mapHashNeedsFrozen ?? v618,
        exclusiveMaps: input.exclusiveMaps ?? v618,
        attrSize: attrSize ?? (v618 ? 168 : 144),
        bpfMap: bpfMap ?? (v618 ? { size: 296, sha: 0, excl: null } : { size: 256, sha: null, excl: null }),
        gplOnlyHelpers: input.gplOnlyHelpers ?? GPL_ONLY_HELPERS,
        maxMapType: input.maxMapType ?? 34,
        maxProgType: input.maxProgType ?? 33,
    };
}
//# sourceMappingURL=profile-view.js.map