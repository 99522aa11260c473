/**
 * replay against the plan: for every test object our generator turns into a loader, the
 * unsigned loader replayed in the model must create exactly the plan's maps and programs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { replay } from '../../../src/kernel/replay/index.js';
import { compareWithPlan } from '../../../src/service/replay-compare.js';
import { xlatedInputFromReport } from '../../../src/kernel/replay/index.js';
import { xlatedLength } from '../../../src/kernel/xlated/index.js';
import { allObjects, planFor, type TestObject } from '../../loader/gen/support.js';
import { hostProfile } from './support.js';

function loaderFor(o: TestObject) {
  try {
    const plan = planFor(o);
    return { plan, loader: generateLoader(plan, { scheme: 'unsigned' }) };
  } catch (e) {
    return { skip: (e as Error).message };
  }
}

describe('replay of our unsigned loaders', () => {
  for (const o of allObjects()) {
    it(`${o.name}: the effects equal the plan`, (t) => {
      const g = loaderFor(o);
      if ('skip' in g) return t.skip(`no loader: ${g.skip}`);
      const r = replay(g.loader, hostProfile(), { byteOrder: g.plan.byteOrder, ctx: g.loader.ctxLayout });
      const refused = r.trace.find((x) => x.errno || (typeof x.result === 'number' && x.result < 0 && x.op !== 'close'));
      if (r.stage === 'loader_retval' && refused && ['BTF_LOAD', 'PROG_LOAD', 'btf_find_by_name_kind'].includes(refused.op)) {
        // The model refuses what this kernel refuses (kernel.test.ts checks that the errno agrees).
        return t.skip(
          `the kernel model refuses it: ${refused.op} ${JSON.stringify(refused.args ?? {})} = ${refused.result} ${refused.reason ?? ''}`,
        );
      }
      const cmp = compareWithPlan(r, g.plan);
      if (!cmp.equal) t.diagnostic(JSON.stringify(cmp.differences.slice(0, 5)));
      assert.equal(
        r.stage,
        'ok',
        `stage ${r.stage} errno ${r.errno} ${r.fault?.message ?? ''} ${JSON.stringify(r.trace.filter((x) => x.errno).slice(0, 2))}`,
      );
      assert.deepEqual(cmp.differences, []);
      assert.deepEqual(r.leakedFds, []);
    });
  }
});

describe('the replay report', () => {
  it("carries each program's xlated prediction in its JSON, equal to xlatedLength of the program", () => {
    const o = allObjects().find((x) => x.name === 'xdp_filter.clang-el.o');
    if (!o) return;
    const g = loaderFor(o);
    if ('skip' in g) throw new Error(g.skip);
    const r = replay(g.loader, hostProfile(), { byteOrder: g.plan.byteOrder, ctx: g.loader.ctxLayout });
    assert.equal(r.stage, 'ok');
    const json = JSON.parse(JSON.stringify(r)) as {
      progs: { name: string; xlated: { insnCnt: number; exact: boolean; unmodelled: string[] } }[];
    };
    assert.equal(json.progs.length, r.progs.length);
    r.progs.forEach((p, k) => {
      const direct = xlatedLength(xlatedInputFromReport(p, r.maps));
      assert.deepEqual(json.progs[k]!.xlated, { insnCnt: direct.count, exact: direct.exact, unmodelled: direct.unmodelled }, p.name);
      assert.equal(p.xlated, p.xlated, 'read twice, the same prediction');
    });
  });
});
