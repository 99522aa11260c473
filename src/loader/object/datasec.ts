/**
 * DATASEC layouts as libbpf sees them after its BTF fix-up (libbpf btf_fixup_datasec):
 * compilers may leave a DATASEC's size and variable offsets at 0 (clang 14 does), so when
 * the size is 0 it becomes the ELF section's size and each variable's offset its ELF symbol
 * value. Variables whose symbol is hidden or internal count as static. Entries are sorted
 * by offset.
 */
import { LoaderError } from '../errors.js';
import type { Btf } from '../btf/index.js';
import { STV, type ElfFile, type ElfSymbol } from '../elf/index.js';

export interface DatasecVar {
  /** BTF id of the VAR. */
  id: number;
  name: string;
  /** BTF id of the variable's type. */
  typeId: number;
  offset: number;
  size: number;
  /** BTF VAR linkage after the fix-up: 0 static, 1 global, 2 extern. */
  linkage: number;
}

export interface DatasecLayout {
  id: number;
  name: string;
  size: number;
  vars: DatasecVar[];
}

export function datasecLayout(elf: ElfFile, btf: Btf | null, name: string): DatasecLayout | null {
  if (!btf) return null;
  const id = btf.findByName(name, 'DATASEC');
  if (id === undefined) return null;
  const ds = btf.type(id);
  if (ds.kind !== 'DATASEC') return null;
  const sec = elf.section(name);
  const fix = ds.size === 0 && sec !== undefined;
  // The first symbol of the section with each name (what a find() per variable would return).
  const symByName = new Map<string, ElfSymbol>();
  if (sec) for (const s of elf.symbols) if (s.shndx === sec.index && !symByName.has(s.name)) symByName.set(s.name, s);
  const vars: DatasecVar[] = [];
  for (const vsi of ds.vars) {
    const v = btf.type(vsi.type);
    if (v.kind !== 'VAR') continue;
    const sym = symByName.get(v.name);
    if (fix && !sym) {
      throw new LoaderError('OBJECT_MALFORMED', `DATASEC ${name}: variable '${v.name}' has no ELF symbol in section ${name}`, {
        section: name,
        symbol: v.name,
        typeId: vsi.type,
      });
    }
    const hidden = sym !== undefined && (sym.visibility === STV.HIDDEN || sym.visibility === STV.INTERNAL);
    vars.push({
      id: vsi.type,
      name: v.name,
      typeId: v.type,
      offset: fix && sym ? sym.value : vsi.offset,
      size: vsi.size,
      linkage: hidden && v.linkage !== 2 ? 0 : v.linkage,
    });
  }
  vars.sort((a, b) => a.offset - b.offset);
  const size = fix && sec ? sec.size : ds.size;
  for (const v of vars) {
    if (v.offset + v.size > size && sec !== undefined) {
      throw new LoaderError(
        'OBJECT_MALFORMED',
        `DATASEC ${name}: variable '${v.name}' [${v.offset}, +${v.size}) past end of section (${size})`,
        { section: name, symbol: v.name, offset: v.offset, got: v.offset + v.size, want: `<= ${size}` },
      );
    }
  }
  return { id, name, size, vars };
}
