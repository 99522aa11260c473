/**
 * The light-skeleton language registry (src/loader/gen/lang.ts): one call for every language,
 * C being the existing header emitter, and typed errors for a language it does not know.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoaderError } from '../../../src/loader/errors.js';
import { emitSkeleton, isSkeletonLang, SKELETON_LANGS } from '../../../src/loader/gen/lang.js';
import { emitLightSkeleton, type LightSkeletonInput } from '../../../src/loader/gen/lskel.js';
import { emitGoSkeleton } from '../../../src/loader/gen/go.js';

const input: LightSkeletonInput = {
  name: 'tiny',
  insns: new Uint8Array(16),
  data: new Uint8Array(8),
  hasBtf: false,
  maps: [{ name: 'counts', ident: 'counts', mmap: null }],
  progs: [{ name: 'handle', attach: { kind: 'none' } }],
};

describe('light-skeleton languages', () => {
  it('lists c, go and rust', () => {
    assert.deepEqual([...SKELETON_LANGS], ['c', 'go', 'rust']);
    assert.ok(SKELETON_LANGS.every(isSkeletonLang));
    assert.equal(isSkeletonLang('zig'), false);
  });

  it('gives C as the header emitter prints it, in NAME.lskel.h', () => {
    for (const flavour of ['v1.7', 'bpftool-7.1'] as const) {
      assert.deepEqual(emitSkeleton('c', input, { flavour }), { fileName: 'tiny.lskel.h', text: emitLightSkeleton(input, { flavour }) });
    }
  });

  it('gives Go as the Go emitter prints it, in NAME.lskel.go', () => {
    assert.deepEqual(emitSkeleton('go', input, { flavour: 'v1.7' }), { fileName: 'tiny.lskel.go', text: emitGoSkeleton(input) });
  });

  it('refuses a language it does not know with a typed error naming the field', () => {
    assert.throws(
      () => emitSkeleton('zig' as 'c', input, { flavour: 'v1.7' }),
      (e) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED' && e.details.field === 'lang',
    );
  });
});
