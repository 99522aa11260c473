/**
 * The answer memo: one run per key and second, the run's promise shared while it runs, nothing
 * kept of a rejection, and both bounds (entries and bytes) held by dropping the oldest.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerMemo } from '../../src/service/answer-memo.js';

const settle = () => new Promise((r) => setImmediate(r));

describe('AnswerMemo', () => {
  it('runs once per key and second, and again in another second', async () => {
    const m = new AnswerMemo<string>(8, 1 << 20, (a) => a.length);
    let runs = 0;
    const run = () => Promise.resolve(`run ${++runs}`);
    assert.equal(await m.get('k', 1, run), 'run 1');
    assert.equal(await m.get('k', 1, run), 'run 1');
    assert.equal(await m.get('k', 2, run), 'run 2');
    assert.equal(await m.get('j', 2, run), 'run 3');
    assert.deepEqual(m.stats, { hits: 1, misses: 3, evictions: 0, entries: 2 });
  });

  it('keeps nothing of a rejected run', async () => {
    const m = new AnswerMemo<string>(8, 1 << 20, (a) => a.length);
    await assert.rejects(
      m.get('k', 1, () => Promise.reject(new Error('budget'))),
      /budget/,
    );
    await settle();
    assert.equal(await m.get('k', 1, () => Promise.resolve('ok')), 'ok');
    assert.equal(m.stats.misses, 2);
  });

  it('drops the oldest answers past its entry bound and past its byte bound', async () => {
    const m = new AnswerMemo<string>(2, 10, (a) => a.length);
    for (const k of ['a', 'b', 'c']) await m.get(k, 1, () => Promise.resolve('x'));
    assert.deepEqual([m.stats.entries, m.stats.evictions], [2, 1]);
    await m.get('d', 1, () => Promise.resolve('y'.repeat(10)));
    await settle();
    assert.equal(m.stats.entries, 1, 'a 10-byte answer beside a 1-byte one is over the 10 bytes: the older goes');
    let ran = false;
    await m.get('d', 1, () => {
      ran = true;
      return Promise.resolve('');
    });
    assert.equal(ran, false, 'the newest is kept');
  });

  it('keys a body by its policy and the SHA-256 of its bytes, whatever its segments', () => {
    const whole = AnswerMemo.key(1, [Buffer.from('abcd')]);
    assert.equal(AnswerMemo.key(1, [Buffer.from('ab'), Buffer.from('cd')]), whole);
    assert.notEqual(AnswerMemo.key(2, [Buffer.from('abcd')]), whole);
    assert.notEqual(AnswerMemo.key(1, [Buffer.from('abce')]), whole);
  });
});
