/**
 * `union bpf_attr` variants used by the generated loader and by the code that runs it.
 * Sizes are the attr_size libbpf passes (offsetofend of the last field it sets).
 */
import { type FieldSpec, type StructLayout, endOf } from './layout.js';
import { BPF_ATTR, UAPI_STRUCT } from './structs.js';

type Fields<L extends StructLayout<string>> = keyof L['fields'] & string;

/**
 * The fields `keys` of a generated layout under `name`; `size` is offsetofend of the last key unless given.
 * Offsets and types come from structs.ts (scripts/gen-uapi.ts), never from this file.
 */
function pick<L extends StructLayout<string>, K extends Fields<L>>(
  from: L,
  name: string,
  keys: readonly K[],
  size?: number,
): StructLayout<K> {
  const fields = {} as Record<K, FieldSpec>;
  for (const k of keys) fields[k] = from.fields[k];
  return { name, size: size ?? endOf(from, keys[keys.length - 1]!), fields };
}

const BTF_LOAD_FIELDS = ['btf', 'btf_log_buf', 'btf_size', 'btf_log_size', 'btf_log_level'] as const;
export const BTF_LOAD_ATTR = pick(BPF_ATTR.BTF_LOAD, 'bpf_attr(BTF_LOAD)', BTF_LOAD_FIELDS);

/** BTF_LOAD with the fields after btf_log_level (offsetofend(btf_token_fd) = 40), as the kernel reads it. */
export const BTF_LOAD_FULL_ATTR = pick(BPF_ATTR.BTF_LOAD, 'bpf_attr(BTF_LOAD, full)', [
  ...BTF_LOAD_FIELDS,
  'btf_log_true_size',
  'btf_flags',
  'btf_token_fd',
]);

const MAP_CREATE_FIELDS = [
  'map_type',
  'key_size',
  'value_size',
  'max_entries',
  'map_flags',
  'inner_map_fd',
  'numa_node',
  'map_name',
  'map_ifindex',
  'btf_fd',
  'btf_key_type_id',
  'btf_value_type_id',
  'btf_vmlinux_value_type_id',
  'map_extra',
] as const;

/** MAP_CREATE as gen_loader writes it (offsetofend(map_extra) = 72). */
export const MAP_CREATE_ATTR = pick(BPF_ATTR.MAP_CREATE, 'bpf_attr(MAP_CREATE)', MAP_CREATE_FIELDS);

/** MAP_CREATE with the exclusive-map fields of Linux 6.18 (offsetofend(excl_prog_hash_size) = 92). */
export const MAP_CREATE_EXCL_ATTR = pick(BPF_ATTR.MAP_CREATE, 'bpf_attr(MAP_CREATE, excl)', [
  ...MAP_CREATE_FIELDS,
  'value_type_btf_obj_fd',
  'map_token_fd',
  'excl_prog_hash',
  'excl_prog_hash_size',
]);

export const MAP_UPDATE_ELEM_ATTR = pick(BPF_ATTR.MAP_ELEM, 'bpf_attr(MAP_UPDATE_ELEM)', ['map_fd', 'key', 'value', 'flags']);

export const MAP_FREEZE_ATTR = pick(BPF_ATTR.MAP_ELEM, 'bpf_attr(MAP_FREEZE)', ['map_fd']);

const PROG_LOAD_FIELDS = [
  'prog_type',
  'insn_cnt',
  'insns',
  'license',
  'log_level',
  'log_size',
  'log_buf',
  'kern_version',
  'prog_flags',
  'prog_name',
  'prog_ifindex',
  'expected_attach_type',
  'prog_btf_fd',
  'func_info_rec_size',
  'func_info',
  'func_info_cnt',
  'line_info_rec_size',
  'line_info',
  'line_info_cnt',
  'attach_btf_id',
  'attach_btf_obj_fd',
  'core_relo_cnt',
  'fd_array',
  'core_relos',
  'core_relo_rec_size',
] as const;

/** PROG_LOAD as gen_loader writes it (offsetofend(core_relo_rec_size) = 140). */
export const PROG_LOAD_ATTR = pick(BPF_ATTR.PROG_LOAD, 'bpf_attr(PROG_LOAD)', PROG_LOAD_FIELDS);

/** PROG_LOAD with the signature fields (offsetofend(keyring_id) = 168). */
export const PROG_LOAD_SIGNED_ATTR = pick(BPF_ATTR.PROG_LOAD, 'bpf_attr(PROG_LOAD, signed)', [
  ...PROG_LOAD_FIELDS,
  'log_true_size',
  'prog_token_fd',
  'fd_array_cnt',
  'signature',
  'signature_size',
  'keyring_id',
]);

export const OBJ_GET_INFO_BY_FD_ATTR = pick(BPF_ATTR.info, 'bpf_attr(OBJ_GET_INFO_BY_FD)', ['bpf_fd', 'info_len', 'info']);

/** struct bpf_map_info (104 bytes) with the hash fields. */
export const BPF_MAP_INFO = pick(
  UAPI_STRUCT.bpf_map_info,
  'bpf_map_info',
  [
    'type',
    'id',
    'key_size',
    'value_size',
    'max_entries',
    'map_flags',
    'name',
    'ifindex',
    'btf_vmlinux_value_type_id',
    'netns_dev',
    'netns_ino',
    'btf_id',
    'btf_key_type_id',
    'btf_value_type_id',
    'btf_vmlinux_id',
    'map_extra',
    'hash',
    'hash_size',
  ],
  UAPI_STRUCT.bpf_map_info.size,
);

/** PROG_RUN (the `test` member): the fields the loader's runner sets; size is sizeof the member (80). */
export const PROG_RUN_ATTR = pick(BPF_ATTR.test, 'bpf_attr(PROG_RUN)', ['prog_fd', 'retval', 'ctx_size_in', 'ctx_in'], BPF_ATTR.test.size);

/** Records passed in PROG_LOAD arrays. */
export const BPF_FUNC_INFO = pick(UAPI_STRUCT.bpf_func_info, 'bpf_func_info', ['insn_off', 'type_id']);
export const BPF_LINE_INFO = pick(UAPI_STRUCT.bpf_line_info, 'bpf_line_info', ['insn_off', 'file_name_off', 'line_off', 'line_col']);
export const BPF_CORE_RELO = pick(UAPI_STRUCT.bpf_core_relo, 'bpf_core_relo', ['insn_off', 'type_id', 'access_str_off', 'kind']);
