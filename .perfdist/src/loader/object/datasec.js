/**
 * DATASEC layouts as libbpf sees them after its BTF fix-up (libbpf btf_fixup_datasec):
 * compilers may leave a DATASEC's size and variable offsets at 0 (clang 14 does), so when
 * the size is 0 it becomes the ELF section's size and each variable's offset its ELF symbol
 * value. Variables whose symbol is hidden or internal count as static. Entries are sorted
 * by offset.
 */
import { LoaderError } from '../errors.js';
import { STV } from '../elf/index.js';
export function datasecLayout(elf, btf, name) {
    if (!btf)
        return null;
    const id = btf.findByName(name, 'DATASEC');
    if (id === undefined)
        return null;
    const ds = btf.type(id);
    if (ds.kind !== 'DATASEC')
        return null;
    const sec = elf.section(name);
    const fix = ds.size === 0 && sec !== undefined;
    const vars = [];
    for (const vsi of ds.vars) {
        const v = btf.type(vsi.type);
        if (v.kind !== 'VAR')
            continue;
        const sym = sec ? elf.symbols.find((s) => s.shndx === sec.index && s.name === v.name) : undefined;
        if (fix && !sym) {
            throw new LoaderError('OBJECT_MALFORMED', `DATASEC ${name}: variable '${v.name}' has no ELF symbol in section ${name}`, { section: name, symbol: v.name, typeId: vsi.type });
        }
        const hidden = sym !== undefined && (sym.visibility === STV.HIDDEN || sym.visibility === STV.INTERNAL);
        vars.push({
            id: vsi.type, name: v.name, typeId: v.type,
            offset: fix && sym ? sym.value : vsi.offset,
            size: vsi.size,
            linkage: hidden && v.linkage !== 2 ? 0 : v.linkage,
        });
    }
    vars.sort((a, b) => a.offset - b.offset);
    const size = fix && sec ? sec.size : ds.size;
    for (const v of vars) {
        if (v.offset + v.size > size && sec !== undefined) {
            throw new LoaderError('OBJECT_MALFORMED', `DATASEC ${name}: variable '${v.name}' [${v.offset}, +${v.size}) past end of section (${size})`, { section: name, symbol: v.name, offset: v.offset, got: v.offset + v.size, want: `<= ${size}` });
        }
    }
    return { id, name, size, vars };
}
//# sourceMappingURL=datasec.js.map