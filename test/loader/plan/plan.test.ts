/**
 * planObject: operations, BTF edits, host inputs and what goes beyond libbpf.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoaderError } from '../../../src/loader/errors.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import { planObject, DEFAULT_KERNEL_VERSION, type Plan } from '../../../src/loader/plan/index.js';
import { fixtureObjects, readObject } from '../../support/objects.js';
import { FIXED_HOST, planFor } from '../gen/support.js';

const pick = (prefix: string) => fixtureObjects().find((o) => o.name.startsWith(prefix))!;
const btfOf = (p: Plan) => {
  const op = p.ops.find((o) => o.op === 'btf_load');
  assert.ok(op && op.op === 'btf_load');
  return parseBtf(op.btf);
};

describe('planObject', () => {
  describe('when the object has kfuncs, typed and typeless ksyms and kconfig externs', () => {
    const plan = planFor(pick('ksyms.clang-el'));
    it('appends VAR dummy_ksym and rewrites .ksyms as 4-byte allocated variables', () => {
      const btf = btfOf(plan);
      const dummy = btf.findByName('dummy_ksym', 'VAR');
      assert.equal(dummy, btf.totalCount - 1, 'dummy_ksym is the last type');
      const sec = btf.type(btf.findByName('.ksyms', 'DATASEC')!);
      assert.equal(sec.kind, 'DATASEC');
      if (sec.kind !== 'DATASEC') return;
      sec.vars.forEach((v, i) => {
        assert.equal(v.offset, 4 * i);
        assert.equal(v.size, 4);
      });
      assert.equal(sec.size, 4 * sec.vars.length);
    });
    it('lays out .kconfig at the externs offsets and fills the image from the host inputs', () => {
      const spec = parseObject(readObject(pick('ksyms.clang-el')), { name: 'ksyms_clang_el' });
      const km = plan.maps.find((m) => m.name.endsWith('.kconfig'))!;
      const upd = plan.ops.find((o) => o.op === 'map_update' && o.mapIndex === km.index);
      assert.ok(upd && upd.op === 'map_update');
      const dv = new DataView(upd.value.buffer, upd.value.byteOffset);
      const off = (n: string) => spec.externs.find((e) => e.name === n)!.kconfig!.offset;
      assert.equal(dv.getInt32(off('CONFIG_HZ'), true), 250);
      assert.equal(dv.getUint32(off('CONFIG_TUN'), true), 2, "tristate 'm' is 2");
      assert.equal(dv.getInt32(off('LINUX_KERNEL_VERSION'), true), FIXED_HOST.kernelVersion);
      assert.equal(upd.value[off('CONFIG_BPF_SYSCALL')], 1);
      assert.equal(
        new TextDecoder().decode(upd.value.subarray(off('CONFIG_DEFAULT_HOSTNAME'), off('CONFIG_DEFAULT_HOSTNAME') + 6)),
        '(none)',
      );
      assert.ok(
        plan.ops.some((o) => o.op === 'map_freeze' && o.mapIndex === km.index),
        '.kconfig is frozen',
      );
    });
    it('records one extern relocation per ksym instruction, typeless ones with the given address', () => {
      const loads = plan.ops.filter((o) => o.op === 'prog_load');
      const all = loads.flatMap((o) => (o.op === 'prog_load' ? o.prog.externs : []));
      assert.ok(
        all.some((r) => !r.ld64 && r.kind === 12),
        'kfunc call',
      );
      assert.ok(
        all.some((r) => r.ld64 && !r.typeless && r.kind === 14),
        'typed ksym',
      );
      assert.ok(
        all.some((r) => r.ld64 && r.typeless && r.name === 'bpf_prog_fops'),
        'typeless ksym',
      );
      assert.equal(plan.host.ksymAddresses.bpf_prog_fops, '0xffffffff82400000');
    });
    it('fails with OBJECT_UNSUPPORTED naming ksymAddresses when a strong typeless ksym has no address', () => {
      const bytes = readObject(pick('ksyms.clang-el'));
      assert.throws(
        () => planObject(parseObject(bytes, { name: 'k' }), { object: bytes, kconfig: FIXED_HOST.kconfig }),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED' && e.details.field === 'ksymAddresses',
      );
    });
  });

  describe('host inputs', () => {
    it('records the documented defaults when none are given', () => {
      const o = pick('xdp_filter.clang-el');
      const bytes = readObject(o);
      const p = planObject(parseObject(bytes, { name: 'x' }), { object: bytes });
      assert.deepEqual(p.host, {
        kconfig: {},
        kernelVersion: DEFAULT_KERNEL_VERSION,
        ksymAddresses: {},
        possibleCpus: 1,
        pageSize: 4096,
        usdtUprobeMulti: true,
        hostByteOrder: 'le',
      });
    });
    it('probes nothing: USDT programs follow usdtUprobeMulti', () => {
      const usdt = (p: Plan) => p.ops.find((o) => o.op === 'prog_load' && o.prog.name === 'pt_usdt');
      const on = usdt(planFor(pick('prog_types.clang-el'), { ...FIXED_HOST, usdtUprobeMulti: true }));
      const off = usdt(planFor(pick('prog_types.clang-el'), { ...FIXED_HOST, usdtUprobeMulti: false }));
      assert.ok(on?.op === 'prog_load' && off?.op === 'prog_load');
      assert.equal(on.prog.expectedAttachType, 48);
      assert.equal(off.prog.expectedAttachType, 0);
    });
    it('sizes PERF_EVENT_ARRAY maps without max_entries by possibleCpus and rounds RINGBUF to pages', () => {
      const p = planFor(pick('maps.clang-el'), { ...FIXED_HOST, possibleCpus: 7, pageSize: 16384 });
      const creates = p.ops.filter((o) => o.op === 'map_create').map((o) => (o.op === 'map_create' ? o.attr : null)!);
      const perf = creates.find((a) => a.type === 4);
      const ring = creates.find((a) => a.type === 27);
      assert.ok(perf && ring);
      assert.equal(perf.maxEntries, 7);
      assert.equal(ring.maxEntries % 16384, 0);
      assert.equal(perf.btfKeyTypeId, 0, 'BTF key/value ids zeroed for PERF_EVENT_ARRAY');
    });
  });

  describe('beyond libbpf', () => {
    it('records pinned maps for the skeleton instead of failing', () => {
      const p = planFor(pick('maps.clang-el'));
      assert.deepEqual(p.maps.find((m) => m.name === 'pinned_counters')?.pin, { path: '/sys/fs/bpf/pinned_counters' });
    });
    it('fills PROG_ARRAY initial slots after every program is loaded', () => {
      const p = planFor(pick('tailcall.clang-el'));
      const lastLoad = p.ops.map((o) => o.op).lastIndexOf('prog_load');
      const slots = p.ops.map((o, i) => ({ o, i })).filter((x) => x.o.op === 'prog_array_update');
      assert.ok(slots.length > 0);
      for (const s of slots) assert.ok(s.i > lastLoad);
    });
    it('sizes the stack area to more than 32 programs and rejects past 512 bytes', () => {
      const big = planFor(pick('big.clang-el'));
      assert.ok(big.nrPrograms > 32);
      assert.equal(big.stackSize, 8 + 4 * big.nrPrograms);
      const bytes = readObject(pick('xdp_filter.clang-el'));
      const spec = parseObject(bytes, { name: 'x' });
      const many = {
        ...spec,
        subprograms: Array.from({ length: 200 }, (_, i) => ({ ...spec.programs[0], name: `f${i}`, section: '.text' })),
      };
      assert.throws(
        () => planObject(many, { object: bytes }),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED' && e.details.field === 'programs',
      );
    });
  });

  describe('when the object uses struct_ops', () => {
    it('throws OBJECT_UNSUPPORTED naming struct_ops', () => {
      const o = pick('struct_ops.clang-el');
      const bytes = readObject(o);
      assert.throws(
        () => planObject(parseObject(bytes, { name: 's' }), { object: bytes }),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED' && e.details.field === 'struct_ops',
      );
    });
  });
});
