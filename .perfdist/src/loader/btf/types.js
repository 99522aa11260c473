/**
 * The BTF type model: kind numbers and names, and the plain objects a decoded
 * type becomes. Every object carries the raw fields needed to re-encode it
 * byte for byte (nameOff, kindFlag), plus convenient derived fields.
 */
/** Kind names indexed by the kind number of the info word (0 is void / unknown). */
export const BTF_KIND_NAMES = [
    'VOID', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE',
    'CONST', 'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
];
export const BTF_KIND = {
    VOID: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9,
    CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17,
    TYPE_TAG: 18, ENUM64: 19,
};
export const BTF_KIND_MAX = 19;
export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
export const BTF_HEADER_SIZE = 24;
/** Largest string offset the kernel accepts. */
export const BTF_MAX_NAME_OFFSET = 0xffffff;
/** INT encoding bits. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;
/** FUNC linkage (stored in vlen) and VAR linkage values. */
export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;
export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;
export const VOID_TYPE = Object.freeze({ id: 0, kind: 'VOID', name: '', nameOff: 0, kindFlag: false });
/** Name of an INT encoding as bpftool prints it. */
export function intEncodingName(encoding) {
    switch (encoding) {
        case 0: return '(none)';
        case BTF_INT_SIGNED: return 'SIGNED';
        case BTF_INT_CHAR: return 'CHAR';
        case BTF_INT_BOOL: return 'BOOL';
        default: return 'UNKN';
    }
}
/** Name of a FUNC or VAR linkage as bpftool prints it. */
export function linkageName(linkage) {
    switch (linkage) {
        case 0: return 'static';
        case 1: return 'global';
        case 2: return 'extern';
        default: return '(unknown)';
    }
}
/**
 * Returns a copy of `t` whose type-id fields are mapped through `map`
 * (used to copy types between BTF objects).
 */
export function remapTypeIds(t, map) {
    switch (t.kind) {
        case 'VOID':
        case 'INT':
        case 'FWD':
        case 'FLOAT':
        case 'ENUM':
        case 'ENUM64':
            return { ...t };
        case 'PTR':
        case 'TYPEDEF':
        case 'VOLATILE':
        case 'CONST':
        case 'RESTRICT':
        case 'TYPE_TAG':
        case 'FUNC':
        case 'VAR':
        case 'DECL_TAG':
            return { ...t, type: map(t.type) };
        case 'ARRAY':
            return { ...t, elemType: map(t.elemType), indexType: map(t.indexType) };
        case 'STRUCT':
        case 'UNION':
            return { ...t, members: t.members.map((m) => ({ ...m, type: map(m.type) })) };
        case 'FUNC_PROTO':
            return { ...t, type: map(t.type), params: t.params.map((p) => ({ ...p, type: map(p.type) })) };
        case 'DATASEC':
            return { ...t, vars: t.vars.map((v) => ({ ...v, type: map(v.type) })) };
    }
}
//# sourceMappingURL=types.js.map