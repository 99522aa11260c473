/**
 * A sample of the mutation fuzzing `npm run fuzz` does at 100,000+ mutants: every mutated
 * object either parses or throws a LoaderError; no other exception, no slow parse.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allObjects, readObject } from '../support/objects.js';
import { fuzzObjects, mutate, regionsOf, rng } from '../support/fuzz.js';

describe('parseObject under mutation', () => {
  const seeds = allObjects()
    .filter((o) => o.name !== 'big.clang-el.o')
    .map((o) => ({ name: o.name, bytes: readObject(o) }));

  it('only ever parses or throws LoaderError over 3,000 mutants of every object', () => {
    const res = fuzzObjects(seeds, 3000, { seed: 20261125 });
    assert.deepEqual(res.findings, []);
    assert.equal(res.runs, 3000);
    // Mutants must exercise both outcomes, or the mutator is not reaching the parser.
    assert.ok(res.typedErrors > 300, `typed errors: ${res.typedErrors}`);
    assert.ok(res.parsed > 300, `parsed: ${res.parsed}`);
  });

  it('aims mutations at ELF, BTF and BTF.ext structures', () => {
    const regions = regionsOf(seeds[0].bytes).map((r) => r.name);
    for (const r of ['ehdr', 'shdrs', 'symtab', 'btf_hdr', 'btf', 'btf_ext_hdr']) assert.ok(regions.includes(r), r);
  });

  it('replays a mutant exactly from its seed', () => {
    const r1 = rng(7),
      r2 = rng(7);
    const regions = regionsOf(seeds[0].bytes);
    assert.deepEqual(mutate(seeds[0].bytes, regions, r1), mutate(seeds[0].bytes, regions, r2));
  });
});
