/**
 * Test support: this machine's values for the host inputs a loader bakes in (possible CPUs,
 * kconfig, kernel version, typeless ksym addresses), read the way libbpf reads them, and a
 * private bpffs mount for pinning tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { HostOptions } from '../../src/loader/plan/index.js';
import type { ObjectSpec } from '../../src/loader/object/index.js';

/** Highest possible CPU + 1, from /sys/devices/system/cpu/possible (libbpf_num_possible_cpus). */
export function possibleCpus(): number {
  try {
    let n = 0;
    for (const part of readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      n = Math.max(n, (b ?? a) + 1);
    }
    return n || 1;
  } catch {
    return 1;
  }
}

let kconfigCache: Record<string, string> | null | undefined;
/** CONFIG_*=value lines of /boot/config-$(uname -r) or /proc/config.gz (libbpf's order); null when neither exists. */
export function hostKconfig(): Record<string, string> | null {
  if (kconfigCache !== undefined) return kconfigCache;
  let text: string | null = null;
  const boot = `/boot/config-${release()}`;
  if (existsSync(boot)) text = readFileSync(boot, 'utf8');
  else if (existsSync('/proc/config.gz')) text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  if (text === null) return (kconfigCache = null);
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return (kconfigCache = out);
}

/** uname release → KERNEL_VERSION(a, b, min(c, 255)), as libbpf's get_kernel_version. */
export function hostKernelVersion(): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release());
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

let kallsyms: Map<string, bigint> | undefined;
/** Symbol → address from /proc/kallsyms (first occurrence; zero addresses mean "hidden" and are dropped). */
export function kallsymsTable(): Map<string, bigint> {
  if (kallsyms) return kallsyms;
  kallsyms = new Map();
  try {
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [addr, , name] = line.split(/\s+/);
      if (!name || kallsyms.has(name)) continue;
      const v = BigInt('0x' + addr);
      if (v !== 0n) kallsyms.set(name, v);
    }
  } catch {
    /* no kallsyms: every lookup misses */
  }
  return kallsyms;
}

export interface HostInputsUsed {
  host: HostOptions;
  ksyms: { name: string; address: bigint | null; weak: boolean; zeroed?: boolean }[];
}

/**
 * Host options for comparing with bpftool on this machine: possible CPUs, kconfig and kernel
 * version as libbpf reads them, and /proc/kallsyms addresses for the object's typeless ksyms
 * (absent ones are left out: weak ones then read as 0). With `absentStrongAsZero`, absent
 * strong ones are passed as address 0 too (marked `zeroed`), as `--ksym NAME=0` would.
 */
export function hostOptionsFor(spec: ObjectSpec, opts: { absentStrongAsZero?: boolean } = {}): HostInputsUsed {
  const host: HostOptions = { possibleCpus: possibleCpus(), kernelVersion: hostKernelVersion() };
  const kc = hostKconfig();
  if (kc) host.kconfig = kc;
  const ksyms: HostInputsUsed['ksyms'] = [];
  const addrs: Record<string, bigint> = {};
  for (const e of spec.externs) {
    if (e.kind !== 'ksym' || e.typed || e.func) continue;
    const a = kallsymsTable().get(e.name) ?? null;
    const zeroed = a === null && !e.weak && opts.absentStrongAsZero === true;
    ksyms.push({ name: e.name, address: a, weak: e.weak, ...(zeroed ? { zeroed } : {}) });
    if (a !== null) addrs[e.name] = a;
    else if (zeroed) addrs[e.name] = 0n;
  }
  if (Object.keys(addrs).length) host.ksymAddresses = addrs;
  return { host, ksyms };
}

export type BpffsMount = { ok: true; dir: string; unmount: () => void } | { ok: false; reason: string };

/** Mount a private bpffs on a fresh temporary directory (needs CAP_SYS_ADMIN). */
export function mountBpffs(): BpffsMount {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-bpffs-'));
  const r = spawnSync('mount', ['-t', 'bpf', 'bpf', dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmdirSync(dir);
    return { ok: false, reason: `mount -t bpf bpf ${dir} failed: ${r.error?.message ?? r.stderr.trim()}` };
  }
  return {
    ok: true,
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      try {
        rmdirSync(dir);
      } catch {
        /* still mounted: leave it */
      }
    },
  };
}
