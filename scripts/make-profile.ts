/**
 * make-profile: builds a kernel profile of the running host and writes it to a directory
 * (profile.json, vmlinux.btf, modules/<name>.btf, kallsyms).
 *
 *   node dist/scripts/make-profile.js OUT_DIR [--name NAME] [--kallsyms] [--no-probe]
 *        [--minimize-for OBJ.o ...]
 *
 * Probing compiles a small C program against Debian's libbpf and runs it: map and program
 * type support (libbpf_probe_bpf_map_type / _prog_type, own probes for types libbpf 1.1 does
 * not know), the helpers each program type may call (as libbpf_probe_bpf_helper does, with 6.18's message: a load of
 * `call helper; exit` per (program type, helper) pair, refused when the verifier says
 * "invalid func"/"unknown func"/"cannot use helper"), which tracing attach types the kernel refuses, and whether
 * BPF_PROG_LOAD verifies signatures. --minimize-for replaces vmlinux BTF by the subset the
 * given objects need (CO-RE candidates, attach targets, kfuncs, typed ksyms, struct_ops types).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Btf, parseBtf } from '../src/loader/btf/index.js';
import { parseElf } from '../src/loader/elf/index.js';
import { HELPER_NAMES } from '../src/loader/isa/index.js';
import { parseObject } from '../src/loader/object/index.js';
import { ATTACH_TYPE, MAP_TYPE_NAME, PROG_TYPE, PROG_TYPE_NAME } from '../src/loader/uapi/enums.js';
import { essentialName } from '../src/kernel/core/index.js';
import { minimizeBtf, profileFromParts, profileToFiles, type RefusedAttach } from '../src/kernel/profile/index.js';

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

const ERRNO: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 7: 'E2BIG', 13: 'EACCES', 14: 'EFAULT', 22: 'EINVAL', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP' };

interface ProbeOut { maps: [number, number][]; progs: [number, number][]; helpers: [number, number[]][]; attach: [number, number, number][]; signature: number }

function runProbe(vmlinux: Btf): ProbeOut {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-profile-'));
  writeFileSync(join(dir, 'probe.c'), PROBE_C);
  const cc = spawnSync('gcc', ['-O1', '-o', join(dir, 'probe'), join(dir, 'probe.c'), '-lbpf'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cannot build the probe: ${cc.stderr}`);
  const targets: [string, string, string][] = [
    ['TRACING', 'TRACE_FENTRY', 'do_unlinkat'], ['TRACING', 'TRACE_FEXIT', 'do_unlinkat'], ['TRACING', 'MODIFY_RETURN', 'bpf_modify_return_test'],
    ['TRACING', 'TRACE_RAW_TP', 'btf_trace_sched_switch'], ['TRACING', 'TRACE_ITER', 'bpf_iter_task'], ['LSM', 'LSM_MAC', 'bpf_lsm_file_open'],
  ];
  const args: string[] = [];
  for (const [pt, at, fn] of targets) {
    const id = vmlinux.findByName(fn);
    if (id !== undefined) args.push(String(PROG_TYPE[pt as keyof typeof PROG_TYPE]), String(ATTACH_TYPE[at as keyof typeof ATTACH_TYPE]), String(id));
  }
  const maxMap = Math.max(...Object.keys(MAP_TYPE_NAME).map(Number));
  const maxProg = Math.max(...Object.keys(PROG_TYPE_NAME).map(Number));
  const r = spawnSync(join(dir, 'probe'), [String(maxMap), String(maxProg), String(HELPER_NAMES.length - 1), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeOut;
}

/** Root type ids of `vmlinux` the objects need (CO-RE candidates, attach targets, ksyms, struct_ops). */
function rootsFor(vmlinux: Btf, objects: string[]): Set<number> {
  const roots = new Set<number>();
  const byName = (n: string) => vmlinux.findAllByName(n).forEach((id) => roots.add(id));
  const essential = new Map<string, number[]>();
  for (let id = 1; id < vmlinux.totalCount; id++) {
    const n = vmlinux.name(id);
    if (!n) continue;
    const e = essentialName(n);
    essential.set(e, [...(essential.get(e) ?? []), id]);
  }
  for (const path of objects) {
    const bytes = new Uint8Array(readFileSync(path));
    let spec;
    try {
      spec = parseObject(bytes);
    } catch (e) {
      console.error(`skipping ${path}: ${(e as Error).message}`);
      continue;
    }
    const sec = parseElf(bytes).section('.BTF');
    const local = sec ? parseBtf(sec.data) : null;
    for (const p of spec.programs) {
      if (p.attachBtfName) byName(p.attachBtfName);
      if (p.attachTarget) byName(p.attachTarget);
      for (const r of p.coreRelos) {
        if (!local) continue;
        const name = local.name(r.typeId);
        if (name) (essential.get(essentialName(name)) ?? []).forEach((id) => roots.add(id));
      }
    }
    for (const e of spec.externs) if (e.kind === 'ksym') byName(e.name);
    for (const m of spec.maps) if (m.structOps) { byName(m.structOps.typeName); byName(`bpf_struct_ops_${m.structOps.typeName}`); }
  }
  byName('bpf_map');
  return roots;
}

function main(): void {
  const argv = process.argv.slice(2);
  const out = argv[0];
  if (!out || out.startsWith('--')) throw new Error('usage: make-profile OUT_DIR [--name NAME] [--kallsyms] [--no-probe] [--minimize-for OBJ...]');
  const flag = (f: string) => argv.includes(f);
  const nameAt = argv.indexOf('--name');
  const minAt = argv.indexOf('--minimize-for');
  const minObjs = minAt >= 0 ? argv.slice(minAt + 1).filter((a) => !a.startsWith('--')) : [];
  let vmlinuxBytes: Uint8Array = new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux'));
  const vmlinux = parseBtf(vmlinuxBytes);
  const moduleBtf: Record<string, Uint8Array> = {};
  if (minObjs.length === 0) {
    for (const f of readdirSync('/sys/kernel/btf')) if (f !== 'vmlinux') moduleBtf[f] = new Uint8Array(readFileSync(join('/sys/kernel/btf', f)));
  } else {
    const m = minimizeBtf(vmlinux, rootsFor(vmlinux, minObjs));
    console.error(`minimised vmlinux BTF: ${vmlinuxBytes.length} -> ${m.bytes.length} bytes (${m.full} types kept whole, ${m.shells} shells)`);
    vmlinuxBytes = m.bytes;
  }
  const probe = flag('--no-probe') ? null : runProbe(vmlinux);
  const helpers: Record<string, number[] | null> = {};
  const refused: RefusedAttach[] = [];
  if (probe) {
    for (const [t, res] of probe.helpers) {
      const name = PROG_TYPE_NAME[t];
      if (!probe.progs.some(([p, ok]) => p === t && ok === 1)) continue;
      helpers[name] = res.some((r) => r < 0) ? null : res.flatMap((r, i) => (r === 1 ? [i + 1] : []));
    }
    for (const [pt, at, r] of probe.attach) {
      if (r !== -1 && r !== -95 && r !== -524) continue; // EPERM / EOPNOTSUPP: refused; other errors are the probe program's fault
      const attachName = Object.entries(ATTACH_TYPE).find(([, v]) => v === at)?.[0] ?? String(at);
      refused.push({ progType: PROG_TYPE_NAME[pt], attachType: attachName, errno: ERRNO[-r] ?? String(-r) });
    }
  }
  const profile = profileFromParts({
    name: nameAt >= 0 ? argv[nameAt + 1] : undefined,
    release: release(),
    vmlinuxBtf: vmlinuxBytes,
    moduleBtf,
    mapTypes: probe ? [...new Set(probe.maps.filter(([, ok]) => ok === 1).map(([t]) => MAP_TYPE_NAME[t]))] : [],
    progTypes: probe ? probe.progs.filter(([, ok]) => ok === 1).map(([t]) => PROG_TYPE_NAME[t]) : [],
    helpers,
    refusedAttachTypes: refused,
    signatureVerification: probe ? probe.signature !== -95 && probe.signature !== -7 : false,
    kallsyms: flag('--kallsyms') && existsSync('/proc/kallsyms') ? readFileSync('/proc/kallsyms', 'utf8') : undefined,
  });
  for (const [rel, bytes] of profileToFiles(profile)) {
    const p = join(out, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, bytes);
  }
  if (probe) console.error(`signature probe: ${probe.signature}; refused attach types: ${refused.map((r) => `${r.attachType}=${r.errno}`).join(', ') || 'none'}`);
  console.error(`wrote ${out}: ${profile.mapTypes.length} map types, ${profile.progTypes.length} program types, bpf_map.excl ${profile.bpfMap.excl !== null}`);
}

main();
