/**
 * Test support: which trampoline attach types this kernel refuses at BPF_PROG_LOAD, probed the
 * way scripts/make-profile.ts does — `r0 = 0; exit` loaded as TRACING (fentry, fexit, fmod_ret)
 * and LSM (lsm/) against a function of this kernel's BTF. EPERM / EOPNOTSUPP / ENOTSUPP count as
 * refused (the kernel said no before looking at the program); other errors are the probe's own
 * fault and are not recorded. Empty when bpf() or gcc is not available here.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Btf } from '../../src/loader/btf/index.js';
import { ATTACH_TYPE as A, ATTACH_TYPE_NAME, PROG_TYPE as P, PROG_TYPE_NAME } from '../../src/loader/uapi/index.js';
import { errnoName } from '../../src/kernel/bpf/index.js';
import type { RefusedAttach } from '../../src/kernel/profile/index.js';
import { bpfPermitted } from '../support/bpf-permitted.js';
import { gcc, work } from './harness.js';

const PROBE_C = String.raw`#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

/* argv: triples of prog_type, expected_attach_type, attach_btf_id; prints one errno (0: loaded) per triple. */
int main(int argc, char **argv)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int i;

	for (i = 1; i + 2 < argc; i += 3) {
		union bpf_attr a;
		long fd;

		memset(&a, 0, sizeof(a));
		a.prog_type = atoi(argv[i]);
		a.expected_attach_type = atoi(argv[i + 1]);
		a.attach_btf_id = atoi(argv[i + 2]);
		a.insns = (unsigned long)insns;
		a.insn_cnt = 2;
		a.license = (unsigned long)"GPL";
		fd = syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
		printf("%s%d", i > 1 ? " " : "", fd < 0 ? errno : 0);
		if (fd >= 0)
			close((int)fd);
	}
	printf("\n");
	return 0;
}
`;

const REFUSING = new Set([1, 95, 524]);
let cached: RefusedAttach[] | undefined;

/** The (program type, attach type) pairs this kernel refuses before verification, with the errno. */
export function refusedAttachTypes(btf: Btf | null): RefusedAttach[] {
  if (cached) return cached;
  cached = [];
  if (!btf || !bpfPermitted().ok) return cached;
  const func = ['bpf_fentry_test1', 'bpf_modify_return_test', 'do_unlinkat']
    .map((n) => btf.findByName(n, 'FUNC'))
    .find((x) => x !== undefined);
  const lsm = btf.findByName('bpf_lsm_file_open', 'FUNC');
  const triples: [number, number, number][] = [];
  if (func !== undefined)
    triples.push([P.TRACING, A.TRACE_FENTRY, func], [P.TRACING, A.TRACE_FEXIT, func], [P.TRACING, A.MODIFY_RETURN, func]);
  if (lsm !== undefined) triples.push([P.LSM, A.LSM_MAC, lsm]);
  if (!triples.length) return cached;
  const exe = join(work(), 'attach-probe');
  writeFileSync(`${exe}.c`, PROBE_C);
  if (!gcc(['-O1', '-o', exe, `${exe}.c`]).ok) return cached;
  const r = spawnSync(exe, triples.flat().map(String), { encoding: 'utf8' });
  if (r.status !== 0) return cached;
  const errnos = r.stdout.trim().split(/\s+/).map(Number);
  triples.forEach(([progType, attachType], i) => {
    const errno = errnos[i] ?? 0;
    if (REFUSING.has(errno))
      cached!.push({ progType: PROG_TYPE_NAME[progType]!, attachType: ATTACH_TYPE_NAME[attachType]!, errno: errnoName(errno) });
  });
  return cached;
}
