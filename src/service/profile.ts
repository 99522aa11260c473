/**
 * Kernel profiles from the file system, for the CLI and the API: `host` (the running kernel:
 * /sys/kernel/btf/vmlinux and its modules' BTF, `uname -r`, /proc/kallsyms when its addresses
 * are visible, and what probing it with bpf() found — signature support, refused attach types,
 * helpers per program type — cached per release and boot, see host-probe.ts), a profile directory (profile.json and its files, as scripts/make-profile.ts
 * writes them, e.g. test/fixtures/profiles/linux-6.18-min), or a raw vmlinux BTF file (taken
 * as Linux 6.18). What the profile does not say, the model takes from its version and BTF.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join, relative } from 'node:path';
import { parseBtf } from '../loader/btf/index.js';
import { profileFromFiles, profileFromParts, profileView, type KernelProfile } from '../kernel/profile/index.js';
import { hostProbe, type HostProbe, type HostProbeOptions } from './host-probe.js';

export type { HostProbe, HostProbeOptions } from './host-probe.js';

const SYS_BTF = '/sys/kernel/btf';

function fail(spec: string, message: string, cause?: unknown): never {
  throw new Error(`kernel profile ${spec}: ${message}`, cause === undefined ? undefined : { cause });
}

/** The running kernel's profile, and how its probed parts were learnt (probe, cache, config, none). */
export function readHostProfile(opts: HostProbeOptions = {}): { profile: KernelProfile; probe: HostProbe } {
  const vmlinuxPath = join(SYS_BTF, 'vmlinux');
  if (!existsSync(vmlinuxPath)) fail('host', `${vmlinuxPath} does not exist; pass a vmlinux BTF file or a profile directory`);
  const vmlinuxBtf = new Uint8Array(readFileSync(vmlinuxPath));
  const moduleBtf: Record<string, Uint8Array> = {};
  for (const f of readdirSync(SYS_BTF)) if (f !== 'vmlinux') moduleBtf[f] = new Uint8Array(readFileSync(join(SYS_BTF, f)));
  let kallsyms: string | undefined;
  try {
    const text = readFileSync('/proc/kallsyms', 'utf8');
    // Without CAP_SYSLOG every address reads as zero: kallsyms then says nothing.
    if (/^0*[1-9a-fA-F][0-9a-fA-F]* /m.test(text)) kallsyms = text;
  } catch {
    /* no kallsyms: not known */
  }
  const probe = hostProbe(vmlinuxBtf, opts);
  const parts = { name: 'host', release: opts.release ?? release(), vmlinuxBtf, moduleBtf, kallsyms, ...probe.parts };
  try {
    return { profile: profileFromParts(parts), probe };
  } catch (e) {
    // A module BTF the parser does not take should not cost the kernel's own.
    if (Object.keys(moduleBtf).length)
      try {
        return { profile: profileFromParts({ ...parts, moduleBtf: {} }), probe };
      } catch {
        /* the first error says it */
      }
    return fail('host', (e as Error).message, e);
  }
}

function readDir(dir: string, root = dir, out = new Map<string, Uint8Array>()): Map<string, Uint8Array> {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) readDir(p, root, out);
    else if (f !== 'README.md') out.set(relative(root, p).split('\\').join('/'), new Uint8Array(readFileSync(p)));
  }
  return out;
}

/** The profile `spec` names: 'host', a profile directory, or a vmlinux BTF file. */
export function readKernelProfile(spec: string): KernelProfile {
  if (spec === 'host') return readHostProfile().profile;
  if (!existsSync(spec)) fail(spec, 'no such file or directory; want host, a profile directory or a vmlinux BTF file');
  try {
    if (statSync(spec).isDirectory()) return profileFromFiles(readDir(spec));
    const bytes = new Uint8Array(readFileSync(spec));
    return profileView({ name: spec, version: 0x061200, vmlinux: parseBtf(bytes), vmlinuxBytes: bytes });
  } catch (e) {
    return fail(spec, (e as Error).message, e);
  }
}
