export { Btf } from './btf.js';
export { parseBtf } from './parse.js';
export { parseBtfHeader, detectByteOrder, writeBtfHeader } from './header.js';
export { BtfStrings, decodeUtf8 } from './strings.js';
export { dumpRaw, dumpType } from './dump.js';
export { encodeBtf, encodeType, typeByteSize } from './write.js';
export { resolveType, skipModifiers, sizeOfType, membersOf, memberOffsetOf, parseMemberPath, } from './query.js';
export { BTF_KIND, BTF_KIND_MAX, BTF_KIND_NAMES, BTF_MAGIC, BTF_VERSION, BTF_HEADER_SIZE, BTF_MAX_NAME_OFFSET, BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL, BTF_FUNC_STATIC, BTF_FUNC_GLOBAL, BTF_FUNC_EXTERN, BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_GLOBAL_EXTERN, VOID_TYPE, intEncodingName, linkageName, remapTypeIds, } from './types.js';
export { parseBtfExt, coreReloKindName, normalizeByteOrder, CORE_RELO_KIND_NAMES, BTF_EXT_MIN_HEADER, BTF_EXT_CORE_HEADER, FUNC_INFO_MIN_SIZE, LINE_INFO_MIN_SIZE, CORE_RELO_MIN_SIZE, } from './ext.js';
export { writeBtfExt } from './ext-write.js';
export { BtfBuilder } from './builder.js';
//# sourceMappingURL=index.js.map