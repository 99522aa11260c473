/**
 * Verification as the CLI and the API run it: the signing core's verify() with the kernel model
 * injected (replay of the loader against the manifest's plan) and, when the object is given, the
 * loader re-derived from it with the manifest's recorded options.
 */
import { readFileSync, existsSync } from 'node:fs';
import { parseBtf } from '../loader/btf/index.js';
import { planFromJson } from '../loader/plan/index.js';
import { replay, compareWithPlan } from '../kernel/replay/index.js';
import { profileView } from '../kernel/bpf/index.js';
import { verify } from '../signing/verify.js';
import { buildLoader } from './loader.js';
/** The kernel profile replays run against: a vmlinux BTF file (default: the running kernel's). */
export function loadProfile(btfPath = '/sys/kernel/btf/vmlinux') {
    if (!existsSync(btfPath))
        throw new Error(`kernel profile: ${btfPath} does not exist; pass a vmlinux BTF file`);
    return profileView({ name: btfPath, version: 0x061200, btf: parseBtf(new Uint8Array(readFileSync(btfPath))) });
}
export function replayOutcome(loader, planJson, scheme, profile) {
    const plan = planFromJson(planJson);
    const report = replay(loader, profile, { scheme: scheme, nrMaps: plan.nrMaps, nrProgs: plan.programs.length });
    const fault = report.fault ? `${report.fault.code}: ${report.fault.message}` : !report.ok ? `stage ${report.stage} failed with errno ${report.errno}` : null;
    const cmp = compareWithPlan(report, plan);
    return {
        fault, equal: cmp.equal, differences: cmp.differences,
        programs: report.progs.map((p) => ({ name: p.name, type: p.typeName, insns: p.insnCnt, helpers: p.helpers })),
        maps: report.maps.map((m) => ({ name: m.name, type: m.typeName, maxEntries: m.maxEntries })),
        report,
    };
}
export function verifyBundle(bundle, policy, opts) {
    const profile = opts.profile;
    return verify(bundle, policy, {
        at: opts.at,
        replay: profile ? (loader, plan, scheme) => replayOutcome(loader, plan, scheme, profile) : undefined,
        rederive: opts.object ? (m) => {
            const o = m.object;
            const options = m.options;
            const host = { ...options.host, ksymAddresses: Object.fromEntries(Object.entries((options.host.ksymAddresses ?? {})).map(([k, v]) => [k, BigInt(v)])) };
            const built = buildLoader(opts.object, o.file, { scheme: m.scheme, name: o.name, flavour: options.flavour, standalone: options.standalone, mapExcl: options.kernel.mapExcl, host });
            return { insns: built.loader.insns, data: built.loader.data, plan: built.plan };
        } : undefined,
    });
}
//# sourceMappingURL=verify.js.map