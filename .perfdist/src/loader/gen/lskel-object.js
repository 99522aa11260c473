import { btfAlignOf, btfDecl } from './lskel-decl.js';
import { attachFor, mapIdent, mmapSize, sanitizeIdent } from './lskel.js';
const DATASEC_PREFIXES = ['.data', '.rodata', '.bss', '.kconfig'];
const BPF_F_RDONLY_PROG = 0x80;
/** bpftool's get_datasec_ident: `.data.x` → `data_x`; null for other section names. */
export function datasecIdent(secName) {
    return DATASEC_PREFIXES.some((p) => secName.startsWith(p)) ? sanitizeIdent(secName.slice(1)) : null;
}
/** The DATASEC bpftool pairs with a map identifier: the first (by type id) whose ident matches. */
function findDatasec(btf, ident) {
    for (let id = 1; id < btf.totalCount; id++) {
        const t = btf.type(id);
        if (t.kind === 'DATASEC' && datasecIdent(t.name) === ident)
            return { id, name: t.name };
    }
    return null;
}
function datasecVars(spec, btf, secName) {
    if (secName === '.kconfig') {
        const out = [];
        for (const e of spec.externs) {
            if (e.kind !== 'kconfig' || !e.kconfig)
                continue;
            const v = btf.type(e.btfId);
            if (v.kind !== 'VAR')
                continue;
            out.push({ name: e.name, typeId: v.type, offset: e.kconfig.offset, size: e.kconfig.size });
        }
        return out.sort((a, b) => a.offset - b.offset);
    }
    return spec.globals.filter((g) => g.section === secName && g.linkage !== 'static')
        .map((g) => ({ name: g.name, typeId: g.typeId, offset: g.offset, size: g.size }));
}
function lskelVar(btf, v, stripMods) {
    let typeSize;
    try {
        typeSize = btf.sizeOf(v.typeId);
    }
    catch {
        typeSize = null;
    }
    return {
        name: v.name,
        decl: btfDecl(btf, v.typeId, sanitizeIdent(v.name), 2, stripMods),
        offset: v.offset,
        size: v.size,
        align: btfAlignOf(btf, v.typeId),
        typeSize,
    };
}
/** Skeleton maps in object order (internal maps bpftool cannot name are left out, as bpftool does). */
export function lskelMapsFromObject(spec, btf, opts = {}) {
    const pageSize = opts.pageSize ?? 4096;
    const out = [];
    for (const m of spec.maps) {
        const internal = m.origin === 'data' || m.origin === 'rodata' || m.origin === 'bss' || m.origin === 'kconfig';
        const ident = mapIdent(m.name, internal);
        if (ident === null)
            continue;
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
export function lskelProgsFromObject(spec) {
    return spec.programs.map((p) => ({ name: p.name, attach: attachFor(p.type, p.expectedAttachType, p.section) }));
}
//# sourceMappingURL=lskel-object.js.map