/**
 * Declarations from the BTF a loader loads: for every object, the members lskelVarsFromBtf prints
 * from the plan's BTF_LOAD bytes (the object's BTF after libbpf's edits) are the ones the skeleton
 * of that object declares, so a header can be checked without its object.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { lskelVarsFromBtf, datasecFor } from '../../../src/loader/gen/lskel-btf.js';
import { buildLoader } from '../../../src/service/loader.js';
import { allObjects, readObject } from '../../support/objects.js';

describe('lskelVarsFromBtf', () => {
  it("gives every object's skeleton members from its loaded BTF", () => {
    let maps = 0;
    const differ: string[] = [];
    for (const o of allObjects()) {
      let built;
      try {
        built = buildLoader(readObject(o), o.name, {
          scheme: 'unsigned',
          name: 'skel',
          flavour: 'v1.7',
          standalone: false,
          mapExcl: false,
          host: { ksymAddresses: {} },
        });
      } catch {
        continue;
      }
      const op = built.plan.ops.find((x) => x.op === 'btf_load');
      if (!op || op.op !== 'btf_load') continue;
      const btf = parseBtf(op.btf);
      for (const m of built.lskel.maps) {
        if (!m.mmap) continue;
        maps++;
        try {
          assert.deepEqual(lskelVarsFromBtf(btf, m.ident), m.mmap.vars);
        } catch {
          differ.push(`${o.name} ${m.ident}`);
        }
      }
    }
    assert.ok(maps >= 20, `only ${maps} mapped maps`);
    assert.deepEqual(differ, []);
  });

  it('gives no members for an identifier no DATASEC has', () => {
    const o = allObjects().find((x) => x.name === 'globals.clang-el.o');
    assert.ok(o, 'globals.clang-el.o fixture');
    const built = buildLoader(readObject(o), o.name, {
      scheme: 'unsigned',
      name: 'skel',
      flavour: 'v1.7',
      standalone: false,
      mapExcl: false,
      host: { ksymAddresses: {} },
    });
    const op = built.plan.ops.find((x) => x.op === 'btf_load');
    assert.ok(op && op.op === 'btf_load');
    const btf = parseBtf(op.btf);
    assert.equal(datasecFor(btf, 'no_such_section'), null);
    assert.deepEqual(lskelVarsFromBtf(btf, 'no_such_section'), []);
    assert.ok(lskelVarsFromBtf(btf, 'bss').length > 0);
  });
});
