/**
 * replay of bpftool's own loaders: the opts_insn / opts_data bytes of `bpftool gen skeleton -L`
 * (libbpf 1.1) replayed in the model must have the effects of our plan for the object (after the
 * explicit libbpf 1.1 rewrites of test/loader/gen/libbpf11.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasTool } from '../../support/objects.js';
import { compareWithPlan, replay } from '../../../src/kernel/replay/index.js';
import { ctxOffsets } from '../../../src/loader/uapi/index.js';
import { allObjects, hostPossibleCpus, planFor, FIXED_HOST } from '../../loader/gen/support.js';
import { bpftoolLskel } from '../../loader/gen/lskel-bytes.js';
import { toLibbpf11 } from '../../loader/gen/libbpf11.js';
import { hostProfile } from './support.js';
describe('replay of bpftool gen skeleton -L loaders', () => {
    for (const o of allObjects()) {
        it(`${o.name}: libbpf's loader has the plan's effects`, { skip: hasTool('bpftool') ? false : 'bpftool not installed' }, (t) => {
            const b = bpftoolLskel(o.path);
            if (!b.ok)
                return t.skip(`bpftool cannot handle it: ${b.reason}`);
            const { plan } = toLibbpf11(planFor(o, { ...FIXED_HOST, possibleCpus: hostPossibleCpus(), usdtUprobeMulti: false }));
            const ctx = {
                size: ctxOffsets.size(plan.nrMaps, plan.programs.length),
                maps: Array.from({ length: plan.nrMaps }, (_, i) => ({ offset: ctxOffsets.mapDesc(i) })),
                progs: plan.programs.map((_, j) => ({ offset: ctxOffsets.progFd(plan.nrMaps, j) })),
            };
            const r = replay({ insns: b.insns, data: b.data }, hostProfile(), { byteOrder: plan.byteOrder, ctx });
            const refused = r.trace.find((x) => x.errno || (typeof x.result === 'number' && x.result < 0 && x.op !== 'close'));
            if (r.stage === 'loader_retval' && refused && ['BTF_LOAD', 'PROG_LOAD', 'btf_find_by_name_kind'].includes(refused.op)) {
                return t.skip(`the kernel model refuses it: ${refused.op} ${JSON.stringify(refused.args ?? {})} = ${refused.result} ${refused.reason ?? ''}`);
            }
            const cmp = compareWithPlan(r, plan);
            assert.equal(r.stage, 'ok', `${r.stage} errno ${r.errno} ${r.fault?.message ?? ''}`);
            assert.deepEqual(cmp.differences, []);
        });
    }
});
//# sourceMappingURL=bpftool.test.js.map