/**
 * Text dump in the exact format of `bpftool btf dump file X format raw`
 * (bpftool v7.1.0): one line per type, followed by one tab-indented line per
 * member / enumerator / parameter / datasec variable.
 */

import type { TypeSource } from './query.js';
import { intEncodingName, linkageName, type BtfType } from './types.js';

/**
 * What the dump reads: types by id, and the first id that is the object's own (split BTF).
 * `Btf` is one; naming the shape rather than the class keeps btf.ts (whose `rawDump` calls
 * this) and this module out of an import cycle.
 */
export type DumpSource = Pick<TypeSource, 'totalCount' | 'type'> & { readonly startId: number };

/** The name as bpftool prints it: '(anon)' only for offset 0. */
function qn(name: string, nameOff: number): string {
  return nameOff === 0 ? "'(anon)'" : `'${name}'`;
}

export function dumpType(btf: DumpSource, t: BtfType, out: string[]): void {
  let line = `[${t.id}] ${t.kind === 'VOID' ? 'UNKNOWN' : t.kind} ${qn(t.name, t.nameOff)}`;
  switch (t.kind) {
    case 'VOID':
      out.push(line);
      return;
    case 'INT':
      out.push(`${line} size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncodingName(t.encoding)}`);
      return;
    case 'PTR':
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
    case 'TYPEDEF':
    case 'TYPE_TAG':
      out.push(`${line} type_id=${t.type}`);
      return;
    case 'ARRAY':
      out.push(`${line} type_id=${t.elemType} index_type_id=${t.indexType} nr_elems=${t.nelems}`);
      return;
    case 'STRUCT':
    case 'UNION':
      out.push(`${line} size=${t.size} vlen=${t.members.length}`);
      for (const m of t.members) {
        let s = `\t${qn(m.name, m.nameOff)} type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
        out.push(s);
      }
      return;
    case 'ENUM':
      out.push(`${line} encoding=${t.kindFlag ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.enumerators.length}`);
      for (const e of t.enumerators) out.push(`\t${qn(e.name, e.nameOff)} val=${e.value}`);
      return;
    case 'ENUM64':
      out.push(`${line} encoding=${t.kindFlag ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.enumerators.length}`);
      for (const e of t.enumerators) {
        out.push(
          t.kindFlag
            ? `\t${qn(e.name, e.nameOff)} val=${BigInt.asIntN(64, e.value)}LL`
            : `\t${qn(e.name, e.nameOff)} val=${BigInt.asUintN(64, e.value)}ULL`,
        );
      }
      return;
    case 'FWD':
      out.push(`${line} fwd_kind=${t.kindFlag ? 'union' : 'struct'}`);
      return;
    case 'FUNC':
      out.push(`${line} type_id=${t.type} linkage=${linkageName(t.linkage)}`);
      return;
    case 'FUNC_PROTO':
      out.push(`${line} ret_type_id=${t.type} vlen=${t.params.length}`);
      for (const p of t.params) out.push(`\t${qn(p.name, p.nameOff)} type_id=${p.type}`);
      return;
    case 'VAR':
      out.push(`${line} type_id=${t.type}, linkage=${linkageName(t.linkage)}`);
      return;
    case 'DATASEC':
      out.push(`${line} size=${t.size} vlen=${t.vars.length}`);
      for (const v of t.vars) {
        let s = `\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        if (v.type < btf.totalCount) {
          const vt = btf.type(v.type);
          s += ` (${vt.kind === 'VOID' ? 'UNKNOWN' : vt.kind} ${qn(vt.name, vt.nameOff)})`;
        }
        out.push(s);
      }
      return;
    case 'FLOAT':
      out.push(`${line} size=${t.size}`);
      return;
    case 'DECL_TAG':
      out.push(`${line} type_id=${t.type} component_idx=${t.componentIdx}`);
      return;
  }
}

export function dumpRaw(btf: DumpSource): string {
  const out: string[] = [];
  for (let id = btf.startId; id < btf.totalCount; id++) dumpType(btf, btf.type(id), out);
  return out.length === 0 ? '' : out.join('\n') + '\n';
}
