/**
 * generateLoader with compat 'libbpf-1.7.0': what differs from our own loaders, and what it
 * refuses because libbpf v1.7.0 cannot generate it (byte identity: bpftool-7.7.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoaderError } from '../../../src/loader/errors.js';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { decodeInsns } from '../../../src/loader/isa/index.js';
import { fixtureObjects } from '../../support/objects.js';
import { planFor } from './support.js';

const pick = (prefix: string) => fixtureObjects().find((o) => o.name.startsWith(prefix))!;
const typed = (field: string) => (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED' && e.details.field === field;
const CLEANUP_LABEL = 7;

describe("generateLoader compat 'libbpf-1.7.0'", () => {
  const plan = planFor(pick('globals.clang-el'));

  it('gives the same unsigned loader as ours for an object with at most 32 programs', () => {
    assert.ok(plan.nrPrograms <= 32);
    assert.deepEqual(
      generateLoader(plan, { scheme: 'unsigned', compat: 'libbpf-1.7.0' }).insns,
      generateLoader(plan, { scheme: 'unsigned' }).insns,
    );
  });
  it("always uses libbpf's 136-byte stack area, also past 32 programs", () => {
    const big = planFor(pick('big.clang-el'));
    assert.ok(big.stackSize > 136, 'our plan widens the stack for big');
    const first = decodeInsns(generateLoader(big, { scheme: 'unsigned', compat: 'libbpf-1.7.0' }).insns, 'le');
    assert.equal(first[2].imm, -136);
  });
  it('branches from the metadata check one instruction past the cleanup label, as v1.7.0 does', () => {
    const g = generateLoader(plan, { scheme: 'linux-6.18', compat: 'libbpf-1.7.0' });
    let pc = 0;
    const targets = decodeInsns(g.insns, 'le').flatMap((i) => {
      const at = pc;
      pc += i.width;
      return i.opcode === 0x5d ? [at + 1 + i.off] : [];
    });
    assert.deepEqual(targets, [CLEANUP_LABEL + 1, CLEANUP_LABEL + 1, CLEANUP_LABEL + 1, CLEANUP_LABEL + 1]);
    assert.equal(g.compat, 'libbpf-1.7.0');
  });
  it('refuses the load-time scheme, the map->excl check and unknown compat values', () => {
    assert.throws(() => generateLoader(plan, { scheme: 'linux-load-time', compat: 'libbpf-1.7.0' }), typed('scheme'));
    assert.throws(
      () => generateLoader(plan, { scheme: 'linux-6.18', compat: 'libbpf-1.7.0', kernel: { mapExcl: true } }),
      typed('kernel.mapExcl'),
    );
    assert.throws(() => generateLoader(plan, { scheme: 'unsigned', compat: 'libbpf-9' as 'bpfsign' }), typed('compat'));
  });
  it('refuses pinned maps and PROG_ARRAY initial slots, which libbpf cannot record in a loader', () => {
    assert.throws(() => generateLoader(planFor(pick('maps.clang-el')), { scheme: 'unsigned', compat: 'libbpf-1.7.0' }), typed('maps'));
    assert.throws(() => generateLoader(planFor(pick('tailcall.clang-el')), { scheme: 'unsigned', compat: 'libbpf-1.7.0' }), typed('maps'));
  });
});
