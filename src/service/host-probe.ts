/**
 * What the running kernel does with bpf(), found by asking it: a small C program (built with gcc
 * against Debian's libbpf) loads and creates things and prints what the kernel answered —
 * map and program types (libbpf_probe_bpf_map_type / _prog_type, own probes for types libbpf
 * 1.1 does not know), the helpers each program type may call (a `call helper; exit` load per
 * (program type, helper) pair, refused when the verifier says "invalid func"/"unknown func"/
 * "cannot use helper"), which trampoline attach types the kernel refuses before verification
 * (fentry/fexit/fmod_ret/lsm against a function of its BTF: EPERM, EOPNOTSUPP or ENOTSUPP), and
 * whether a signed BPF_PROG_LOAD gets to verification (EOPNOTSUPP: no
 * CONFIG_SYSTEM_DATA_VERIFICATION). scripts/make-profile.ts writes the result into a profile
 * directory; `--profile host` (src/service/profile.ts) caches it per kernel release and boot.
 * When the probe cannot run (no gcc or libbpf, bpf() not permitted), the kernel config
 * (/boot/config-RELEASE or /proc/config.gz) still says whether signatures can be verified.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, release as osRelease, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseBtf, type Btf } from '../loader/btf/index.js';
import { HELPER_NAMES } from '../loader/isa/index.js';
import { ATTACH_TYPE, MAP_TYPE_NAME, PROG_TYPE, PROG_TYPE_NAME } from '../loader/uapi/enums.js';
import type { ProfileParts, RefusedAttach } from '../kernel/profile/index.js';

const PROBE_C = String.raw`
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level l, const char *f, va_list ap) { (void)l; (void)f; (void)ap; return 0; }

static long sys_bpf(int cmd, void *attr, unsigned size) { return syscall(__NR_bpf, cmd, attr, size); }

/* r0 = 0; exit, loaded with the given type / attach type / btf id; returns 0 or -errno. */
static int load_min(int type, int eat, int btf_id, const void *sig, unsigned sig_sz, unsigned attr_sz)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned char attr[256];
	union bpf_attr *a = (union bpf_attr *)attr;
	long fd;

	memset(attr, 0, sizeof(attr));
	a->prog_type = type;
	a->expected_attach_type = eat;
	a->attach_btf_id = btf_id;
	a->insns = (unsigned long)insns;
	a->insn_cnt = 2;
	a->license = (unsigned long)"GPL";
	if (sig) {
		*(unsigned long long *)(attr + 152) = (unsigned long)sig;	/* signature */
		*(unsigned *)(attr + 160) = sig_sz;				/* signature_size */
		*(int *)(attr + 164) = 0;					/* keyring_id */
	}
	fd = sys_bpf(BPF_PROG_LOAD, attr, attr_sz);
	if (fd < 0) return -errno;
	close((int)fd);
	return 0;
}

/* call helper; exit. 1: the verifier accepts the call for this type, 0: it does not, <0: cannot tell. */
static int probe_helper(int type, int helper)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = helper },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[65536];
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	switch (type) {
	case BPF_PROG_TYPE_TRACING: case BPF_PROG_TYPE_LSM: case BPF_PROG_TYPE_EXT: case BPF_PROG_TYPE_STRUCT_OPS:
		return -EOPNOTSUPP;	/* need an attach target: not probed */
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: a.expected_attach_type = BPF_CGROUP_INET4_CONNECT; break;
	case BPF_PROG_TYPE_CGROUP_SOCKOPT: a.expected_attach_type = BPF_CGROUP_GETSOCKOPT; break;
	case BPF_PROG_TYPE_SK_LOOKUP: a.expected_attach_type = BPF_SK_LOOKUP; break;
	case BPF_PROG_TYPE_SYSCALL: a.prog_flags = BPF_F_SLEEPABLE; break;
	case 32: a.expected_attach_type = 45; break;	/* NETFILTER */
	}
	a.insns = (unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = 0;
	fd = sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0) { close((int)fd); return 1; }
	if (strstr(log, "invalid func ") || strstr(log, "unknown func ") || strstr(log, "cannot use helper"))
		return 0;
	if (log[0]) return 1;	/* refused for another reason (arguments, return value): the call itself passed */
	return -errno;
}

int main(int argc, char **argv)
{
	int max_map = atoi(argv[1]), max_prog = atoi(argv[2]), max_helper = atoi(argv[3]);
	int t, h, first, i;
	unsigned char junk[64];

	libbpf_set_print(quiet);
	printf("{\"maps\":[");
	for (t = 1, first = 1; t <= max_map; t++) {
		int r = libbpf_probe_bpf_map_type(t, NULL);
		if (r == -EOPNOTSUPP && t == 33) {	/* ARENA: unknown to libbpf 1.1 */
			LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = 1U << 10);
			int fd = bpf_map_create(t, NULL, 0, 0, 1, &o);
			r = fd >= 0 ? 1 : 0;
			if (fd >= 0) close(fd);
		}
		printf("%s[%d,%d]", first ? "" : ",", t, r); first = 0;
	}
	printf("],\"progs\":[");
	for (t = 1, first = 1; t <= max_prog; t++) {
		int r = libbpf_probe_bpf_prog_type(t, NULL);
		if (r == -EOPNOTSUPP && t == 32)	/* NETFILTER: unknown to libbpf 1.1 */
			r = load_min(t, 45, 0, NULL, 0, 128) == 0;
		printf("%s[%d,%d]", first ? "" : ",", t, r); first = 0;
	}
	printf("],\"helpers\":[");
	for (t = 1, first = 1; t <= max_prog; t++) {
		printf("%s[%d,[", first ? "" : ",", t); first = 0;
		for (h = 1; h <= max_helper; h++)
			printf("%s%d", h > 1 ? "," : "", probe_helper(t, h));
		printf("]]");
	}
	printf("],\"attach\":[");
	for (i = 4, first = 1; i + 2 < argc; i += 3) {
		printf("%s[%d,%d,%d]", first ? "" : ",", atoi(argv[i]), atoi(argv[i + 1]),
		       load_min(atoi(argv[i]), atoi(argv[i + 1]), atoi(argv[i + 2]), NULL, 0, 128));
		first = 0;
	}
	memset(junk, 0x30, sizeof(junk));
	printf("],\"signature\":%d}\n", load_min(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, junk, sizeof(junk), 168));
	return 0;
}
`;

const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  7: 'E2BIG',
  13: 'EACCES',
  14: 'EFAULT',
  22: 'EINVAL',
  95: 'EOPNOTSUPP',
  524: 'ENOTSUPP',
};

/** The probe program's output: [type, 1/0/-errno] per map and program type, helper answers per program type, [progType, attachType, 0/-errno] per attach probe, the signed load's 0/-errno. */
export interface ProbeOutput {
  maps: [number, number][];
  progs: [number, number][];
  helpers: [number, number[]][];
  attach: [number, number, number][];
  signature: number;
}

/** What a probe found, in the terms of a profile. */
export type ProbedParts = Required<
  Pick<ProfileParts, 'mapTypes' | 'progTypes' | 'helpers' | 'refusedAttachTypes' | 'signatureVerification'>
>;

/** The trampoline attach types probed, each against a function of the kernel's BTF (the first one it has). */
const ATTACH_TARGETS: [string, string, string[]][] = [
  ['TRACING', 'TRACE_FENTRY', ['do_unlinkat', 'bpf_fentry_test1']],
  ['TRACING', 'TRACE_FEXIT', ['do_unlinkat', 'bpf_fentry_test1']],
  ['TRACING', 'MODIFY_RETURN', ['bpf_modify_return_test']],
  ['TRACING', 'TRACE_RAW_TP', ['btf_trace_sched_switch']],
  ['TRACING', 'TRACE_ITER', ['bpf_iter_task']],
  ['LSM', 'LSM_MAC', ['bpf_lsm_file_open']],
];

/** Builds and runs the probe: its output, or why it could not run. */
export function runProbe(vmlinux: Btf): { ok: true; output: ProbeOutput } | { ok: false; reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-probe-'));
  try {
    writeFileSync(join(dir, 'probe.c'), PROBE_C);
    const cc = spawnSync('gcc', ['-O1', '-o', join(dir, 'probe'), join(dir, 'probe.c'), '-lbpf'], { encoding: 'utf8' });
    if (cc.error) return { ok: false, reason: `cannot build the probe: ${cc.error.message}` };
    if (cc.status !== 0)
      return {
        ok: false,
        reason: `cannot build the probe (gcc and libbpf-dev are needed): ${cc.stderr.trim().split('\n').slice(0, 3).join(' ')}`,
      };
    const args: string[] = [];
    for (const [pt, at, fns] of ATTACH_TARGETS) {
      const id = fns.map((fn) => vmlinux.findByName(fn)).find((x) => x !== undefined);
      if (id !== undefined)
        args.push(String(PROG_TYPE[pt as keyof typeof PROG_TYPE]), String(ATTACH_TYPE[at as keyof typeof ATTACH_TYPE]), String(id));
    }
    const maxMap = Math.max(...Object.keys(MAP_TYPE_NAME).map(Number));
    const maxProg = Math.max(...Object.keys(PROG_TYPE_NAME).map(Number));
    const r = spawnSync(join(dir, 'probe'), [String(maxMap), String(maxProg), String(HELPER_NAMES.length - 1), ...args], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 120_000,
    });
    if (r.error) return { ok: false, reason: `the probe did not run: ${r.error.message}` };
    if (r.status !== 0) return { ok: false, reason: `the probe failed (${r.status ?? r.signal}): ${r.stderr.trim()}` };
    const output = JSON.parse(r.stdout) as ProbeOutput;
    // A socket filter is the one program type every bpf()-capable kernel loads: when even that
    // failed, bpf() is not permitted here and the answers say nothing about the kernel.
    if (!output.progs.some(([t, ok]) => t === 1 && ok === 1))
      return { ok: false, reason: 'bpf() is not permitted here (a socket filter does not load)' };
    return { ok: true, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A probe's output as profile parts. */
export function probedParts(probe: ProbeOutput): ProbedParts {
  const helpers: Record<string, number[] | null> = {};
  const refused: RefusedAttach[] = [];
  for (const [t, res] of probe.helpers) {
    const name = PROG_TYPE_NAME[t];
    if (!name || !probe.progs.some(([p, ok]) => p === t && ok === 1)) continue;
    helpers[name] = res.some((r) => r < 0) ? null : res.flatMap((r, i) => (r === 1 ? [i + 1] : []));
  }
  for (const [pt, at, r] of probe.attach) {
    if (r !== -1 && r !== -95 && r !== -524) continue; // EPERM / EOPNOTSUPP: refused; other errors are the probe program's fault
    const attachName = Object.entries(ATTACH_TYPE).find(([, v]) => v === at)?.[0] ?? String(at);
    refused.push({ progType: PROG_TYPE_NAME[pt]!, attachType: attachName, errno: ERRNO[-r] ?? String(-r) });
  }
  return {
    mapTypes: [...new Set(probe.maps.filter(([t, ok]) => ok === 1 && MAP_TYPE_NAME[t]).map(([t]) => MAP_TYPE_NAME[t]!))],
    progTypes: probe.progs.filter(([t, ok]) => ok === 1 && PROG_TYPE_NAME[t]).map(([t]) => PROG_TYPE_NAME[t]!),
    helpers,
    refusedAttachTypes: refused,
    // EOPNOTSUPP: no CONFIG_SYSTEM_DATA_VERIFICATION; E2BIG: a kernel without the signature fields.
    signatureVerification: probe.signature !== -95 && probe.signature !== -7,
  };
}

/** CONFIG_*=y|m symbols of the running kernel (/boot/config-RELEASE, else /proc/config.gz, as libbpf reads them); null when neither can be read. */
export function kernelConfig(release = osRelease()): Set<string> | null {
  try {
    const boot = `/boot/config-${release}`;
    const text = existsSync(boot) ? readFileSync(boot, 'utf8') : gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    return new Set([...text.matchAll(/^(CONFIG_[A-Za-z0-9_]+)=[ym]$/gm)].map((m) => m[1]!));
  } catch {
    return null;
  }
}

export const HOST_PROBE_FORMAT = 'bpfsign-host-probe/1';

/** How the host profile learnt what it knows: a probe now, a probe cached this boot, the kernel config only, or nothing. */
export interface HostProbe {
  source: 'probe' | 'cache' | 'config' | 'none';
  /** Why the probe did not run (source config or none). */
  reason?: string;
  /** The cache file read or written, if any. */
  cacheFile?: string;
  parts: Partial<ProbedParts>;
}

export interface HostProbeOptions {
  /** Where the result is kept (default $BPFSIGN_CACHE_DIR, else $XDG_CACHE_HOME/bpfsign, else ~/.cache/bpfsign); null: not cached. */
  cacheDir?: string | null;
  /** `uname -r` (default: the running kernel's). */
  release?: string;
  /** Do not probe; use the cache or the config. */
  noProbe?: boolean;
}

function defaultCacheDir(): string {
  if (process.env.BPFSIGN_CACHE_DIR) return process.env.BPFSIGN_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bpfsign');
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * The running kernel's probed behaviour: from the cache when this kernel release and boot were
 * probed before, else probed now (and cached), else what its config says. `vmlinuxBtf` gives
 * the probe's attach targets (parsed only when probing). A probe's answers
 * hold for one boot (a module or sysctl may change them at the next), hence the boot id.
 */
export function hostProbe(vmlinuxBtf: Uint8Array, opts: HostProbeOptions = {}): HostProbe {
  const release = opts.release ?? osRelease();
  const boot = bootId();
  const dir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
  const file = dir && boot ? join(dir, `host-probe-${release.replace(/[^A-Za-z0-9._-]/g, '_')}-${boot}.json`) : undefined;
  if (file && existsSync(file)) {
    try {
      const j = JSON.parse(readFileSync(file, 'utf8')) as { format?: string; release?: string; bootId?: string; parts?: ProbedParts };
      if (j.format === HOST_PROBE_FORMAT && j.release === release && j.bootId === boot && j.parts)
        return { source: 'cache', cacheFile: file, parts: j.parts };
    } catch {
      /* a damaged cache file is probed again and rewritten */
    }
  }
  let reason = 'probing was not asked for';
  if (!opts.noProbe) {
    let r: ReturnType<typeof runProbe>;
    try {
      r = runProbe(parseBtf(vmlinuxBtf));
    } catch (e) {
      r = { ok: false, reason: `the probe's attach targets: ${(e as Error).message}` };
    }
    if (r.ok) {
      const parts = probedParts(r.output);
      if (file) {
        try {
          mkdirSync(dir!, { recursive: true });
          writeFileSync(file, `${JSON.stringify({ format: HOST_PROBE_FORMAT, release, bootId: boot, parts }, null, 1)}\n`);
        } catch {
          /* an unwritable cache costs a probe next time, nothing else */
        }
      }
      return { source: 'probe', ...(file ? { cacheFile: file } : {}), parts };
    }
    reason = r.reason;
  }
  const config = kernelConfig(release);
  if (config === null) return { source: 'none', reason: `${reason}; the kernel config cannot be read either`, parts: {} };
  return { source: 'config', reason, parts: { signatureVerification: config.has('CONFIG_SYSTEM_DATA_VERIFICATION') } };
}
