/**
 * Decodes one type record (already bounds-checked by the parse pass) into a
 * plain BtfType object.
 */

import { LoaderError } from '../errors.js';
import type { BtfStrings } from './strings.js';
import {
  BTF_KIND,
  BTF_KIND_NAMES,
  type BtfEnumerator,
  type BtfEnumerator64,
  type BtfMember,
  type BtfParam,
  type BtfRefType,
  type BtfType,
  type BtfVarSecinfo,
} from './types.js';

export function decodeTypeAt(dv: DataView, le: boolean, pos: number, id: number, strings: BtfStrings): BtfType {
  const t = decodeFields(dv, le, pos, id, strings);
  const info = dv.getUint32(pos + 4, le);
  switch (t.kind) {
    case 'STRUCT':
    case 'UNION':
    case 'ENUM':
    case 'ENUM64':
    case 'FUNC':
    case 'FUNC_PROTO':
    case 'DATASEC':
      break;
    default: {
      if ((info & 0xffff) !== 0 && t.kind !== 'VOID') t.rawVlen = info & 0xffff;
      const st = dv.getUint32(pos + 8, le);
      if ((t.kind === 'ARRAY' || t.kind === 'FWD') && st !== 0) t.rawSizeOrType = st;
    }
  }
  return t;
}

function decodeFields(dv: DataView, le: boolean, pos: number, id: number, strings: BtfStrings): BtfType {
  const nameOff = dv.getUint32(pos, le);
  const info = dv.getUint32(pos + 4, le);
  const st = dv.getUint32(pos + 8, le);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kindFlag = info >>> 31 === 1;
  const name = nameOff === 0 ? '' : strings.get(nameOff);
  switch (kind) {
    case BTF_KIND.INT: {
      const data = dv.getUint32(pos + 12, le);
      return {
        id,
        kind: 'INT',
        name,
        nameOff,
        kindFlag,
        size: st,
        encoding: (data >>> 24) & 0x0f,
        bitOffset: (data >>> 16) & 0xff,
        bits: data & 0xff,
      };
    }
    case BTF_KIND.PTR:
    case BTF_KIND.TYPEDEF:
    case BTF_KIND.VOLATILE:
    case BTF_KIND.CONST:
    case BTF_KIND.RESTRICT:
    case BTF_KIND.TYPE_TAG:
      return { id, kind: BTF_KIND_NAMES[kind] as BtfRefType['kind'], name, nameOff, kindFlag, type: st };
    case BTF_KIND.ARRAY:
      return {
        id,
        kind: 'ARRAY',
        name,
        nameOff,
        kindFlag,
        elemType: dv.getUint32(pos + 12, le),
        indexType: dv.getUint32(pos + 16, le),
        nelems: dv.getUint32(pos + 20, le),
      };
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION: {
      const members: BtfMember[] = new Array(vlen);
      for (let i = 0, p = pos + 12; i < vlen; i++, p += 12) {
        const mn = dv.getUint32(p, le);
        const off = dv.getUint32(p + 8, le);
        members[i] = {
          name: mn === 0 ? '' : strings.get(mn),
          nameOff: mn,
          type: dv.getUint32(p + 4, le),
          bitOffset: kindFlag ? off & 0xffffff : off,
          bitfieldSize: kindFlag ? off >>> 24 : 0,
        };
      }
      return { id, kind: kind === BTF_KIND.STRUCT ? 'STRUCT' : 'UNION', name, nameOff, kindFlag, size: st, members };
    }
    case BTF_KIND.ENUM: {
      const enumerators: BtfEnumerator[] = new Array(vlen);
      for (let i = 0, p = pos + 12; i < vlen; i++, p += 8) {
        const en = dv.getUint32(p, le);
        enumerators[i] = {
          name: en === 0 ? '' : strings.get(en),
          nameOff: en,
          value: kindFlag ? dv.getInt32(p + 4, le) : dv.getUint32(p + 4, le),
        };
      }
      return { id, kind: 'ENUM', name, nameOff, kindFlag, size: st, signed: kindFlag, enumerators };
    }
    case BTF_KIND.ENUM64: {
      const enumerators: BtfEnumerator64[] = new Array(vlen);
      for (let i = 0, p = pos + 12; i < vlen; i++, p += 12) {
        const en = dv.getUint32(p, le);
        const raw = (BigInt(dv.getUint32(p + 8, le)) << 32n) | BigInt(dv.getUint32(p + 4, le));
        enumerators[i] = { name: en === 0 ? '' : strings.get(en), nameOff: en, value: kindFlag ? BigInt.asIntN(64, raw) : raw };
      }
      return { id, kind: 'ENUM64', name, nameOff, kindFlag, size: st, signed: kindFlag, enumerators };
    }
    case BTF_KIND.FWD:
      return { id, kind: 'FWD', name, nameOff, kindFlag, fwdKind: kindFlag ? 'union' : 'struct' };
    case BTF_KIND.FUNC:
      return { id, kind: 'FUNC', name, nameOff, kindFlag, type: st, linkage: vlen };
    case BTF_KIND.FUNC_PROTO: {
      const params: BtfParam[] = new Array(vlen);
      for (let i = 0, p = pos + 12; i < vlen; i++, p += 8) {
        const pn = dv.getUint32(p, le);
        params[i] = { name: pn === 0 ? '' : strings.get(pn), nameOff: pn, type: dv.getUint32(p + 4, le) };
      }
      return { id, kind: 'FUNC_PROTO', name, nameOff, kindFlag, type: st, params };
    }
    case BTF_KIND.VAR:
      return { id, kind: 'VAR', name, nameOff, kindFlag, type: st, linkage: dv.getUint32(pos + 12, le) };
    case BTF_KIND.DATASEC: {
      const vars: BtfVarSecinfo[] = new Array(vlen);
      for (let i = 0, p = pos + 12; i < vlen; i++, p += 12) {
        vars[i] = { type: dv.getUint32(p, le), offset: dv.getUint32(p + 4, le), size: dv.getUint32(p + 8, le) };
      }
      return { id, kind: 'DATASEC', name, nameOff, kindFlag, size: st, vars };
    }
    case BTF_KIND.FLOAT:
      return { id, kind: 'FLOAT', name, nameOff, kindFlag, size: st };
    case BTF_KIND.DECL_TAG:
      return { id, kind: 'DECL_TAG', name, nameOff, kindFlag, type: st, componentIdx: dv.getInt32(pos + 12, le) };
    default:
      // The parse pass rejects every other kind; kept for safety.
      throw new LoaderError('BTF_MALFORMED', `btf: type [${id}] has unknown kind ${kind}`, { typeId: id, field: 'kind', got: kind });
  }
}
