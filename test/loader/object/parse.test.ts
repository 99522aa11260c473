/**
 * parseObject over every real object we have, checked against an independent reading:
 * test/fixtures/catalog.json lists the features each fixture exercises, found by
 * test/fixtures/inspect_fixture.py (a separate Python reader of the ELF, BTF and BTF.ext),
 * not by this code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allObjects, fixtureObjects, readObject } from '../../support/objects.js';
import { parseObject, objectNameFromPath, FEATURES } from '../../../src/loader/object/index.js';

/** Objects libbpf opens but cannot link (see libbpf.test.ts); parse refuses them with a typed error. */
const UNLINKABLE = new Set(['subprogs.gcc-el.o']);

/** The catalogue's vocabulary → ours, where the two name the same thing differently. */
const CATALOG_TO_OURS: Record<string, string> = {
  license_gpl: 'gpl',
  version_section: 'kern_version',
  prog_xdp_frags: 'xdp_frags',
  prog_noautoload: 'autoload_off',
  core_enum: 'core_type',
  core_field_size: 'core_field',
  rodata_str: 'rodata_custom',
  prog_array_init: 'prog_array_slots',
};

describe('parseObject', () => {
  const objects = allObjects();
  // Every keyword the independent reader can report (the union over the catalogue), in our names.
  const vocabulary = new Set(
    fixtureObjects()
      .flatMap((o) => o.entry?.features ?? [])
      .map((f) => CATALOG_TO_OURS[f] ?? f)
      .filter((f) => f in FEATURES),
  );

  it('finds the fixtures and the xdp-tools objects', () => {
    assert.ok(fixtureObjects().length >= 20, `fixtures: ${fixtureObjects().length}`);
    assert.ok(
      objects.some((o) => o.origin === 'xdp-tools'),
      'no xdp-tools objects: install xdp-tools (scripts/install-deps.sh)',
    );
  });

  for (const o of objects) {
    describe(`${o.origin} ${o.name}`, () => {
      const bytes = readObject(o);
      const name = objectNameFromPath(o.path);
      if (UNLINKABLE.has(o.name)) {
        it('refuses it with OBJECT_MALFORMED naming the section, symbol and pc', () => {
          assert.throws(
            () => parseObject(bytes, { name }),
            (e: any) => e.code === 'OBJECT_MALFORMED' && e.details.section && e.details.symbol && typeof e.details.pc === 'number',
          );
        });
        return;
      }
      it('gives deep-equal specs when parsing the same bytes twice', () => {
        assert.deepStrictEqual(parseObject(bytes, { name }), parseObject(new Uint8Array(bytes), { name }));
      });
      it('keeps every program instruction inside the linked program and every relocation on a real instruction', () => {
        const spec = parseObject(bytes, { name });
        for (const p of spec.programs) {
          const starts = new Set<number>();
          let slot = 0;
          for (const i of p.insns) {
            starts.add(slot);
            slot += i.width;
          }
          assert.equal(slot, p.slots + p.linked.reduce((n, l) => n + l.slots, 0), `${p.name}: linked size`);
          for (const r of p.relocations)
            assert.ok(starts.has(r.insn), `${p.name}: relocation at slot ${r.insn} is not an instruction start`);
          for (const f of p.funcInfo) assert.ok(starts.has(f.insn), `${p.name}: func_info at ${f.insn}`);
          for (const r of p.relocations) {
            if (r.kind === 'map' || r.kind === 'data') assert.equal(spec.maps[r.mapIndex].name, r.map);
            if (r.kind === 'call' || r.kind === 'subprog_addr') {
              assert.ok(
                p.linked.some((l) => l.name === r.target && l.start === r.targetInsn),
                `${p.name}: call target ${r.target}`,
              );
            }
          }
        }
      });
      const entry = o.entry;
      if (entry?.features) {
        it('detects exactly the catalogue features that our feature table also names', () => {
          const spec = parseObject(bytes, { name });
          const theirs = new Set(entry.features!.map((f) => CATALOG_TO_OURS[f] ?? f).filter((f) => f in FEATURES));
          // The catalogue's reader classifies map types of BTF-defined maps only; a legacy
          // SEC("maps") PROG_ARRAY is listed there as legacy_maps + tail_call.
          const legacyOnly = entry.features!.includes('legacy_maps') ? new Set(['prog_array']) : new Set<string>();
          const ours = spec.features.filter((f) => vocabulary.has(f) && !legacyOnly.has(f));
          // Every feature the independent reader found, we find.
          for (const f of theirs) assert.ok(spec.features.includes(f), `the catalogue says ${f}; we detected ${spec.features.join(',')}`);
          // And we claim nothing in the shared vocabulary that it did not find.
          for (const f of ours) assert.ok(theirs.has(f), `we detected ${f}, the catalogue does not list it`);
        });
      }
    });
  }
});
