/**
 * Verification as the CLI and the API run it: the signing core's verify() with the kernel model
 * injected (replay of the loader against the manifest's plan) and, when the object is given, the
 * loader re-derived from it with the manifest's recorded options.
 */
import { planFromJson } from '../loader/plan/index.js';
import { replay, compareWithPlan } from '../kernel/replay/index.js';
import type { KernelProfile } from '../kernel/profile/index.js';
import { verify, type ReplayOutcome } from '../signing/verify.js';
import type { Bundle } from '../signing/bundle.js';
import type { TrustPolicy } from '../signing/policy.js';
import type { Verdict } from '../signing/verdict.js';
import { buildLoader } from './loader.js';
import { readKernelProfile } from './profile.js';

/** The kernel profile replays run against: 'host' (the running kernel, default), a profile directory or a vmlinux BTF file. */
export function loadProfile(spec = 'host'): KernelProfile {
  return readKernelProfile(spec);
}

export function replayOutcome(loader: { insns: Uint8Array; data: Uint8Array }, planJson: unknown, scheme: string, profile: KernelProfile): ReplayOutcome {
  const plan = planFromJson(planJson);
  const report = replay(loader, profile, { scheme: scheme as 'unsigned', nrMaps: plan.nrMaps, nrProgs: plan.programs.length });
  const fault = report.fault ? `${report.fault.code}: ${report.fault.message}` : !report.ok ? `stage ${report.stage} failed with errno ${report.errno}` : null;
  const cmp = compareWithPlan(report, plan);
  return {
    fault, equal: cmp.equal, differences: cmp.differences,
    programs: report.progs.map((p) => ({ name: p.name, type: p.typeName, insns: p.insnCnt, helpers: p.helpers })),
    maps: report.maps.map((m) => ({ name: m.name, type: m.typeName, maxEntries: m.maxEntries })),
    report,
  };
}

export function verifyBundle(bundle: Bundle, policy: TrustPolicy, opts: { at: Date; object?: Uint8Array; profile?: KernelProfile | null }): Verdict<ReplayOutcome> {
  const profile = opts.profile;
  return verify(bundle, policy, {
    at: opts.at,
    replay: profile ? (loader, plan, scheme) => replayOutcome(loader, plan, scheme, profile) : undefined,
    rederive: opts.object ? (m) => {
      const o = m.object as { name: string; file: string };
      const options = m.options as { flavour: 'v1.7'; standalone: boolean; kernel: { mapExcl: boolean }; host: Record<string, unknown> };
      const host = { ...options.host, ksymAddresses: Object.fromEntries(Object.entries((options.host.ksymAddresses ?? {}) as Record<string, string>).map(([k, v]) => [k, BigInt(v)])) };
      const built = buildLoader(opts.object!, o.file, { scheme: m.scheme as 'unsigned', name: o.name, flavour: options.flavour, standalone: options.standalone, mapExcl: options.kernel.mapExcl, host });
      return { insns: built.loader.insns, data: built.loader.data, plan: built.plan };
    } : undefined,
  });
}
