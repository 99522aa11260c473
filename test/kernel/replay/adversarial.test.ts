/**
 * Adversarial loaders: a signed-looking loader that does something other than what its manifest
 * says must be caught by the replay, each with a specific reason. Each case builds the honest plan
 * for xdp_filter.bpf.c, generates the loader from a *modified* plan (what an attacker would sign),
 * replays that loader in the kernel model and compares its effects with the honest plan.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../support/objects.js';
import { testProfile } from '../../api/helper.js';
import { parseObject } from '../../../src/loader/object/index.js';
import { planObject, type Plan, type PlanOp } from '../../../src/loader/plan/index.js';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { replay } from '../../../src/kernel/replay/index.js';
import { compareWithPlan } from '../../../src/service/replay-compare.js';

const obj = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));
const honest = planObject(parseObject(obj, { name: 'xdp_filter' }), { object: obj });
const profile = testProfile();

function replayed(plan: Plan, scheme: 'unsigned' | 'linux-6.18' = 'unsigned', tamper?: (data: Uint8Array) => void) {
  const loader = generateLoader(plan, { scheme });
  if (tamper) tamper(loader.data);
  const report = replay(loader, profile, { scheme, nrMaps: honest.nrMaps, nrProgs: honest.programs.length });
  return { report, cmp: compareWithPlan(report, honest) };
}

const withOps = (f: (ops: PlanOp[]) => PlanOp[]): Plan => ({ ...honest, ops: f(honest.ops) });

describe('replaying adversarial loaders against the honest plan', () => {
  it('finds no difference for the honest loader (the baseline)', () => {
    const { report, cmp } = replayed(honest);
    assert.ok(report.ok);
    assert.deepEqual(cmp.differences, []);
  });

  it('catches a map created with other attributes (max_entries grown)', () => {
    const { cmp } = replayed(
      withOps((ops) =>
        ops.map((op) =>
          op.op === 'map_create' && op.mapIndex === 0 ? { ...op, attr: { ...op.attr, maxEntries: op.attr.maxEntries * 16 } } : op,
        ),
      ),
    );
    assert.ok(
      cmp.differences.some((d) => /maps?\b.*max_?entries/i.test(d.path)),
      JSON.stringify(cmp.differences),
    );
  });

  it('catches a read-only global-data map that is never frozen', () => {
    const { cmp } = replayed(withOps((ops) => ops.filter((op) => op.op !== 'map_freeze')));
    assert.ok(
      cmp.differences.some((d) => /frozen/.test(d.path)),
      JSON.stringify(cmp.differences),
    );
  });

  it('catches different initial contents of a global-data map', () => {
    const { cmp } = replayed(
      withOps((ops) => ops.map((op) => (op.op === 'map_update' ? { ...op, value: op.value.map((b) => b ^ 0xff) } : op))),
    );
    assert.ok(
      cmp.differences.some((d) => /contents/.test(d.path)),
      JSON.stringify(cmp.differences),
    );
  });

  it('catches a program whose instructions were swapped for others', () => {
    const { cmp } = replayed(
      withOps((ops) =>
        ops.map((op) => {
          if (op.op !== 'prog_load') return op;
          // Every `r0 = imm` / `w0 = imm` becomes 2 (XDP_PASS): still a program the verifier accepts, one that never drops.
          const insns = op.prog.insns.slice();
          for (let at = 0; at < insns.length; at += 8)
            if ((insns[at] === 0xb7 || insns[at] === 0xb4) && insns[at + 1] === 0x00) insns.set([2, 0, 0, 0], at + 4);
          return { ...op, prog: { ...op.prog, insns } };
        }),
      ),
    );
    assert.ok(
      cmp.differences.some((d) => /insns/.test(d.path)),
      JSON.stringify(cmp.differences),
    );
  });

  it('catches a program loaded as another type', () => {
    const { cmp } = replayed(
      withOps((ops) =>
        ops.map((op) => (op.op === 'prog_load' ? { ...op, prog: { ...op.prog, type: 3 /* SCHED_CLS */, expectedAttachType: 0 } } : op)),
      ),
    );
    assert.ok(
      cmp.differences.some((d) => /type/.test(d.path)),
      JSON.stringify(cmp.differences),
    );
  });

  it('catches an extra map the manifest does not mention', () => {
    const extra = honest.ops.find((op) => op.op === 'map_create' && op.mapIndex === 0)!;
    const { cmp, report } = replayed({
      ...honest,
      nrMaps: honest.nrMaps + 1,
      ops: [...honest.ops, { ...extra, mapIndex: honest.nrMaps } as PlanOp],
    });
    assert.ok(!report.ok || cmp.differences.length > 0, 'an extra map is reported');
    assert.ok(
      cmp.differences.some((d) => /maps/.test(d.path) || d.path === 'stage'),
      JSON.stringify(cmp.differences),
    );
  });

  it('catches a program the manifest says is loaded but the loader skips', () => {
    const { cmp } = replayed(withOps((ops) => ops.filter((op) => op.op !== 'prog_load')));
    assert.ok(
      cmp.differences.some((d) => /progs?/.test(d.path)),
      JSON.stringify(cmp.differences),
    );
  });

  it('stops a linux-6.18 loader whose blob was changed after signing: the in-loader hash check fails', () => {
    const { report } = replayed(honest, 'linux-6.18', (data) => {
      data[data.length - 1] ^= 1;
    });
    assert.equal(report.ok, false);
    assert.equal(report.retval, -22, 'the loader returns -EINVAL, as on the real kernel');
    assert.equal(report.maps.length, 0, 'and creates nothing');
  });
});
