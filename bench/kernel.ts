/**
 * Kernel model: replay time of a typical loader (xdp_filter's, profile loaded once; target ≤ 2 ms
 * median) and interpreter speed on a tight loop (target ≥ 20 M instructions/s), beside the real
 * kernel running the same loop with BPF_PROG_TEST_RUN when bpf() is permitted (not a target, a scale).
 * The report's xlated predictions are worked out when first read; `replay_with_xlated_ms` is the
 * replay with every program's prediction read (what `bpfsign replay --json` pays), not a target.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../src/loader/isa/index.js';
import { execute } from '../src/kernel/vm/index.js';
import { replay } from '../src/kernel/replay/index.js';
import { buildLoader } from '../src/service/loader.js';
import { loadProfile } from '../src/service/verify.js';
import { timeMedian } from './object.js';

export function benchKernel(root: string): { replay_ms: number; replay_with_xlated_ms: number; vm_insns_per_s: number; loopInsns: number } {
  const obj = new Uint8Array(readFileSync(join(root, 'test/fixtures/obj/xdp_filter.clang-el.o')));
  const built = buildLoader(obj, 'xdp_filter.o', {
    scheme: 'unsigned',
    name: 'xdp_filter',
    flavour: 'v1.7',
    standalone: false,
    mapExcl: false,
    host: {},
  });
  const profile = loadProfile();
  const opts = { scheme: 'unsigned' as const, nrMaps: built.plan.nrMaps, nrProgs: built.plan.programs.length };
  const replayMs = timeMedian(
    () => {
      replay(built.loader, profile, opts);
    },
    50,
    5,
  );
  const withXlatedMs = timeMedian(
    () => {
      for (const p of replay(built.loader, profile, opts).progs) void p.xlated.insnCnt;
    },
    50,
    5,
  );
  // r0 = 0; r1 = N; loop: r0 += r1; r0 ^= 0x5a; r1 -= 1; if r1 != 0 goto loop; exit — 4 insns per turn
  const n = 1_000_000;
  const prog = assemble(`r0 = 0\nr1 = ${n}\nLOOP:\nr0 += r1\nr0 ^= 90\nr1 += -1\nif r1 != 0 goto LOOP\nexit`);
  const steps = 2 + 4 * n + 1;
  const ms = timeMedian(
    () => {
      execute(prog, { budget: steps + 10 });
    },
    5,
    1,
  );
  return { replay_ms: replayMs, replay_with_xlated_ms: withXlatedMs, vm_insns_per_s: steps / (ms / 1000), loopInsns: steps };
}
