/**
 * Properties of the signed schemes and determinism, checked on the decoded loader.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeInsns } from '../../../src/loader/isa/index.js';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { ctxOffsets } from '../../../src/loader/uapi/index.js';
import { fixtureObjects } from '../../support/objects.js';
import { planFor } from './support.js';

const CLEANUP_LABEL = 7;
const pick = (prefix: string) => fixtureObjects().find((o) => o.name.startsWith(prefix))!;

/** Instructions with their slot index and, for jumps, the absolute target. */
function decoded(bytes: Uint8Array, order: 'le' | 'be') {
  let pc = 0;
  return decodeInsns(bytes, order).map((i) => {
    const at = pc;
    pc += i.width;
    const isJmp = (i.opcode & 0x07) === 0x05 && i.opcode !== 0x85 && i.opcode !== 0x95;
    return { ...i, at, target: isJmp ? at + 1 + i.off : undefined };
  });
}

/** ctx offsets of every map_desc max_entries / initial_value field. */
function descReads(nrMaps: number): Set<number> {
  const s = new Set<number>();
  for (let i = 0; i < nrMaps; i++) {
    s.add(ctxOffsets.mapMaxEntries(i));
    s.add(ctxOffsets.mapInitialValue(i));
  }
  return s;
}

describe('generateLoader schemes', () => {
  const plan = planFor(pick('globals.clang-el'));
  const unsigned = generateLoader(plan, { scheme: 'unsigned' });

  describe("when the scheme is 'linux-6.18'", () => {
    const g = generateLoader(plan, { scheme: 'linux-6.18' });
    const ins = decoded(g.insns, 'le');

    it('embeds SHA-256 of the data blob as four 64-bit constants compared with map->sha', () => {
      const digest = createHash('sha256').update(g.data).digest();
      const consts = ins.filter((i) => i.opcode === 0x18 && i.dst === 3 && i.src === 0).slice(0, 4);
      assert.equal(consts.length, 4);
      consts.forEach((c, k) => assert.equal(c.imm64, digest.readBigUInt64LE(8 * k), `hash dword ${k}`));
      const reads = ins.filter((i) => i.opcode === 0x79 && i.dst === 2 && i.src === 1).map((i) => i.off);
      assert.deepEqual(reads, [0, 8, 16, 24]);
    });

    it('places the check right after the cleanup block, and every mismatch branch lands exactly on the cleanup label', () => {
      const ja = ins[6];
      assert.equal(ja.opcode, 0x05);
      const first = ins.find((i) => i.at === ja.target)!;
      assert.equal(first.opcode, 0x18);
      assert.equal(first.src, 5, 'r1 = map pointer (BPF_PSEUDO_MAP_IDX)');
      const jne = ins.filter((i) => i.opcode === 0x5d);
      assert.equal(jne.length, 4);
      for (const j of jne) assert.equal(j.target, CLEANUP_LABEL);
    });

    it('never reads max_entries or initial_value from the ctx', () => {
      const bad = descReads(plan.nrMaps);
      assert.equal(ins.filter((i) => (i.opcode & 0x07) === 0x01 && i.src === 6 && bad.has(i.off)).length, 0);
      const unsignedReads = decoded(unsigned.insns, 'le').filter((i) => (i.opcode & 0x07) === 0x01 && i.src === 6 && bad.has(i.off));
      assert.ok(unsignedReads.length > 0, 'the unsigned loader does read them');
    });

    it('keeps the data blob of the unsigned loader', () => {
      assert.deepEqual(g.data, unsigned.data);
      assert.deepEqual(g.dataHash, new Uint8Array(createHash('sha256').update(g.data).digest()));
      assert.deepEqual(g.insnsHash, new Uint8Array(createHash('sha256').update(g.insns).digest()));
    });

    it('with a kernel whose struct bpf_map has excl, first requires map->excl == 1', () => {
      const x = decoded(generateLoader(plan, { scheme: 'linux-6.18', kernel: { mapExcl: true } }).insns, 'le');
      const ld = x.find((i) => i.opcode === 0x61 && i.dst === 2 && i.src === 1);
      assert.ok(ld, 'r2 = *(u32 *)(r1 + 32)');
      assert.equal(ld.off, 32);
      const jne = x.find((i) => i.opcode === 0x55 && i.dst === 2 && i.imm === 1)!;
      assert.equal(jne.target, CLEANUP_LABEL);
      assert.equal(x.length, ins.length + 4, '5 instruction slots more (one ld_imm64)');
    });
  });

  describe("when the scheme is 'linux-load-time'", () => {
    const g = generateLoader(plan, { scheme: 'linux-load-time' });
    const ins = decoded(g.insns, 'le');
    it('has no in-loader check and no map pointer loads', () => {
      assert.equal(ins.filter((i) => i.opcode === 0x18 && i.src === 5).length, 0);
      assert.equal(ins.filter((i) => i.opcode === 0x5d).length, 0);
    });
    it('never reads max_entries or initial_value from the ctx, and keeps the blob', () => {
      const bad = descReads(plan.nrMaps);
      assert.equal(ins.filter((i) => (i.opcode & 0x07) === 0x01 && i.src === 6 && bad.has(i.off)).length, 0);
      assert.deepEqual(g.data, unsigned.data);
    });
  });

  describe('determinism', () => {
    for (const o of fixtureObjects()) {
      it(`${o.name}: two plans and generations are byte-identical`, (t) => {
        let p1, p2;
        try {
          p1 = planFor(o);
          p2 = planFor(o);
        } catch (e) {
          t.skip(`not plannable: ${(e as Error).message}`);
          return;
        }
        for (const scheme of ['unsigned', 'linux-6.18', 'linux-load-time'] as const) {
          const a = generateLoader(p1, { scheme }),
            b = generateLoader(p2, { scheme });
          assert.deepEqual(a.insns, b.insns, scheme);
          assert.deepEqual(a.data, b.data, scheme);
        }
      });
    }
  });

  describe('when the object is big-endian', () => {
    it('emits the same layout as the little-endian build, in big-endian byte order', () => {
      const el = generateLoader(planFor(pick('map_in_map.clang-el')), { scheme: 'unsigned' });
      const eb = generateLoader(planFor(pick('map_in_map.clang-eb')), { scheme: 'unsigned' });
      assert.equal(eb.insns.length, el.insns.length);
      assert.equal(eb.data.length, el.data.length);
      const a = decoded(el.insns, 'le'),
        b = decoded(eb.insns, 'be');
      assert.deepEqual(
        b.map((i) => [i.opcode, i.dst, i.src, i.off, i.imm]),
        a.map((i) => [i.opcode, i.dst, i.src, i.off, i.imm]),
      );
    });
  });
});
