/**
 * loaderWeaknesses: what it reads from loader instructions (our own loaders of every scheme, and
 * small hand-written programs for the data-flow cases), and what it takes from a header.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoaderError } from '../../../src/loader/errors.js';
import { generateLoader, loaderWeaknesses } from '../../../src/loader/gen/index.js';
import {
  BPF_PSEUDO_MAP_IDX,
  R0,
  R1,
  R2,
  R3,
  R6,
  R7,
  alu64,
  atomic,
  call,
  encodeInsns,
  exit,
  jmp,
  ldImm64,
  ldx,
  mov64,
  type Insn,
} from '../../../src/loader/isa/index.js';
import { ctxOffsets } from '../../../src/loader/uapi/index.js';
import { fixtureObjects } from '../../support/objects.js';
import { planFor } from './support.js';

const prog = (...insns: Insn[]): Uint8Array => encodeInsns(insns, 'le');
const codes = (insns: Uint8Array, opts?: Parameters<typeof loaderWeaknesses>[1]) => loaderWeaknesses(insns, opts).map((w) => w.code);
/** The 6.18 metadata check on map index 0: four map->sha words (optionally map->excl first). */
function shaCheck(withExcl: boolean): Insn[] {
  const out: Insn[] = [];
  if (withExcl) out.push(ldImm64(R1, 0n, BPF_PSEUDO_MAP_IDX), ldx.w(R2, R1, 32), jmp.jne.imm(R2, 1, 0));
  for (let i = 0; i < 4; i++) out.push(ldImm64(R1, 0n, BPF_PSEUDO_MAP_IDX), ldx.dw(R2, R1, 8 * i), ldImm64(R3, 0n), jmp.jne.reg(R2, R3, 0));
  return out;
}

describe('loaderWeaknesses on our own loaders', () => {
  const objects = fixtureObjects().filter((o) => /^(globals|map_in_map|core_basic)\.clang-el/.test(o.name));
  for (const o of objects) {
    const plan = planFor(o);
    it(`${o.name}: linux-load-time and linux-6.18 with the map->excl check have no weaknesses`, () => {
      assert.deepEqual(loaderWeaknesses(generateLoader(plan, { scheme: 'linux-load-time' }).insns), []);
      assert.deepEqual(loaderWeaknesses(generateLoader(plan, { scheme: 'linux-6.18', kernel: { mapExcl: true } }).insns), []);
    });
    it(`${o.name}: linux-6.18 for kernels without map->excl reads nothing from the ctx but cannot require an exclusive map`, () => {
      const w = loaderWeaknesses(generateLoader(plan, { scheme: 'linux-6.18' }).insns);
      assert.deepEqual(
        w.map((x) => [x.code, x.details.source]),
        [['METADATA_MAP_NOT_EXCLUSIVE', 'insns']],
      );
    });
    it(`${o.name}: the libbpf v1.7.0 signed loader reads every map's max_entries from the ctx after its check`, () => {
      const w = loaderWeaknesses(generateLoader(plan, { scheme: 'linux-6.18', compat: 'libbpf-1.7.0' }).insns);
      const max = w.filter((x) => x.code === 'CTX_OVERRIDES_MAP' && x.details.field === 'max_entries');
      assert.deepEqual(
        max.map((x) => x.details.mapIndex),
        plan.maps.map((m) => m.index),
      );
      assert.ok(
        max.every(
          (x) => x.details.afterMetadataCheck === true && x.details.ctxOffset === ctxOffsets.mapMaxEntries(x.details.mapIndex as number),
        ),
      );
      assert.ok(w.some((x) => x.code === 'METADATA_MAP_NOT_EXCLUSIVE'));
    });
  }
});

describe('loaderWeaknesses data flow', () => {
  const maxEntries1 = ctxOffsets.mapMaxEntries(1);
  const initial0 = ctxOffsets.mapInitialValue(0);

  it('finds a ctx read through a copy of r1 (r6 = r1, as libbpf does)', () => {
    const w = loaderWeaknesses(prog(mov64.reg(R6, R1), ldx.w(R0, R6, maxEntries1), exit()));
    assert.deepEqual(
      w.map((x) => [x.code, x.details.mapIndex, x.details.field, x.details.insn]),
      [['CTX_OVERRIDES_MAP', 1, 'max_entries', 1]],
    );
  });
  it('follows constant adds to the ctx pointer', () => {
    const w = loaderWeaknesses(prog(mov64.reg(R7, R1), alu64.add.imm(R7, initial0 - 8), ldx.dw(R0, R7, 8), exit()));
    assert.deepEqual(
      w.map((x) => [x.details.mapIndex, x.details.field]),
      [[0, 'initial_value']],
    );
  });
  it('ignores the loader ctx header fields (sz, flags, log_level, log_size, log_buf)', () => {
    assert.deepEqual(codes(prog(ldx.w(R0, R1, 4), ldx.w(R0, R1, 8), ldx.dw(R0, R1, 16), exit())), []);
  });
  it('forgets the ctx pointer once its register is overwritten or clobbered by a call', () => {
    assert.deepEqual(codes(prog(mov64.reg(R6, R1), mov64.imm(R6, 0), ldx.w(R0, R6, maxEntries1), exit())), []);
    assert.deepEqual(codes(prog(call.helper(1), ldx.w(R0, R1, maxEntries1), exit())), []);
  });
  it('keeps a read on one branch only (paths merge as "may hold the ctx")', () => {
    // if r0 == 0 goto +1; r6 = r1; r0 = *(u32 *)(r6 + max_entries[1])
    const w = loaderWeaknesses(
      prog(mov64.imm(R0, 0), mov64.imm(R6, 0), jmp.jeq.imm(R0, 0, 1), mov64.reg(R6, R1), ldx.w(R0, R6, maxEntries1), exit()),
    );
    assert.deepEqual(
      w.map((x) => x.details.field),
      ['max_entries'],
    );
  });
  it('reports a read whose ctx offset differs between paths as an unknown field', () => {
    const w = loaderWeaknesses(prog(mov64.reg(R6, R1), jmp.jeq.imm(R0, 0, 1), alu64.add.imm(R6, 16), ldx.w(R0, R6, 28), exit()));
    assert.deepEqual(
      w.map((x) => [x.details.mapIndex, x.details.field]),
      [[null, 'unknown']],
    );
  });
  it('counts a load-acquire through the ctx as a read', () => {
    assert.deepEqual(
      loaderWeaknesses(prog(atomic.loadAcquire.w(R0, R1, maxEntries1), exit())).map((x) => x.details.field),
      ['max_entries'],
    );
  });
  it('marks ctx reads after a map->sha check, and names maps from the header', () => {
    const w = loaderWeaknesses(prog(mov64.reg(R6, R1), ...shaCheck(true), ldx.w(R0, R6, maxEntries1), exit()), {
      header: { signature: new Uint8Array(1), exclProgHash: new Uint8Array(32), maps: ['counts', 'rodata'] },
    });
    assert.deepEqual(
      w.map((x) => [x.code, x.details.map, x.details.afterMetadataCheck]),
      [['CTX_OVERRIDES_MAP', 'rodata', true]],
    );
  });
  it('names a map->sha check without a map->excl read', () => {
    assert.deepEqual(codes(prog(...shaCheck(false), exit())), ['METADATA_MAP_NOT_EXCLUSIVE']);
    assert.deepEqual(codes(prog(...shaCheck(true), exit())), []);
  });
  it('takes from the header whether a signed skeleton asks for an exclusive metadata map', () => {
    const insns = prog(mov64.imm(R0, 0), exit());
    const w = loaderWeaknesses(insns, { header: { signature: new Uint8Array(1), exclProgHash: null, maps: [] } });
    assert.deepEqual(
      w.map((x) => [x.code, x.details.source]),
      [['METADATA_MAP_NOT_EXCLUSIVE', 'header']],
    );
    assert.deepEqual(
      codes(insns, { header: { signature: null, exclProgHash: null, maps: [] } }),
      [],
      'an unsigned header asks for nothing',
    );
  });
  it('reads big-endian loaders', () => {
    const be = encodeInsns([mov64.reg(R6, R1), ldx.w(R0, R6, maxEntries1), exit()], 'be');
    assert.deepEqual(
      loaderWeaknesses(be, { order: 'be' }).map((x) => x.details.mapIndex),
      [1],
    );
  });
  it('rejects a jump into the middle of an ld_imm64 or out of the program with a typed error', () => {
    assert.throws(
      () => loaderWeaknesses(prog(jmp.ja(1), ldImm64(R1, 0n), exit())),
      (e: unknown) => e instanceof LoaderError && e.code === 'INSN_INVALID',
    );
    assert.throws(
      () => loaderWeaknesses(prog(jmp.ja(-5), exit())),
      (e: unknown) => e instanceof LoaderError && e.code === 'INSN_INVALID',
    );
    assert.throws(
      () => loaderWeaknesses(new Uint8Array(12)),
      (e: unknown) => e instanceof LoaderError && e.code === 'INSN_INVALID',
    );
  });
});
