/**
 * `union bpf_attr` variants used by the generated loader and by the code that runs it.
 * Sizes are the attr_size libbpf passes (offsetofend of the last field it sets).
 */
import type { StructLayout } from './layout.js';

const u32 = (offset: number) => ({ offset, type: 'u32' as const });
const s32 = (offset: number) => ({ offset, type: 's32' as const });
const u64 = (offset: number) => ({ offset, type: 'u64' as const });
const name16 = (offset: number) => ({ offset, type: 'name' as const, size: 16 });

export const BTF_LOAD_ATTR = {
  name: 'bpf_attr(BTF_LOAD)',
  size: 28,
  fields: { btf: u64(0), btf_log_buf: u64(8), btf_size: u32(16), btf_log_size: u32(20), btf_log_level: u32(24) },
} as const satisfies StructLayout<string>;

/** BTF_LOAD with the fields after btf_log_level (offsetofend(btf_token_fd) = 40), as the kernel reads it. */
export const BTF_LOAD_FULL_ATTR = {
  name: 'bpf_attr(BTF_LOAD, full)',
  size: 40,
  fields: { ...BTF_LOAD_ATTR.fields, btf_log_true_size: u32(28), btf_flags: u32(32), btf_token_fd: s32(36) },
} as const satisfies StructLayout<string>;

/** MAP_CREATE as gen_loader writes it (offsetofend(map_extra) = 72). */
export const MAP_CREATE_ATTR = {
  name: 'bpf_attr(MAP_CREATE)',
  size: 72,
  fields: {
    map_type: u32(0), key_size: u32(4), value_size: u32(8), max_entries: u32(12), map_flags: u32(16),
    inner_map_fd: u32(20), numa_node: u32(24), map_name: name16(28), map_ifindex: u32(44), btf_fd: u32(48),
    btf_key_type_id: u32(52), btf_value_type_id: u32(56), btf_vmlinux_value_type_id: u32(60), map_extra: u64(64),
  },
} as const satisfies StructLayout<string>;

/** MAP_CREATE with the exclusive-map fields of Linux 6.18 (offsetofend(excl_prog_hash_size) = 92). */
export const MAP_CREATE_EXCL_ATTR = {
  name: 'bpf_attr(MAP_CREATE, excl)',
  size: 92,
  fields: {
    ...MAP_CREATE_ATTR.fields,
    value_type_btf_obj_fd: s32(72), map_token_fd: s32(76), excl_prog_hash: u64(80), excl_prog_hash_size: u32(88),
  },
} as const satisfies StructLayout<string>;

export const MAP_UPDATE_ELEM_ATTR = {
  name: 'bpf_attr(MAP_UPDATE_ELEM)',
  size: 32,
  fields: { map_fd: u32(0), key: u64(8), value: u64(16), flags: u64(24) },
} as const satisfies StructLayout<string>;

export const MAP_FREEZE_ATTR = {
  name: 'bpf_attr(MAP_FREEZE)',
  size: 4,
  fields: { map_fd: u32(0) },
} as const satisfies StructLayout<string>;

const PROG_LOAD_FIELDS = {
  prog_type: u32(0), insn_cnt: u32(4), insns: u64(8), license: u64(16), log_level: u32(24), log_size: u32(28),
  log_buf: u64(32), kern_version: u32(40), prog_flags: u32(44), prog_name: name16(48), prog_ifindex: u32(64),
  expected_attach_type: u32(68), prog_btf_fd: u32(72), func_info_rec_size: u32(76), func_info: u64(80),
  func_info_cnt: u32(88), line_info_rec_size: u32(92), line_info: u64(96), line_info_cnt: u32(104),
  attach_btf_id: u32(108), attach_btf_obj_fd: u32(112), core_relo_cnt: u32(116), fd_array: u64(120),
  core_relos: u64(128), core_relo_rec_size: u32(136),
} as const;

/** PROG_LOAD as gen_loader writes it (offsetofend(core_relo_rec_size) = 140). */
export const PROG_LOAD_ATTR = { name: 'bpf_attr(PROG_LOAD)', size: 140, fields: PROG_LOAD_FIELDS } as const satisfies StructLayout<string>;

/** PROG_LOAD with the signature fields (offsetofend(keyring_id) = 168). */
export const PROG_LOAD_SIGNED_ATTR = {
  name: 'bpf_attr(PROG_LOAD, signed)',
  size: 168,
  fields: {
    ...PROG_LOAD_FIELDS,
    log_true_size: u32(140), prog_token_fd: s32(144), fd_array_cnt: u32(148), signature: u64(152),
    signature_size: u32(160), keyring_id: s32(164),
  },
} as const satisfies StructLayout<string>;

export const OBJ_GET_INFO_BY_FD_ATTR = {
  name: 'bpf_attr(OBJ_GET_INFO_BY_FD)',
  size: 16,
  fields: { bpf_fd: u32(0), info_len: u32(4), info: u64(8) },
} as const satisfies StructLayout<string>;

/** struct bpf_map_info (104 bytes) with the hash fields. */
export const BPF_MAP_INFO = {
  name: 'bpf_map_info',
  size: 104,
  fields: {
    type: u32(0), id: u32(4), key_size: u32(8), value_size: u32(12), max_entries: u32(16), map_flags: u32(20),
    name: name16(24), ifindex: u32(40), btf_vmlinux_value_type_id: u32(44), netns_dev: u64(48), netns_ino: u64(56),
    btf_id: u32(64), btf_key_type_id: u32(68), btf_value_type_id: u32(72), btf_vmlinux_id: u32(76),
    map_extra: u64(80), hash: u64(88), hash_size: u32(96),
  },
} as const satisfies StructLayout<string>;

export const PROG_RUN_ATTR = {
  name: 'bpf_attr(PROG_RUN)',
  size: 80,
  fields: { prog_fd: u32(0), retval: u32(4), ctx_size_in: u32(40), ctx_in: u64(48) },
} as const satisfies StructLayout<string>;

/** Records passed in PROG_LOAD arrays. */
export const BPF_FUNC_INFO = { name: 'bpf_func_info', size: 8, fields: { insn_off: u32(0), type_id: u32(4) } } as const satisfies StructLayout<string>;
export const BPF_LINE_INFO = {
  name: 'bpf_line_info', size: 16, fields: { insn_off: u32(0), file_name_off: u32(4), line_off: u32(8), line_col: u32(12) },
} as const satisfies StructLayout<string>;
export const BPF_CORE_RELO = {
  name: 'bpf_core_relo', size: 16, fields: { insn_off: u32(0), type_id: u32(4), access_str_off: u32(8), kind: u32(12) },
} as const satisfies StructLayout<string>;
