/**
 * replay of bpftool's own loaders: the opts_insn / opts_data bytes of `bpftool gen skeleton -L`
 * (libbpf 1.1) replayed in the model. Where bpf() is permitted the same bytes also run on this
 * kernel (test/kernel-runner): a refusal there must be the model's too (same step, same errno),
 * and a program's xlated length the kernel's wherever the model says its prediction is exact;
 * otherwise the replay must have the effects of our plan for the object (after the explicit
 * libbpf 1.1 rewrites of test/loader/gen/libbpf11.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasTool } from '../../support/objects.js';
import { replay } from '../../../src/kernel/replay/index.js';
import { compareWithPlan } from '../../../src/service/replay-compare.js';
import { ctxOffsets } from '../../../src/loader/uapi/index.js';
import { allObjects, hostPossibleCpus, planFor, FIXED_HOST } from '../../loader/gen/support.js';
import { bpftoolLskel } from '../../loader/gen/lskel-bytes.js';
import { toLibbpf11 } from '../../loader/gen/libbpf11.js';
import { runLoader, runnerSkipReason } from '../../kernel-runner/harness.js';
import { hostProfile } from './support.js';

describe('replay of bpftool gen skeleton -L loaders', () => {
  const noKernel = runnerSkipReason();
  for (const o of allObjects()) {
    it(
      `${o.name}: libbpf's loader has the kernel's outcome and the plan's effects`,
      { skip: hasTool('bpftool') ? false : 'bpftool not installed' },
      (t) => {
        const b = bpftoolLskel(o.path);
        if (!b.ok) return t.skip(`bpftool cannot handle it: ${b.reason}`);
        const { plan } = toLibbpf11(planFor(o, { ...FIXED_HOST, possibleCpus: hostPossibleCpus(), usdtUprobeMulti: false }));
        const ctx = {
          size: ctxOffsets.size(plan.nrMaps, plan.programs.length),
          maps: Array.from({ length: plan.nrMaps }, (_, i) => ({ offset: ctxOffsets.mapDesc(i) })),
          progs: plan.programs.map((_, j) => ({ offset: ctxOffsets.progFd(plan.nrMaps, j) })),
        };
        const r = replay({ insns: b.insns, data: b.data }, hostProfile(), { byteOrder: plan.byteOrder, ctx });
        const refused = r.trace.filter((x) => x.errno || (typeof x.result === 'number' && x.result < 0 && x.op !== 'close')).at(-1);
        const said = refused
          ? `${refused.op} ${JSON.stringify(refused.args ?? {})} = ${refused.result} ${refused.reason ?? ''}`
          : 'no refused call';
        if (noKernel) {
          if (r.stage === 'loader_retval' && refused && ['BTF_LOAD', 'PROG_LOAD', 'btf_find_by_name_kind'].includes(refused.op)) {
            return t.skip(`the kernel model refuses it (${said}) and bpf() is not available to compare: ${noKernel}`);
          }
        } else if (plan.byteOrder === 'le') {
          const k = runLoader(`bpftool-${o.name}`, b.insns, b.data, plan.nrMaps, plan.programs.length);
          if (k.stage !== 'ok') {
            t.diagnostic(`kernel: ${k.stage} errno ${k.errno}; model: ${r.stage} errno ${r.errno}: ${said}`);
            assert.equal(r.stage, k.stage, 'the step that failed');
            assert.equal(r.errno, k.errno, 'errno');
            return;
          }
          // The verifier's rewrites: where the model says its prediction is exact, the kernel's xlated length.
          for (const kp of k.progs.filter((x) => x.fd > 0)) {
            const p = r.progs.find((x) => x.ctxIndex === kp.index);
            if (!p) continue;
            const kernelXlated = kp.xlated_prog_len! / 8;
            if (p.xlated.exact)
              assert.equal(p.xlated.insnCnt, kernelXlated, `program ${kp.name}: the model's xlated length (loaded ${p.insnCnt})`);
            else
              t.diagnostic(
                `${kp.name}: ${p.insnCnt} insns loaded, model ~${p.xlated.insnCnt} (not exact: ${p.xlated.unmodelled.join('; ')}), kernel's xlated length ${kernelXlated}`,
              );
          }
        }
        const cmp = compareWithPlan(r, plan);
        assert.equal(r.stage, 'ok', `${r.stage} errno ${r.errno} ${r.fault?.message ?? ''} ${said}`);
        assert.deepEqual(cmp.differences, []);
      },
    );
  }
});
