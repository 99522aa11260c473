/**
 * Byte identity with Debian's bpftool (`bpftool gen skeleton -L`): for every fixture and
 * xdp-tools object bpftool can turn into a light skeleton, our unsigned loader (data blob and
 * instructions) must equal the bytes in its header — after the explicit libbpf 1.1 rewrites of
 * libbpf11.ts (each applied rewrite is printed).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasTool } from '../../support/objects.js';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { allObjects, hostPossibleCpus, planFor, FIXED_HOST } from './support.js';
import { bpftoolLskel, type LskelResult } from './lskel-bytes.js';
import { toLibbpf11 } from './libbpf11.js';

const haveBpftool = hasTool('bpftool');
const objects = allObjects();

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('generateLoader (unsigned) against bpftool gen skeleton -L', () => {
  const refs = new Map<string, LskelResult>();
  const ref = (path: string): LskelResult => {
    let r = refs.get(path);
    if (!r) {
      r = bpftoolLskel(path);
      refs.set(path, r);
    }
    return r;
  };

  for (const o of objects) {
    it(`${o.name}: data and instructions equal bpftool's`, { skip: haveBpftool ? false : 'bpftool not installed' }, (t) => {
      const r = ref(o.path);
      if (!r.ok) {
        t.diagnostic(`bpftool cannot handle ${o.name}: ${r.reason}`);
        t.skip(`bpftool cannot handle it: ${r.reason}`);
        return;
      }
      // Host inputs as bpftool sees them on this machine; Debian's libbpf 1.1 has no uprobe-multi probe.
      const { plan, notes } = toLibbpf11(planFor(o, { ...FIXED_HOST, possibleCpus: hostPossibleCpus(), usdtUprobeMulti: false }));
      for (const n of notes) t.diagnostic(`libbpf 1.1 rewrite: ${n}`);
      const g = generateLoader(plan, { scheme: 'unsigned' });
      assert.equal(g.data.length, r.data.length, 'data length');
      assert.equal(firstDiff(g.data, r.data), -1, 'first differing data byte');
      assert.equal(g.insns.length / 8, r.insns.length / 8, 'instruction count');
      assert.equal(firstDiff(g.insns, r.insns), -1, 'first differing instruction byte');
    });
  }

  it('prints which objects bpftool cannot handle and why', { skip: haveBpftool ? false : 'bpftool not installed' }, (t) => {
    const failing = objects.map((o) => ({ o, r: ref(o.path) })).filter((x) => !x.r.ok);
    for (const { o, r } of failing) t.diagnostic(`bpftool cannot handle ${o.name}: ${(r as { reason: string }).reason}`);
    const handled = objects.length - failing.length;
    t.diagnostic(`bpftool handled ${handled} of ${objects.length} objects`);
    // The fixture manifest records which fixtures Debian's bpftool accepts; it must agree.
    for (const { o, r } of objects.map((o) => ({ o, r: ref(o.path) }))) {
      if (o.entry?.bpftool_lskel !== undefined) assert.equal(r.ok, o.entry.bpftool_lskel, `${o.name}: manifest bpftool_lskel`);
    }
  });
});
