/**
 * Kernel profiles: one target kernel as plain data (BTF, version, what it
 * supports), built from already-read parts and serialised to / read from a
 * set of files (profile.json, vmlinux.btf, modules/<name>.btf, kallsyms).
 * No I/O here: scripts/make-profile.ts reads the host and writes the files.
 */
import { parseBtf } from '../../loader/btf/index.js';
import { MAP_TYPE, PROG_TYPE } from '../../loader/uapi/enums.js';
import { KernelError } from '../errors.js';
import { formatKallsyms, parseKallsyms } from './kallsyms.js';
import { parseKernelRelease } from './version.js';
export const PROFILE_FORMAT = 'bpfsign-kernel-profile/1';
function invalid(message, details = {}) {
    return new KernelError('KERNEL_INVALID', `profile: ${message}`, details);
}
/** Whether `struct bpf_map` in `btf` has a member `excl` directly after `sha`. */
export function hasBpfMapExcl(btf) {
    const id = btf.findByName('bpf_map', 'STRUCT');
    if (id === undefined)
        return false;
    const t = btf.type(id);
    if (t.kind !== 'STRUCT')
        return false;
    const i = t.members.findIndex((m) => m.name === 'sha');
    return i >= 0 && t.members[i + 1]?.name === 'excl';
}
function checkNames(what, names, known) {
    for (const n of names)
        if (!(n in known))
            throw invalid(`unknown ${what} '${n}'`, { got: n });
    return [...new Set(names)].sort((a, b) => known[a] - known[b]);
}
function checkHelpers(h) {
    const out = {};
    for (const k of Object.keys(h).sort((a, b) => PROG_TYPE[a] - PROG_TYPE[b])) {
        if (!(k in PROG_TYPE))
            throw invalid(`helpers for unknown program type '${k}'`, { got: k });
        const v = h[k];
        if (v !== null && (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x <= 0)))
            throw invalid(`helpers of ${k} must be positive integers or null`, { got: v });
        out[k] = v === null ? null : [...new Set(v)].sort((a, b) => a - b);
    }
    return out;
}
function parseBtfOrThrow(what, bytes, base) {
    try {
        return parseBtf(bytes, base ? { base } : {});
    }
    catch (e) {
        throw new KernelError('KERNEL_INVALID', `profile: ${what} is not valid BTF: ${e.message}`, { field: what }, { cause: e });
    }
}
/** Builds a profile from already-read parts (pure). */
export function profileFromParts(p) {
    const version = parseKernelRelease(p.release);
    const vmlinux = parseBtfOrThrow('vmlinux BTF', p.vmlinuxBtf);
    const modules = Object.keys(p.moduleBtf ?? {}).sort().map((name) => ({ name, btf: parseBtfOrThrow(`module BTF '${name}'`, (p.moduleBtf ?? {})[name], vmlinux), bytes: (p.moduleBtf ?? {})[name] }));
    return {
        name: p.name ?? `linux-${version.major}.${version.minor}`,
        release: p.release,
        version,
        vmlinux,
        vmlinuxBytes: p.vmlinuxBtf,
        modules,
        mapTypes: checkNames('map type', p.mapTypes ?? [], MAP_TYPE),
        progTypes: checkNames('program type', p.progTypes ?? [], PROG_TYPE),
        helpers: checkHelpers(p.helpers ?? {}),
        refusedAttachTypes: (p.refusedAttachTypes ?? []).slice().sort((a, b) => (a.attachType < b.attachType ? -1 : a.attachType > b.attachType ? 1 : 0)),
        signatureVerification: p.signatureVerification ?? false,
        bpfMapExcl: hasBpfMapExcl(vmlinux),
        kallsyms: p.kallsyms === undefined ? null : parseKallsyms(p.kallsyms),
    };
}
/** Whether program type `progType` may call helper `id`: true/false, or null when unknown. */
export function helperAllowed(profile, progType, id) {
    const h = profile.helpers[progType];
    if (h === undefined || h === null)
        return null;
    return h.includes(id);
}
const enc = new TextEncoder();
const dec = new TextDecoder();
/** The profile as files: relative path → bytes. */
export function profileToFiles(p) {
    const files = new Map();
    files.set('vmlinux.btf', p.vmlinuxBytes);
    const modules = p.modules.map((m) => ({ name: m.name, file: `modules/${m.name}.btf` }));
    p.modules.forEach((m, i) => files.set(modules[i].file, m.bytes));
    if (p.kallsyms)
        files.set('kallsyms', enc.encode(formatKallsyms(p.kallsyms)));
    const json = {
        format: PROFILE_FORMAT,
        name: p.name,
        release: p.release,
        version: p.version,
        vmlinux: 'vmlinux.btf',
        modules,
        mapTypes: p.mapTypes,
        progTypes: p.progTypes,
        helpers: p.helpers,
        refusedAttachTypes: p.refusedAttachTypes,
        signatureVerification: p.signatureVerification,
        bpfMapExcl: p.bpfMapExcl,
        kallsyms: p.kallsyms ? 'kallsyms' : null,
    };
    files.set('profile.json', enc.encode(`${JSON.stringify(json, null, 1)}\n`));
    return files;
}
/** Reads a profile back from its files (pure: the caller reads them). */
export function profileFromFiles(files) {
    const get = (f) => {
        const b = files.get(f);
        if (!b)
            throw invalid(`missing file '${f}'`, { field: f });
        return b;
    };
    let json;
    try {
        json = JSON.parse(dec.decode(get('profile.json')));
    }
    catch (e) {
        if (e instanceof KernelError)
            throw e;
        throw invalid(`profile.json is not JSON: ${e.message}`);
    }
    if (json.format !== PROFILE_FORMAT)
        throw invalid(`unknown format '${String(json.format)}'`, { got: json.format, want: PROFILE_FORMAT });
    const moduleBtf = {};
    for (const m of json.modules ?? [])
        moduleBtf[m.name] = get(m.file);
    const p = profileFromParts({
        name: json.name,
        release: json.release,
        vmlinuxBtf: get(json.vmlinux),
        moduleBtf,
        mapTypes: json.mapTypes,
        progTypes: json.progTypes,
        helpers: json.helpers,
        refusedAttachTypes: json.refusedAttachTypes,
        signatureVerification: json.signatureVerification,
        kallsyms: json.kallsyms ? dec.decode(get(json.kallsyms)) : undefined,
    });
    if (p.bpfMapExcl !== json.bpfMapExcl)
        throw invalid('bpfMapExcl in profile.json disagrees with the BTF', { got: json.bpfMapExcl, want: p.bpfMapExcl });
    return p;
}
//# sourceMappingURL=profile.js.map