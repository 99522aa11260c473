/**
 * The parts of a light skeleton that follow from the object alone: map identifiers, the
 * mmapable maps' variable structs and initial images, and the program list with their attach
 * flavour. The generator adds the loader bytes (and the signature) to get a LightSkeletonInput.
 */
import type { Btf } from '../btf/index.js';
import type { ObjectSpec } from '../object/index.js';
import { btfAlignOf, btfDecl } from './lskel-decl.js';
import { skelTypeOf } from './skel-type.js';
import { attachFor, mapIdent, mmapSize, sanitizeIdent, type LskelFlavour, type LskelMap, type LskelProg, type LskelVar } from './lskel.js';

const DATASEC_PREFIXES = ['.data', '.rodata', '.bss', '.kconfig'];
const BPF_F_RDONLY_PROG = 0x80;

/** bpftool's get_datasec_ident: `.data.x` → `data_x`; null for other section names. */
export function datasecIdent(secName: string): string | null {
  return DATASEC_PREFIXES.some((p) => secName.startsWith(p)) ? sanitizeIdent(secName.slice(1)) : null;
}

/** The DATASEC bpftool pairs with a map identifier: the first (by type id) whose ident matches. */
function findDatasec(btf: Btf, ident: string): { id: number; name: string } | null {
  for (let id = 1; id < btf.totalCount; id++) {
    const t = btf.type(id);
    if (t.kind === 'DATASEC' && datasecIdent(t.name) === ident) return { id, name: t.name };
  }
  return null;
}

interface RawVar {
  name: string;
  typeId: number;
  offset: number;
  size: number;
}

function datasecVars(spec: ObjectSpec, btf: Btf, secName: string): RawVar[] {
  if (secName === '.kconfig') {
    const out: RawVar[] = [];
    for (const e of spec.externs) {
      if (e.kind !== 'kconfig' || !e.kconfig) continue;
      const v = btf.type(e.btfId);
      if (v.kind !== 'VAR') continue;
      out.push({ name: e.name, typeId: v.type, offset: e.kconfig.offset, size: e.kconfig.size });
    }
    return out.sort((a, b) => a.offset - b.offset);
  }
  return spec.globals
    .filter((g) => g.section === secName && g.linkage !== 'static')
    .map((g) => ({ name: g.name, typeId: g.typeId, offset: g.offset, size: g.size }));
}

function lskelVar(btf: Btf, v: RawVar, stripMods: boolean): LskelVar {
  let typeSize: number | null;
  try {
    typeSize = btf.sizeOf(v.typeId);
  } catch {
    typeSize = null;
  }
  return {
    name: v.name,
    decl: btfDecl(btf, v.typeId, sanitizeIdent(v.name), 2, stripMods),
    offset: v.offset,
    size: v.size,
    align: btfAlignOf(btf, v.typeId),
    typeSize,
    type: skelTypeOf(btf, v.typeId),
  };
}

export interface LskelObjectOptions {
  /**
   * 'bpftool-7.1' (libbpf 1.1) sets BPF_F_MMAPABLE on every internal map; 'v1.7' (default) only
   * on those with a non-static variable (ObjectSpec's `mmapable`).
   */
  flavour?: LskelFlavour;
  pageSize?: number;
}

/** Skeleton maps in object order (internal maps bpftool cannot name are left out, as bpftool does). */
export function lskelMapsFromObject(spec: ObjectSpec, btf: Btf | null, opts: LskelObjectOptions = {}): LskelMap[] {
  const pageSize = opts.pageSize ?? 4096;
  const out: LskelMap[] = [];
  for (const m of spec.maps) {
    const internal = m.origin === 'data' || m.origin === 'rodata' || m.origin === 'bss' || m.origin === 'kconfig';
    const ident = mapIdent(m.name, internal);
    if (ident === null) continue;
    const mmapable = opts.flavour === 'bpftool-7.1' ? internal : internal && m.mmapable;
    if (!mmapable) {
      out.push({ name: m.name, ident, mmap: null });
      continue;
    }
    const ds = btf ? findDatasec(btf, ident) : null;
    const vars = ds && btf ? datasecVars(spec, btf, ds.name).map((v) => lskelVar(btf, v, ds.name !== '.kconfig')) : [];
    out.push({
      name: m.name,
      ident,
      mmap: {
        initialValue: m.initialValue ?? new Uint8Array(m.valueSize),
        mmapSize: mmapSize(m.valueSize, m.maxEntries, pageSize),
        readOnly: (m.flags & BPF_F_RDONLY_PROG) !== 0,
        vars,
      },
    });
  }
  return out;
}

/** Skeleton programs: every entry program (autoload or not) in object order. */
export function lskelProgsFromObject(spec: ObjectSpec): LskelProg[] {
  return spec.programs.map((p) => ({ name: p.name, attach: attachFor(p.type, p.expectedAttachType, p.section) }));
}
