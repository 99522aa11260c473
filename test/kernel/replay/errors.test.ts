/**
 * Error paths of the model, each with the errno this kernel returns: a flipped metadata
 * byte under linux-6.18 (the loader's own hash check returns -EINVAL), a write to a frozen
 * map (EPERM), a non-zero attr tail (E2BIG), a bad fd (EBADF), and exclusive maps (EACCES).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { replay } from '../../../src/kernel/replay/index.js';
import { BpfModel, CMD, E } from '../../../src/kernel/bpf/index.js';
import { Memory } from '../../../src/kernel/vm/index.js';
import {
  MAP_CREATE_EXCL_ATTR,
  MAP_FREEZE_ATTR,
  MAP_UPDATE_ELEM_ATTR,
  PROG_LOAD_SIGNED_ATTR,
  writeStruct,
  type StructLayout,
  type StructValues,
} from '../../../src/loader/uapi/index.js';
import { allObjects, planFor } from '../../loader/gen/support.js';
import { hostProfile } from './support.js';

const xdp = () => allObjects().find((o) => o.name === 'xdp_filter.clang-el.o')!;

function model() {
  const mem = new Memory('le');
  const m = new BpfModel({ memory: mem, profile: hostProfile() });
  const put = (b: Uint8Array) => mem.map('memory', b).base;
  const attr = <F extends string>(layout: StructLayout<F>, size: number, v: StructValues<F>) =>
    put(writeStruct(layout, v, 'le', new Uint8Array(Math.max(size, layout.size))));
  return { mem, m, put, attr };
}

describe('replay of a linux-6.18 loader', () => {
  const plan = planFor(xdp());
  const g = generateLoader(plan, { scheme: 'linux-6.18' });
  it('succeeds with the metadata it was generated with', () => {
    const r = replay(g, hostProfile(), { scheme: 'linux-6.18', ctx: g.ctxLayout });
    assert.equal(r.stage, 'ok', JSON.stringify(r.trace.filter((x) => x.errno)));
    assert.ok(
      r.trace.some((x) => x.op === 'OBJ_GET_INFO_BY_FD' && x.result === 0),
      'the map hash was computed',
    );
  });
  describe('when one byte of the metadata is flipped', () => {
    it('the loader fails its own hash check and returns -EINVAL before any syscall', () => {
      const data = g.data.slice();
      data[data.length - 1] ^= 1;
      const r = replay({ insns: g.insns, data }, hostProfile(), { scheme: 'linux-6.18', ctx: g.ctxLayout });
      assert.equal(r.stage, 'loader_retval');
      assert.equal(r.retval, -E.EINVAL);
      assert.equal(r.trace.filter((x) => x.caller === 'loader' && x.op !== 'close').length, 0);
      assert.equal(r.maps.length + r.progs.length, 0);
    });
  });
});

describe('the bpf() model', () => {
  const arrayAttr = { map_type: 2, key_size: 4, value_size: 8, max_entries: 1, map_name: 't' };
  it('refuses a syscall write to a frozen map with EPERM', () => {
    const { m, put, attr } = model();
    const fd = m.sys(CMD.MAP_CREATE, attr(MAP_CREATE_EXCL_ATTR, 72, arrayAttr), 72, 'user');
    assert.ok(fd >= 3);
    const upd = attr(MAP_UPDATE_ELEM_ATTR, 32, { map_fd: fd, key: put(new Uint8Array(4)), value: put(new Uint8Array(8).fill(7)) });
    assert.equal(m.sys(CMD.MAP_UPDATE_ELEM, upd, 32, 'user'), 0);
    assert.equal(m.sys(CMD.MAP_FREEZE, attr(MAP_FREEZE_ATTR, 4, { map_fd: fd }), 4, 'user'), 0);
    assert.equal(m.sys(CMD.MAP_UPDATE_ELEM, upd, 32, 'user'), -E.EPERM);
    assert.equal(m.sys(CMD.MAP_FREEZE, attr(MAP_FREEZE_ATTR, 4, { map_fd: fd }), 4, 'user'), -E.EBUSY);
  });
  it('answers E2BIG for non-zero bytes past sizeof(union bpf_attr)', () => {
    const { m, attr } = model();
    const a = attr(MAP_CREATE_EXCL_ATTR, 200, arrayAttr);
    assert.ok(m.sys(CMD.MAP_CREATE, a, 200, 'user') >= 3, 'a zero tail is accepted');
    const { m: m2, mem, attr: attr2 } = model();
    const b = attr2(MAP_CREATE_EXCL_ATTR, 200, arrayAttr);
    mem.store(b + 190n, 1, 1n);
    assert.equal(m2.sys(CMD.MAP_CREATE, b, 200, 'user'), -E.E2BIG);
  });
  it("answers EINVAL for non-zero bytes past the command's last field", () => {
    const { m, mem, attr } = model();
    const a = attr(MAP_CREATE_EXCL_ATTR, 168, arrayAttr);
    mem.store(a + 100n, 1, 1n);
    assert.equal(m.sys(CMD.MAP_CREATE, a, 168, 'user'), -E.EINVAL);
  });
  it('answers EBADF for an fd that is not open, EINVAL for one that is not a map', () => {
    const { m, put, attr } = model();
    const upd = attr(MAP_UPDATE_ELEM_ATTR, 32, { map_fd: 42, key: put(new Uint8Array(4)), value: put(new Uint8Array(8)) });
    assert.equal(m.sys(CMD.MAP_UPDATE_ELEM, upd, 32, 'user'), -E.EBADF);
    assert.equal(m.close(42, 'user'), -E.EBADF);
  });
  it("refuses a program whose digest differs from an exclusive map's excl_prog_hash with EACCES", () => {
    const { m, put, attr } = model();
    const fd = m.sys(
      CMD.MAP_CREATE,
      attr(MAP_CREATE_EXCL_ATTR, 92, { ...arrayAttr, excl_prog_hash: put(new Uint8Array(32).fill(1)), excl_prog_hash_size: 32 }),
      92,
      'user',
    );
    assert.ok(fd >= 3);
    // r1 = map_by_idx(0); r0 = 0; exit
    const insns = Uint8Array.from([
      0x18, 0x51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const fdArray = new Uint8Array(4);
    new DataView(fdArray.buffer).setInt32(0, fd, true);
    const load = attr(PROG_LOAD_SIGNED_ATTR, 168, {
      prog_type: 31,
      insn_cnt: 4,
      insns: put(insns),
      license: put(Uint8Array.from([0x47, 0x50, 0x4c, 0])),
      prog_flags: 0x10,
      fd_array: put(fdArray),
    });
    assert.equal(m.sys(CMD.PROG_LOAD, load, 168, 'user'), -E.EACCES);
  });
});
