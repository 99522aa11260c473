/**
 * parseBtf: one pass over the type section that records each type's byte
 * offset and kind in typed arrays and validates it (known kind, fits in the
 * section, no unused info bits set, name offsets and type-id references in
 * range). Like libbpf (and unlike the kernel) it accepts a non-zero vlen on
 * kinds without one and a non-zero size/type word on ARRAY and FWD (gcc emits
 * those); such values are kept as rawVlen / rawSizeOrType for re-encoding.
 * Types are decoded to objects only when asked for (see decode.ts).
 */
import { LoaderError } from '../errors.js';
import { Btf } from './btf.js';
import { parseBtfHeader } from './header.js';
import { BtfStrings } from './strings.js';
import { BTF_KIND, BTF_KIND_MAX, BTF_KIND_NAMES } from './types.js';
/** Field names for error details, indexed by the codes used in the pass below. */
const FIELDS = ['name_off', 'type', 'array.type', 'array.index_type', 'member.type', 'param.type', 'var_secinfo.type',
    'member.name_off', 'enum.name_off', 'param.name_off'];
function malformed(message, details) {
    return new LoaderError('BTF_MALFORMED', `btf: ${message}`, details);
}
export function parseBtf(bytes, opts = {}) {
    const base = opts.base;
    const header = parseBtfHeader(bytes, { split: base !== undefined });
    const le = header.byteOrder === 'little';
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const strStart = header.hdrLen + header.strOff;
    const strBytes = bytes.subarray(strStart, strStart + header.strLen);
    if (strBytes.length > 0) {
        if (!base && strBytes[0] !== 0) {
            throw malformed('string section does not start with NUL', { field: 'str_off', offset: strStart, got: strBytes[0], want: 0 });
        }
        if (strBytes[strBytes.length - 1] !== 0) {
            throw malformed('string section is not NUL-terminated', {
                field: 'str_len', offset: strStart + strBytes.length - 1, got: strBytes[strBytes.length - 1], want: 0,
            });
        }
    }
    const strings = new BtfStrings(strBytes, base?.strings);
    const strEnd = strings.endOff;
    const startId = base ? base.totalCount : 1;
    const typeStart = header.hdrLen + header.typeOff;
    const typeEnd = typeStart + header.typeLen;
    const maxTypes = Math.floor(header.typeLen / 12);
    const offsets = new Uint32Array(maxTypes);
    const kinds = new Uint8Array(maxTypes);
    // Largest name offset / type id referenced, and where: checked once the count is known.
    let maxName = 0, maxNameId = 0, maxNameField = 0;
    let maxRef = 0, maxRefId = 0, maxRefField = 0;
    let n = 0;
    let pos = typeStart;
    while (pos < typeEnd) {
        const id = startId + n;
        if (pos + 12 > typeEnd) {
            throw malformed(`type [${id}] truncated: ${typeEnd - pos} bytes left, need 12`, {
                typeId: id, field: 'type', offset: pos, got: typeEnd - pos, want: 12,
            });
        }
        const nameOff = dv.getUint32(pos, le);
        const info = dv.getUint32(pos + 4, le);
        const st = dv.getUint32(pos + 8, le);
        const kind = (info >>> 24) & 0x1f;
        const vlen = info & 0xffff;
        if (nameOff > maxName) {
            maxName = nameOff;
            maxNameId = id;
            maxNameField = 0;
        }
        if ((info & 0x60ff0000) !== 0) {
            throw malformed(`type [${id}] has unused info bits set (info 0x${info.toString(16)})`, {
                typeId: id, field: 'info', offset: pos + 4, got: info,
            });
        }
        if (kind === 0 || kind > BTF_KIND_MAX) {
            throw malformed(`type [${id}] has unknown kind ${kind}`, { typeId: id, field: 'kind', offset: pos + 4, got: kind });
        }
        let size = 12;
        switch (kind) {
            case BTF_KIND.INT: {
                size = 16;
                if (pos + 16 <= typeEnd) {
                    const data = dv.getUint32(pos + 12, le);
                    const bits = data & 0xff, off = (data >>> 16) & 0xff;
                    if ((data & 0xf000ff00) !== 0 || bits > 128 || bits + off > st * 8) {
                        throw malformed(`type [${id}] INT has invalid encoding data 0x${data.toString(16)} (size ${st})`, {
                            typeId: id, field: 'int_data', offset: pos + 12, got: data,
                        });
                    }
                }
                break;
            }
            case BTF_KIND.PTR:
            case BTF_KIND.TYPEDEF:
            case BTF_KIND.VOLATILE:
            case BTF_KIND.CONST:
            case BTF_KIND.RESTRICT:
            case BTF_KIND.TYPE_TAG:
                if (st > maxRef) {
                    maxRef = st;
                    maxRefId = id;
                    maxRefField = 1;
                }
                break;
            case BTF_KIND.FUNC:
                if (st > maxRef) {
                    maxRef = st;
                    maxRefId = id;
                    maxRefField = 1;
                }
                break;
            case BTF_KIND.VAR:
            case BTF_KIND.DECL_TAG:
                size = 16;
                if (st > maxRef) {
                    maxRef = st;
                    maxRefId = id;
                    maxRefField = 1;
                }
                break;
            case BTF_KIND.ARRAY: {
                size = 24;
                if (pos + 24 <= typeEnd) {
                    const et = dv.getUint32(pos + 12, le), it = dv.getUint32(pos + 16, le);
                    if (et > maxRef) {
                        maxRef = et;
                        maxRefId = id;
                        maxRefField = 2;
                    }
                    if (it > maxRef) {
                        maxRef = it;
                        maxRefId = id;
                        maxRefField = 3;
                    }
                }
                break;
            }
            case BTF_KIND.FWD:
            case BTF_KIND.FLOAT:
                break;
            case BTF_KIND.STRUCT:
            case BTF_KIND.UNION:
            case BTF_KIND.DATASEC: {
                size = 12 + 12 * vlen;
                if (pos + size > typeEnd)
                    break;
                const isDatasec = kind === BTF_KIND.DATASEC;
                for (let p = pos + 12, e = pos + size; p < e; p += 12) {
                    if (isDatasec) {
                        const t = dv.getUint32(p, le);
                        if (t > maxRef) {
                            maxRef = t;
                            maxRefId = id;
                            maxRefField = 6;
                        }
                    }
                    else {
                        const mn = dv.getUint32(p, le), t = dv.getUint32(p + 4, le);
                        if (mn > maxName) {
                            maxName = mn;
                            maxNameId = id;
                            maxNameField = 7;
                        }
                        if (t > maxRef) {
                            maxRef = t;
                            maxRefId = id;
                            maxRefField = 4;
                        }
                    }
                }
                break;
            }
            case BTF_KIND.ENUM:
            case BTF_KIND.ENUM64: {
                const rec = kind === BTF_KIND.ENUM ? 8 : 12;
                size = 12 + rec * vlen;
                if (pos + size > typeEnd)
                    break;
                for (let p = pos + 12, e = pos + size; p < e; p += rec) {
                    const en = dv.getUint32(p, le);
                    if (en > maxName) {
                        maxName = en;
                        maxNameId = id;
                        maxNameField = 8;
                    }
                }
                break;
            }
            case BTF_KIND.FUNC_PROTO: {
                size = 12 + 8 * vlen;
                if (st > maxRef) {
                    maxRef = st;
                    maxRefId = id;
                    maxRefField = 1;
                }
                if (pos + size > typeEnd)
                    break;
                for (let p = pos + 12, e = pos + size; p < e; p += 8) {
                    const pn = dv.getUint32(p, le), t = dv.getUint32(p + 4, le);
                    if (pn > maxName) {
                        maxName = pn;
                        maxNameId = id;
                        maxNameField = 9;
                    }
                    if (t > maxRef) {
                        maxRef = t;
                        maxRefId = id;
                        maxRefField = 5;
                    }
                }
                break;
            }
        }
        if (pos + size > typeEnd) {
            throw malformed(`type [${id}] ${BTF_KIND_NAMES[kind]} (vlen ${vlen}) needs ${size} bytes, only ${typeEnd - pos} left in type section`, {
                typeId: id, field: 'vlen', offset: pos, got: typeEnd - pos, want: size,
            });
        }
        offsets[n] = pos;
        kinds[n] = kind;
        n++;
        pos += size;
    }
    const totalCount = startId + n;
    if (maxRef >= totalCount) {
        throw malformed(`type [${maxRefId}] field ${FIELDS[maxRefField]} references type id ${maxRef}, but the last type id is ${totalCount - 1}`, {
            typeId: maxRefId, field: FIELDS[maxRefField], got: maxRef, want: `< ${totalCount}`,
        });
    }
    if (maxName >= strEnd && maxName !== 0) {
        throw malformed(`type [${maxNameId}] field ${FIELDS[maxNameField]} is string offset ${maxName}, past the end of the string section (${strEnd})`, {
            typeId: maxNameId, field: FIELDS[maxNameField], got: maxName, want: `< ${strEnd}`,
        });
    }
    return new Btf({
        bytes,
        dv,
        le,
        header,
        offsets: n === maxTypes ? offsets : offsets.slice(0, n),
        kinds: n === maxTypes ? kinds : kinds.slice(0, n),
        strings,
        base,
        startId,
    });
}
//# sourceMappingURL=parse.js.map