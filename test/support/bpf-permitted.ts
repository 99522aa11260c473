/**
 * Whether this process may use bpf(): compiles and runs a tiny C probe that creates an
 * array map and loads a two-instruction socket filter. Cached for the process. Tests that
 * need the kernel skip with the reason when it is not ok.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type BpfPermitted = { ok: true } | { ok: false; reason: string };

const PROBE = String.raw`#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

int main(void)
{
	struct bpf_insn insns[2];
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0) {
		printf("BPF_MAP_CREATE: %s (errno %d)\n", strerror(errno), errno);
		return 1;
	}
	close((int)fd);

	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;	/* r0 = 0 */
	insns[1].code = BPF_JMP | BPF_EXIT;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		printf("BPF_PROG_LOAD: %s (errno %d)\n", strerror(errno), errno);
		return 1;
	}
	close((int)fd);
	return 0;
}
`;

let cached: BpfPermitted | undefined;

/** Probe bpf() once per process: ok, or the reason it is unusable (no compiler, EPERM, ...). */
export function bpfPermitted(): BpfPermitted {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-probe-'));
  try {
    const src = join(dir, 'probe.c');
    const exe = join(dir, 'probe');
    writeFileSync(src, PROBE);
    const cc = spawnSync('gcc', ['-O1', '-o', exe, src], { encoding: 'utf8' });
    if (cc.error || cc.status !== 0) {
      cached = { ok: false, reason: `cannot build the bpf() probe: ${cc.error?.message ?? cc.stderr.trim().split('\n')[0]}` };
      return cached;
    }
    const r = spawnSync(exe, [], { encoding: 'utf8', timeout: 20_000 });
    cached =
      r.status === 0
        ? { ok: true }
        : { ok: false, reason: `bpf() not permitted here: ${(r.stdout || r.stderr || `exit ${r.status}`).trim()}` };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
