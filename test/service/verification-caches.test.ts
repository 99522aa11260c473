/**
 * The verification memos the service owns and passes to the signing core: a verification through
 * them gives the verdict a verification without them gives, counts its hits and misses, and the
 * core keeps nothing when none are passed (no memo lives in a module any more).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { bearer, buildTestApp, testProfile, TOKENS } from '../api/helper.js';
import { verdictJson, verifyBundle } from '../../src/service/verify.js';
import { VerificationMemos, VERIFICATION_MEMOS } from '../../src/service/verification-caches.js';
import { deepFreeze } from '../../src/shared/freeze.js';
import type { Bundle } from '../../src/signing/bundle.js';
import type { TrustPolicy } from '../../src/signing/policy.js';

describe('VerificationMemos', () => {
  let bundle: Bundle;
  let policy: TrustPolicy;
  const profile = testProfile();
  const at = new Date();

  before(async () => {
    const t = await buildTestApp();
    const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
    const made = await t.app.inject({
      method: 'POST',
      url: '/v1/loaders?name=xdp_filter',
      headers: { 'content-type': 'application/octet-stream', ...bearer(TOKENS.all) },
      payload: obj,
    });
    assert.equal(made.statusCode, 201, made.body);
    bundle = made.json().bundle as Bundle;
    policy = await t.app.services.signing.defaultPolicy();
  });

  const text = (caches?: VerificationMemos, b: Bundle = bundle) => verdictJson(verifyBundle(b, policy, { at, profile, caches }));

  it('gives the verdict a verification without memos gives, first and again', () => {
    const memos = new VerificationMemos(8);
    const plain = text();
    assert.match(plain, /"verdict":"OK"/);
    assert.equal(text(memos), plain);
    assert.equal(text(memos), plain);
  });

  it('answers the repeated work from the memos, counting hits and misses', () => {
    const memos = new VerificationMemos(8);
    text(memos);
    const first = memos.stats;
    assert.equal(first.signatures.hits, 0);
    assert.ok(first.signatures.misses > 0 && first.certificates.misses > 0 && first.statements.misses === 1);
    text(memos);
    const second = memos.stats;
    for (const k of ['signatures', 'certificates', 'signed_data', 'statements', 'verifier_keys'] as const) {
      assert.ok(second[k].hits > 0, `${k}: ${JSON.stringify(second[k])}`);
    }
  });

  it('keeps the facts of a shared (deep-frozen) bundle by its identity, and of no other', () => {
    const memos = new VerificationMemos(8);
    const shared = deepFreeze(structuredClone(bundle));
    text(memos, shared);
    text(memos, shared);
    assert.deepEqual([memos.stats.bundle_facts.hits, memos.stats.bundle_facts.misses], [1, 1]);
    text(memos);
    assert.equal(memos.stats.bundle_facts.misses, 1, 'a bundle that is not shared is not looked up');
  });

  it('with 0 entries keeps nothing a request brings (signatures, statements, bundle facts), and gives the same verdict', () => {
    const memos = new VerificationMemos(0);
    assert.equal(text(memos), text());
    text(memos);
    assert.deepEqual(Object.keys(memos.stats), [...VERIFICATION_MEMOS]);
    for (const k of ['signatures', 'statements', 'bundle_facts'] as const)
      assert.deepEqual(memos.stats[k], { hits: 0, misses: 0, evictions: 0, entries: 0 });
    assert.ok(memos.stats.certificates.hits > 0, "the configuration's certificates are still parsed once");
  });

  it('shares nothing between two owners: each counts only its own work', () => {
    const a = new VerificationMemos(8),
      b = new VerificationMemos(8);
    text(a);
    text(a);
    text(b);
    assert.equal(b.stats.signatures.hits, 0);
    assert.equal(b.stats.statements.hits, 0);
  });
});
