/**
 * The kernel's refusals of our fixtures' loaders, each as the model reproduces it against the
 * checked-in linux-6.18 profile (test/fixtures/profiles/linux-6.18-min, read from its files:
 * its BTF, the attach types and helpers its probe found): the step, the errno and the reason.
 * kernel.test.ts checks the same outcomes against this machine's kernel.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { replay, type ReplayReport } from '../../../src/kernel/replay/index.js';
import { E, type TraceEntry } from '../../../src/kernel/bpf/index.js';
import type { KallsymsEntry, ProfileInput } from '../../../src/kernel/profile/index.js';
import { allObjects, planFor } from '../../loader/gen/support.js';
import { fixtureProfile as profile } from './support.js';

/** A kallsyms table of text symbols at the given addresses. */
const ksyms = (rec: Record<string, bigint>): Map<string, KallsymsEntry> =>
  new Map(Object.entries(rec).map(([name, address]) => [name, { address, type: 'T', module: null }]));

function run(object: string, over: Partial<ProfileInput> = {}): ReplayReport {
  const o = allObjects().find((x) => x.name === object);
  assert.ok(o, `fixture ${object}`);
  const g = generateLoader(planFor(o), { scheme: 'unsigned' });
  return replay(g, profile(over), { ctx: g.ctxLayout });
}

const loads = (r: ReplayReport): TraceEntry[] => r.trace.filter((x) => x.op === 'PROG_LOAD' && x.caller === 'loader');
const named = (r: ReplayReport, name: string): TraceEntry | undefined => loads(r).find((x) => String(x.attr?.prog_name ?? '') === name);

describe('refusals the model shares with the kernel', () => {
  describe('core.clang-el.o (CO-RE relocations applied at PROG_LOAD against the profile BTF)', () => {
    const r = run('core.clang-el.o');
    it('loads core_sched_switch: the branch that reads task_struct.state (gone since 5.14) is dead once bpf_core_field_exists is relocated', () => {
      assert.equal(typeof named(r, 'core_sched_swit')?.result, 'number');
      assert.ok((named(r, 'core_sched_swit')!.result as number) > 0);
    });
    it('refuses core_kprobe with EINVAL: read_plain reaches the poisoned relocation of plain_pair, a type no kernel has', () => {
      const k = named(r, 'core_kprobe');
      assert.equal(k?.result, -E.EINVAL);
      assert.match(k?.reason ?? '', /insn 88: invalid func unknown#195896080/);
      assert.equal(r.stage, 'loader_retval');
      assert.equal(r.errno, E.EINVAL);
    });
  });

  it("refuses core_basic.clang-el.o's basic_switch with EACCES: it dereferences the task pointer bpf_probe_read_kernel wrote to the stack, a scalar", () => {
    const r = run('core_basic.clang-el.o');
    const k = named(r, 'basic_switch');
    assert.equal(k?.result, -E.EACCES);
    assert.match(k?.reason ?? '', /insn 20: R1 invalid mem access 'scalar'/);
    assert.equal(r.errno, E.EACCES);
  });

  describe('ksyms.clang-el.o', () => {
    // Functions are always in kallsyms; per-CPU variables such as runqueues only with CONFIG_KALLSYMS_ALL.
    const text = ksyms({ bpf_task_from_pid: 0xffffffff81200000n });
    const all = ksyms({ bpf_task_from_pid: 0xffffffff81200000n, runqueues: 0xffffffff83000000n });
    it('refuses ksym_switch with ENOENT when kallsyms lacks bpf_task_from_pid, whose address `if (bpf_task_from_pid)` loads', () => {
      const k = named(run('ksyms.clang-el.o', { kallsyms: ksyms({ runqueues: 0xffffffff83000000n }) }), 'ksym_switch');
      assert.equal(k?.result, -E.ENOENT);
    });
    it('loads ksym_switch although it calls bpfsign_missing_kfunc (a weak kfunc left at btf_id 0): `if (bpfsign_missing_kfunc)` makes the call dead', () => {
      const r = run('ksyms.clang-el.o', { kallsyms: all });
      assert.ok((named(r, 'ksym_switch')?.result as number) > 0, JSON.stringify(named(r, 'ksym_switch')));
    });
    it("refuses ksym_raw_enter with ENOENT when the kernel's kallsyms has no runqueues (CONFIG_KALLSYMS_ALL=n)", () => {
      const r = run('ksyms.clang-el.o', { kallsyms: text });
      const k = named(r, 'ksym_raw_enter');
      assert.equal(k?.result, -E.ENOENT);
      assert.match(k?.reason ?? '', /failed to find the address for kernel symbol 'runqueues'/);
      assert.equal(r.errno, E.ENOENT);
    });
    it('loads ksym_raw_enter when kallsyms has runqueues, and when the profile does not know kallsyms', () => {
      assert.ok((named(run('ksyms.clang-el.o', { kallsyms: all }), 'ksym_raw_enter')?.result as number) > 0);
      assert.ok((named(run('ksyms.clang-el.o'), 'ksym_raw_enter')?.result as number) > 0);
    });
  });

  describe('prog_types.clang-el.o', () => {
    it('refuses pt_fentry with EPERM, before verification, as the checked-in profile says this kernel refuses fentry', () => {
      assert.ok(
        profile().refusedAttachTypes.some((x) => x.progType === 'TRACING' && x.attachType === 'TRACE_FENTRY' && x.errno === 'EPERM'),
      );
      const r = run('prog_types.clang-el.o');
      const k = named(r, 'pt_fentry');
      assert.equal(k?.result, -E.EPERM);
      assert.match(k?.reason ?? '', /refuses program type TRACING with expected_attach_type TRACE_FENTRY before verification/);
      assert.equal(r.errno, E.EPERM);
      assert.ok(loads(r).filter((x) => (x.result as number) > 0).length >= 10, 'the programs before it loaded');
    });
    it('loads pt_fentry where the profile refuses nothing', () => {
      assert.ok((named(run('prog_types.clang-el.o', { refusedAttachTypes: [] }), 'pt_fentry')?.result as number) > 0);
    });
  });

  describe('the helpers the checked-in profile probed for each program type', () => {
    it("refuses xdp_filter with EINVAL when its XDP list lacks bpf_map_lookup_elem, with the verifier's words", () => {
      const helpers = { ...profile().helpers, XDP: (profile().helpers.XDP ?? []).filter((h) => h !== 1) };
      const r = run('xdp_filter.clang-el.o', { helpers });
      const k = named(r, 'xdp_filter');
      assert.equal(k?.result, -E.EINVAL);
      assert.match(k?.reason ?? '', /program of this type cannot use helper bpf_map_lookup_elem#1/);
      assert.equal(r.errno, E.EINVAL);
    });
    for (const o of allObjects().filter((x) => !x.name.includes('-eb'))) {
      it(`${o.name}: the lists refuse none of its programs (the same outcome as without them)`, (t) => {
        let g;
        try {
          g = generateLoader(planFor(o), { scheme: 'unsigned' });
        } catch (e) {
          return t.skip(`no loader: ${(e as Error).message}`);
        }
        const outcome = (r: ReplayReport) => ({
          stage: r.stage,
          errno: r.errno,
          loads: loads(r).map((x) => [x.attr?.prog_name, typeof x.result === 'number' && x.result > 0 ? 'fd' : x.result]),
        });
        assert.ok(Object.keys(profile().helpers).length > 20, 'the profile has helper lists');
        assert.deepEqual(
          outcome(replay(g, profile(), { ctx: g.ctxLayout })),
          outcome(replay(g, profile({ helpers: {} }), { ctx: g.ctxLayout })),
        );
      });
    }
  });
});
