/**
 * The object's maps, in libbpf's order: BTF-defined (`.maps`, by offset), legacy (`maps`),
 * one global-data map per non-empty `.data*` / `.rodata*` / `.bss*` section (section order),
 * `.kconfig` when kconfig externs exist, then struct_ops maps.
 */
import { LoaderError } from '../errors.js';
import type { Btf } from '../btf/index.js';
import { SHF, SHT, type ElfFile, type ElfSection } from '../elf/index.js';
import { MAP_TYPE } from '../uapi/enums.js';
import { parseBtfMapDef, skipModsAndTypedefs, type BtfMapDef } from './btfmaps.js';
import { kconfigSize } from './externs.js';
import { datasecLayout } from './datasec.js';
import type { ExternSpec, GlobalVarSpec, MapOrigin, MapSpec } from './spec.js';

const BPF_F_RDONLY_PROG = 0x80;
const BPF_F_MMAPABLE = 0x400;
const BPF_F_LINK = 0x2000;
const BTF_VAR_STATIC = 0;
const BPF_OBJ_NAME_LEN = 16;

const MAP_TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>(Object.entries(MAP_TYPE).map(([k, v]) => [v as number, k]));
export function mapTypeName(id: number): string {
  return MAP_TYPE_NAMES.get(id) ?? `UNKNOWN_${id}`;
}

export type DataKind = 'data' | 'rodata' | 'bss';

/** Which global-data map an ELF section becomes, if any (empty sections become none). */
export function dataSectionKind(s: ElfSection): DataKind | null {
  const n = s.name;
  if (s.type === SHT.PROGBITS && !(s.flags & SHF.EXECINSTR) && s.size > 0) {
    if (n === '.data' || n.startsWith('.data.')) return 'data';
    if (n === '.rodata' || n.startsWith('.rodata.')) return 'rodata';
  }
  if (s.type === SHT.NOBITS && s.size > 0 && (n === '.bss' || n.startsWith('.bss.'))) return 'bss';
  return null;
}

/** libbpf's internal map name: object-name prefix + section name, ≤ 15 chars, odd chars → '_'. */
export function internalMapName(objName: string, section: string): string {
  const sfx = Math.min(BPF_OBJ_NAME_LEN - 1, Math.max(7, section.length));
  const custom = section.indexOf('.', 1) >= 0;
  const pfx = custom ? 0 : Math.min(BPF_OBJ_NAME_LEN - 1 - sfx, objName.length);
  return (objName.slice(0, pfx) + section.slice(0, sfx)).replace(/[^A-Za-z0-9_.]/g, '_');
}

function blankMap(name: string, origin: MapOrigin, section: string): MapSpec {
  return {
    name,
    index: -1,
    origin,
    section,
    sectionOffset: 0,
    type: '',
    typeId: 0,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    numaNode: 0,
    mapExtra: 0n,
    pinning: 'none',
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
    inner: null,
    slots: [],
    initialValue: null,
    mmapable: false,
    frozen: false,
    structOps: null,
  };
}

function fromDef(name: string, section: string, offset: number, def: BtfMapDef): MapSpec {
  const m = blankMap(name, 'btf', section);
  Object.assign(m, {
    sectionOffset: offset,
    type: mapTypeName(def.type),
    typeId: def.type,
    keySize: def.keySize,
    valueSize: def.valueSize,
    maxEntries: def.maxEntries,
    flags: def.flags,
    numaNode: def.numaNode,
    mapExtra: def.mapExtra,
    pinning: def.pinning === 1 ? 'by_name' : 'none',
    btfKeyTypeId: def.btfKeyTypeId,
    btfValueTypeId: def.btfValueTypeId,
    inner: def.inner ? fromDef(`${name}.inner`, section, offset, def.inner) : null,
  });
  return m;
}

export interface MapContext {
  elf: ElfFile;
  btf: Btf | null;
  objName: string;
  externs: ExternSpec[];
  /** Names of entry programs and subprograms by (section index, byte offset). */
  funcAt: (sectionIndex: number, offset: number) => string | undefined;
}

export interface CollectedMaps {
  maps: MapSpec[];
  globals: GlobalVarSpec[];
}

export function collectMaps(ctx: MapContext): CollectedMaps {
  const maps: MapSpec[] = [...btfMaps(ctx), ...legacyMaps(ctx)];
  const globals: GlobalVarSpec[] = [];
  for (const s of ctx.elf.sections) {
    const kind = dataSectionKind(s);
    if (kind) maps.push(dataMap(ctx, s, kind, globals));
  }
  if (ctx.externs.some((e) => e.kind === 'kconfig')) maps.push(kconfigMap(ctx));
  maps.push(...structOpsMaps(ctx));
  maps.forEach((m, i) => {
    m.index = i;
  });
  fillSlots(ctx, maps);
  return { maps, globals };
}

function btfMaps(ctx: MapContext): MapSpec[] {
  const sec = ctx.elf.section('.maps');
  if (!sec) return [];
  const layout = datasecLayout(ctx.elf, ctx.btf, '.maps');
  if (!ctx.btf || !layout) throw new LoaderError('OBJECT_MALFORMED', 'section .maps: no DATASEC .maps in BTF', { section: '.maps' });
  const btf = ctx.btf;
  return layout.vars.map((v) => fromDef(v.name, '.maps', v.offset, parseBtfMapDef(btf, v.name, v.typeId)));
}

/** Legacy `struct bpf_map_def` maps in SEC("maps") (refused by libbpf ≥ 1.0 at load, still described here). */
function legacyMaps(ctx: MapContext): MapSpec[] {
  const sec = ctx.elf.section('maps');
  if (!sec || sec.size === 0) return [];
  const syms = ctx.elf.symbols.filter((s) => s.shndx === sec.index && s.name !== '' && s.type !== 3 /* STT_SECTION */);
  if (syms.length === 0) return [];
  if (sec.size % syms.length !== 0) {
    throw new LoaderError('OBJECT_MALFORMED', `section maps: size ${sec.size} is not a multiple of ${syms.length} definitions`, {
      section: 'maps',
      got: sec.size,
    });
  }
  const defSize = sec.size / syms.length;
  const le = ctx.elf.byteOrder === 'le';
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  return [...syms]
    .sort((a, b) => a.value - b.value)
    .map((sym) => {
      if (sym.value % defSize !== 0 || sym.value + defSize > sec.size) {
        throw new LoaderError(
          'OBJECT_MALFORMED',
          `section maps: map '${sym.name}' at offset ${sym.value} is not a whole definition of ${defSize} bytes`,
          { section: 'maps', symbol: sym.name, offset: sym.value },
        );
      }
      const field = (i: number) => (i * 4 + 4 <= defSize ? view.getUint32(sym.value + i * 4, le) : 0);
      for (let o = 20; o < defSize; o++) {
        if (sec.data[sym.value + o] !== 0)
          throw new LoaderError('OBJECT_UNSUPPORTED', `section maps: map '${sym.name}' has unrecognized non-zero option at byte ${o}`, {
            section: 'maps',
            symbol: sym.name,
            offset: sym.value + o,
          });
      }
      const m = blankMap(sym.name, 'legacy', 'maps');
      Object.assign(m, {
        sectionOffset: sym.value,
        typeId: field(0),
        type: mapTypeName(field(0)),
        keySize: field(1),
        valueSize: field(2),
        maxEntries: field(3),
        flags: field(4),
      });
      return m;
    });
}

function dataMap(ctx: MapContext, s: ElfSection, kind: DataKind, globals: GlobalVarSpec[]): MapSpec {
  const m = blankMap(internalMapName(ctx.objName, s.name), kind, s.name);
  const layout = datasecLayout(ctx.elf, ctx.btf, s.name);
  const linkages = ['static', 'global', 'extern'] as const;
  for (const v of layout?.vars ?? []) {
    globals.push({
      name: v.name,
      section: s.name,
      offset: v.offset,
      size: v.size,
      typeId: v.typeId,
      linkage: linkages[v.linkage] ?? 'extern',
    });
  }
  const mmapable = (layout?.vars ?? []).some((v) => v.linkage !== BTF_VAR_STATIC);
  Object.assign(m, {
    type: 'ARRAY',
    typeId: MAP_TYPE.ARRAY,
    keySize: 4,
    valueSize: s.size,
    maxEntries: 1,
    flags: (kind === 'rodata' ? BPF_F_RDONLY_PROG : 0) | (mmapable ? BPF_F_MMAPABLE : 0),
    btfValueTypeId: layout ? layout.id : 0,
    mmapable,
    frozen: kind === 'rodata',
    initialValue: kind === 'bss' ? new Uint8Array(s.size) : new Uint8Array(s.data),
  });
  return m;
}

function kconfigMap(ctx: MapContext): MapSpec {
  const m = blankMap(internalMapName(ctx.objName, '.kconfig'), 'kconfig', '.kconfig');
  const ds = datasecLayout(ctx.elf, ctx.btf, '.kconfig');
  const size = kconfigSize(ctx.externs);
  Object.assign(m, {
    type: 'ARRAY',
    typeId: MAP_TYPE.ARRAY,
    keySize: 4,
    valueSize: size,
    maxEntries: 1,
    flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
    btfValueTypeId: ds ? ds.id : 0,
    mmapable: true,
    frozen: true,
    initialValue: null,
  });
  return m;
}

function structOpsMaps(ctx: MapContext): MapSpec[] {
  const out: MapSpec[] = [];
  for (const secName of ['.struct_ops', '.struct_ops.link']) {
    const sec = ctx.elf.section(secName);
    if (!sec) continue;
    const layout = datasecLayout(ctx.elf, ctx.btf, secName);
    if (!layout || !ctx.btf) throw new LoaderError('OBJECT_MALFORMED', `section ${secName}: no DATASEC in BTF`, { section: secName });
    const btf = ctx.btf;
    const relos = ctx.elf.relocations.find((r) => r.target === sec.index)?.entries ?? [];
    for (const vsi of layout.vars) {
      const v = { name: vsi.name, type: vsi.typeId };
      const st = skipModsAndTypedefs(btf, v.type);
      if (st.kind !== 'STRUCT')
        throw new LoaderError('OBJECT_MALFORMED', `section ${secName}: struct_ops map '${v.name}' is ${st.kind}, want STRUCT`, {
          section: secName,
          symbol: v.name,
          got: st.kind,
          want: 'STRUCT',
        });
      if (vsi.offset + vsi.size > sec.size)
        throw new LoaderError('OBJECT_MALFORMED', `section ${secName}: struct_ops map '${v.name}' past end of section`, {
          section: secName,
          symbol: v.name,
          offset: vsi.offset,
        });
      const funcs: { member: string; memberIndex: number; prog: string }[] = [];
      for (const r of relos) {
        if (r.offset < vsi.offset || r.offset >= vsi.offset + vsi.size) continue;
        const memberIndex = st.members.findIndex((mm) => mm.bitOffset / 8 === r.offset - vsi.offset);
        const member = st.members[memberIndex];
        const sym = ctx.elf.symbols[r.symbol];
        const prog = ctx.funcAt(sym.shndx, sym.value) ?? sym.name;
        if (!member)
          throw new LoaderError('OBJECT_MALFORMED', `section ${secName}: relocation at ${r.offset} is not on a member of '${st.name}'`, {
            section: secName,
            symbol: v.name,
            offset: r.offset,
          });
        funcs.push({ member: member.name, memberIndex, prog });
      }
      const m = blankMap(v.name, 'struct_ops', secName);
      Object.assign(m, {
        sectionOffset: vsi.offset,
        type: 'STRUCT_OPS',
        typeId: MAP_TYPE.STRUCT_OPS,
        keySize: 4,
        valueSize: vsi.size,
        maxEntries: 1,
        // libbpf leaves btf_value_type_id 0: the kernel's struct_ops value type is found at load.
        flags: secName === '.struct_ops.link' ? BPF_F_LINK : 0,
        btfValueTypeId: 0,
        initialValue: sec.data.slice(vsi.offset, vsi.offset + vsi.size),
        structOps: { typeName: st.name, typeId: st.id, funcs },
      });
      out.push(m);
    }
  }
  return out;
}

/** Initial `.values` slots from `.rel.maps`: map-in-map → inner map names, prog_array → program names. */
function fillSlots(ctx: MapContext, maps: MapSpec[]): void {
  const sec = ctx.elf.section('.maps');
  if (!sec || !ctx.btf) return;
  const rel = ctx.elf.relocations.find((r) => r.target === sec.index);
  if (!rel) return;
  const btf = ctx.btf;
  const layout = datasecLayout(ctx.elf, btf, '.maps');
  const sizeAt = (offset: number) => layout?.vars.find((v) => v.offset === offset)?.size ?? 0;
  for (const r of rel.entries) {
    const where = { section: '.rel.maps', offset: r.offset };
    const map = maps.find((m) => m.origin === 'btf' && r.offset >= m.sectionOffset && r.offset < m.sectionOffset + sizeAt(m.sectionOffset));
    if (!map) throw new LoaderError('OBJECT_MALFORMED', `.rel.maps: relocation at ${r.offset} is in no map definition`, where);
    const v = btf.type(btf.findByName(map.name, 'VAR') ?? 0);
    const def = v.kind === 'VAR' ? parseBtfMapDef(btf, map.name, v.type) : null;
    if (!def || def.valuesOffset === null)
      throw new LoaderError('OBJECT_MALFORMED', `map '${map.name}': relocation at ${r.offset} but the map has no 'values'`, {
        ...where,
        symbol: map.name,
      });
    const rel0 = r.offset - map.sectionOffset - def.valuesOffset;
    if (rel0 < 0 || rel0 % 8 !== 0)
      throw new LoaderError('OBJECT_MALFORMED', `map '${map.name}': relocation at ${r.offset} is not on a 'values' slot`, {
        ...where,
        symbol: map.name,
      });
    const sym = ctx.elf.symbols[r.symbol];
    if (def.progSlots) {
      const prog = ctx.funcAt(sym.shndx, sym.value);
      if (!prog)
        throw new LoaderError('OBJECT_MALFORMED', `map '${map.name}': slot ${rel0 / 8} refers to '${sym.name}', which is not a program`, {
          ...where,
          symbol: sym.name,
        });
      map.slots.push({ index: rel0 / 8, target: prog, targetKind: 'prog' });
    } else {
      if (sym.shndx !== sec.index)
        throw new LoaderError('OBJECT_MALFORMED', `map '${map.name}': slot ${rel0 / 8} refers to '${sym.name}', which is not a map`, {
          ...where,
          symbol: sym.name,
        });
      const target = maps.find((m) => m.origin === 'btf' && m.sectionOffset === sym.value);
      if (!target)
        throw new LoaderError('OBJECT_MALFORMED', `map '${map.name}': slot ${rel0 / 8} refers to unknown map '${sym.name}'`, {
          ...where,
          symbol: sym.name,
        });
      map.slots.push({ index: rel0 / 8, target: target.name, targetKind: 'map' });
    }
    if (rel0 / 8 >= map.maxEntries)
      throw new LoaderError('OBJECT_MALFORMED', `map '${map.name}': slot ${rel0 / 8} ≥ max_entries ${map.maxEntries}`, {
        ...where,
        symbol: map.name,
        got: rel0 / 8,
        want: `< ${map.maxEntries}`,
      });
  }
  for (const m of maps) m.slots.sort((a, b) => a.index - b.index);
}
