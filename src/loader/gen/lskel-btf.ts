/**
 * The declarations of a light skeleton's global variables as the BTF a loader loads gives them:
 * for each memory-mapped map, the DATASEC bpftool pairs with its identifier, its non-static VARs
 * by offset, each printed with btf_dump's declaration, alignment and sizes (what
 * lskel-object.ts derives from an object, derived here from the loaded BTF instead).
 *
 * The loaded BTF is the object's after libbpf's open-time edits (btf-edits.ts): hidden globals are
 * static VARs there, DATASEC secinfos are sorted by offset with the ELF sizes and offsets filled
 * in, and .kconfig's extern VARs are global with their kconfig offsets. Those are exactly the
 * edits bpftool's skeleton code sees, so a DATASEC's non-static VARs in offset order are the
 * skeleton's members, .kconfig included (its members keep their modifiers, as bpftool prints them).
 */
import type { Btf, BtfType } from '../btf/index.js';
import { LoaderError } from '../errors.js';
import { btfAlignOf, btfDecl } from './lskel-decl.js';
import { skelTypeOf } from './skel-type.js';
import { emitLightSkeleton, type LightSkeletonInput, type LightSkeletonOptions, type LskelVar } from './lskel.js';
import { datasecIdent } from './lskel-object.js';
import { sanitizeIdent } from './lskel.js';

const BTF_VAR_STATIC = 0;

function typeOf(btf: Btf, id: number): BtfType {
  return btf.type(id);
}

/** The DATASEC bpftool pairs with a map identifier: the first (by type id) whose identifier matches. */
export function datasecFor(btf: Btf, ident: string): { id: number; name: string } | null {
  for (let id = 1; id < btf.totalCount; id++) {
    const t = typeOf(btf, id);
    if (t.kind === 'DATASEC' && datasecIdent(t.name) === ident) return { id, name: t.name };
  }
  return null;
}

/**
 * The skeleton members of the DATASEC paired with `ident`, in offset order (empty when the BTF has
 * none, as a skeleton of an object without one prints an empty struct). A DATASEC entry that is
 * not a VAR is a typed error naming it.
 */
export function lskelVarsFromBtf(btf: Btf, ident: string): LskelVar[] {
  const ds = datasecFor(btf, ident);
  if (!ds) return [];
  const sec = typeOf(btf, ds.id);
  if (sec.kind !== 'DATASEC') return [];
  const stripMods = ds.name !== '.kconfig';
  const out: LskelVar[] = [];
  for (const si of [...sec.vars].sort((a, b) => a.offset - b.offset)) {
    const v = typeOf(btf, si.type);
    if (v.kind !== 'VAR') {
      throw new LoaderError('BTF_MALFORMED', `btf: DATASEC '${ds.name}' entry [${si.type}] is a ${v.kind}, not a VAR`, {
        section: ds.name,
        typeId: si.type,
        got: v.kind,
        want: 'VAR',
      });
    }
    if (v.linkage === BTF_VAR_STATIC) continue;
    let typeSize: number | null;
    try {
      typeSize = btf.sizeOf(v.type);
    } catch {
      typeSize = null;
    }
    out.push({
      name: v.name,
      decl: btfDecl(btf, v.type, sanitizeIdent(v.name), 2, stripMods),
      offset: si.offset,
      size: si.size,
      align: btfAlignOf(btf, v.type),
      typeSize,
      type: skelTypeOf(btf, v.type),
    });
  }
  return out;
}

/** The skeleton input with every memory-mapped map's members taken from `btf`. */
export function withBtfVars(input: LightSkeletonInput, btf: Btf): LightSkeletonInput {
  return {
    ...input,
    maps: input.maps.map((m) => (m.mmap ? { ...m, mmap: { ...m.mmap, vars: lskelVarsFromBtf(btf, m.ident) } } : m)),
  };
}

/**
 * The header the emitter prints for `input` with its members declared from `btf`: equal to the
 * header's own text exactly when every declaration, padding and size assert is the loaded BTF's.
 */
export function headerWithBtfVars(input: LightSkeletonInput, options: LightSkeletonOptions, btf: Btf): string {
  return emitLightSkeleton(withBtfVars(input, btf), options);
}
