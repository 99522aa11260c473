/** bpf(2) UAPI as data: constants, attr layouts, the loader ctx, and byte-order-aware encode/decode. */
export {
  PROG_TYPE, PROG_TYPE_NAME, PROG_TYPE_COUNT, ATTACH_TYPE, ATTACH_TYPE_NAME, ATTACH_TYPE_COUNT, MAP_TYPE, MAP_TYPE_NAME, MAP_TYPE_COUNT,
  CMD, CMD_NAME, CMD_COUNT, LINK_TYPE, LINK_TYPE_NAME, LINK_TYPE_COUNT, BTF_KIND, BTF_KIND_NAME, BTF_KIND_COUNT, MAP_FLAG, UPDATE_FLAG,
  FUNC_LINKAGE, CORE_RELO_KIND,
  type ProgTypeName, type AttachTypeName, type MapTypeName, type CmdName, type LinkTypeName,
} from './enums.js';
export { BPF_ATTR, BPF_ATTR_SIZE, UAPI_STRUCT } from './structs.js';
export {
  BPF_CMD, BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, BPF_F_MMAPABLE, BPF_F_TOKEN_FD, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, BPF_ANY,
  PSEUDO, PSEUDO_CALL, PSEUDO_KFUNC_CALL, HELPER, ERRNO, BTF_KIND_TYPEDEF, BTF_KIND_FUNC, BTF_KIND_VAR, BPF_SKEL_KERNEL,
  BPF_INSN_SIZE, BPF_FUNC_INFO_SIZE, BPF_LINE_INFO_SIZE, BPF_CORE_RELO_SIZE, BPF_OBJ_NAME_LEN, SHA256_SIZE,
} from './constants.js';
export {
  BTF_LOAD_ATTR, BTF_LOAD_FULL_ATTR, MAP_CREATE_ATTR, MAP_CREATE_EXCL_ATTR, MAP_UPDATE_ELEM_ATTR, MAP_FREEZE_ATTR, PROG_LOAD_ATTR,
  PROG_LOAD_SIGNED_ATTR, OBJ_GET_INFO_BY_FD_ATTR, BPF_MAP_INFO, PROG_RUN_ATTR, BPF_FUNC_INFO, BPF_LINE_INFO, BPF_CORE_RELO,
} from './attr.js';
export { BPF_LOADER_CTX, BPF_MAP_DESC, BPF_PROG_DESC, ctxOffsets } from './ctx.js';
export { writeStruct, readStruct, structReader, offsetOf, endOf, widthOf, type StructReader, type FieldType, type FieldSpec, type StructLayout, type StructValues, type Endian } from './layout.js';
