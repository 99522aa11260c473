/** Freezing shared memo results, and telling them apart by identity. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deepFreeze, isDeepFrozen } from '../../src/shared/freeze.js';

describe('deepFreeze', () => {
  it('freezes a value all the way down and records each object in it as deep-frozen', () => {
    const v = deepFreeze({ a: { b: [1, { c: 2 }] }, bytes: new Uint8Array(2) });
    assert.ok(Object.isFrozen(v) && Object.isFrozen(v.a) && Object.isFrozen(v.a.b) && Object.isFrozen(v.a.b[1]));
    assert.ok(isDeepFrozen(v) && isDeepFrozen(v.a) && isDeepFrozen(v.a.b[1]));
    assert.ok(!Object.isFrozen(v.bytes), 'typed arrays cannot be frozen and are left as they are');
    assert.ok(!isDeepFrozen(v.bytes));
  });

  it('freezes without recording when the value is not shared, so no memo keys on it', () => {
    const v = deepFreeze({ plan: { ops: [{ op: 'btf_load' }] } }, false);
    assert.ok(Object.isFrozen(v) && Object.isFrozen(v.plan.ops[0]));
    assert.ok(!isDeepFrozen(v) && !isDeepFrozen(v.plan));
  });

  it('says false for values that never went through it, frozen or not', () => {
    assert.ok(!isDeepFrozen(Object.freeze({ a: 1 })));
    assert.ok(!isDeepFrozen({}));
    assert.ok(!isDeepFrozen(null) && !isDeepFrozen('x') && !isDeepFrozen(1));
  });
});
