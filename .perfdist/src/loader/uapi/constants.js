/**
 * Constants of the bpf(2) interface that the generated loader uses: commands, flags,
 * pseudo source registers, helper ids, errno values, BTF kinds (include/uapi/linux/bpf.h).
 */
/** enum bpf_cmd values the loader and its runner issue. */
export const BPF_CMD = {
    MAP_CREATE: 0,
    MAP_LOOKUP_ELEM: 1,
    MAP_UPDATE_ELEM: 2,
    PROG_LOAD: 5,
    PROG_RUN: 10,
    OBJ_GET_INFO_BY_FD: 15,
    BTF_LOAD: 18,
    MAP_FREEZE: 22,
};
/** Map flags. */
export const BPF_F_NO_PREALLOC = 0x1;
export const BPF_F_RDONLY_PROG = 0x80;
export const BPF_F_MMAPABLE = 0x400;
export const BPF_F_TOKEN_FD = 0x10000;
/** Program flags. */
export const BPF_F_SLEEPABLE = 0x10;
export const BPF_F_XDP_HAS_FRAGS = 0x20;
/** MAP_UPDATE_ELEM flags. */
export const BPF_ANY = 0;
/** ld_imm64 src_reg values. */
export const PSEUDO = {
    MAP_FD: 1,
    MAP_VALUE: 2,
    BTF_ID: 3,
    FUNC: 4,
    MAP_IDX: 5,
    MAP_IDX_VALUE: 6,
};
/** call src_reg values. */
export const PSEUDO_CALL = 1;
export const PSEUDO_KFUNC_CALL = 2;
/** Helper ids the loader calls. */
export const HELPER = {
    trace_printk: 6,
    probe_read_kernel: 113,
    copy_from_user: 148,
    sys_bpf: 166,
    btf_find_by_name_kind: 167,
    sys_close: 168,
    kallsyms_lookup_name: 179,
};
/** errno values (positive; the loader returns them negated). */
export const ERRNO = {
    ENOENT: 2,
    E2BIG: 7,
    EFAULT: 14,
    EINVAL: 22,
    ERANGE: 34,
    EDOM: 33,
    ENOSPC: 28,
    EACCES: 13,
    EPERM: 1,
    ENOTSUP: 95,
};
/** BTF kinds passed to btf_find_by_name_kind. */
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_FUNC = 12;
export const BTF_KIND_VAR = 14;
/** `struct bpf_loader_ctx.flags`: the loader runs from the kernel (bpf_preload). */
export const BPF_SKEL_KERNEL = 1;
/** Sizes of the records the loader passes to PROG_LOAD. */
export const BPF_INSN_SIZE = 8;
export const BPF_FUNC_INFO_SIZE = 8;
export const BPF_LINE_INFO_SIZE = 16;
export const BPF_CORE_RELO_SIZE = 16;
export const BPF_OBJ_NAME_LEN = 16;
export const SHA256_SIZE = 32;
//# sourceMappingURL=constants.js.map