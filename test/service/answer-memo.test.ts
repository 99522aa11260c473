/**
 * The answer memo: a body seen for the first time is run and not kept; from its second sight on,
 * one run per body, policy and second, the run's promise shared while it runs, nothing kept of a
 * rejection or of a second that has passed, and both bounds (entries and bytes) held by dropping
 * the oldest.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { AHEAD_MS, AnswerMemo } from '../../src/service/answer-memo.js';

const crc32Of = (b: Uint8Array) => crc32(b) >>> 0;

/** Sets the last four bytes of `b` so that its CRC-32 is `want` (CRC-32 is invertible over 32 bits of free input). */
function forceCrc(b: Buffer, want: number): void {
  // Try each 32-bit tail's effect by linearity: crc(b with tail t) = crc(b with tail 0) ^ L(t), L linear.
  b.writeUInt32LE(0, b.length - 4);
  const base = crc32Of(b);
  const col: number[] = [];
  for (let i = 0; i < 32; i++) {
    b.writeUInt32LE((1 << i) >>> 0, b.length - 4);
    col.push((crc32Of(b) ^ base) >>> 0);
  }
  // Solve L(t) = want ^ base over GF(2) by Gaussian elimination.
  const rows = col.map((v, i) => ({ v, t: (1 << i) >>> 0 }));
  let target = (want ^ base) >>> 0,
    t = 0;
  for (let bit = 31; bit >= 0; bit--) {
    const p = rows.findIndex((r) => (r.v >>> bit) & 1);
    if (p < 0) continue;
    const [pivot] = rows.splice(p, 1);
    for (const r of rows) if ((r.v >>> bit) & 1) ((r.v = (r.v ^ pivot.v) >>> 0), (r.t = (r.t ^ pivot.t) >>> 0));
    if ((target >>> bit) & 1) ((target = (target ^ pivot.v) >>> 0), (t = (t ^ pivot.t) >>> 0));
  }
  b.writeUInt32LE(t, b.length - 4);
}

const settle = () => new Promise((r) => setImmediate(r));
const b = (s: string) => [Buffer.from(s)];

/** `m`, once it has seen each of `bodies` under policy 1 (so that their answers are kept from now on), in second 1. */
function seen(m: AnswerMemo<string>, ...bodies: string[]): AnswerMemo<string> {
  for (const s of bodies) void m.get(1, b(s), 1_000, () => Promise.resolve('first sight'));
  return m;
}

describe('AnswerMemo', () => {
  it('runs a body seen for the first time without keeping its answer', async () => {
    const m = new AnswerMemo<string>(8, 1 << 20, (a) => a.length);
    let runs = 0;
    const run = () => Promise.resolve(`run ${++runs}`);
    assert.equal(await m.get(1, b('k'), 1_000, run), 'run 1');
    assert.deepEqual(m.stats, { hits: 0, misses: 1, evictions: 0, entries: 0 });
    assert.equal(await m.get(1, b('k'), 1_000, run), 'run 2', 'the second sight runs, and is kept');
    assert.equal(await m.get(1, b('k'), 1_000, run), 'run 2');
    assert.equal(await m.get(2, b('k'), 1_000, run), 'run 3', 'under another policy it is another body, seen first now');
    assert.deepEqual(m.stats, { hits: 1, misses: 3, evictions: 0, entries: 1 });
  });

  it('runs once per body and second, and again in another second', async () => {
    const m = seen(new AnswerMemo<string>(8, 1 << 20, (a) => a.length), 'k', 'j');
    let runs = 0;
    const run = () => Promise.resolve(`run ${++runs}`);
    assert.equal(await m.get(1, b('k'), 1_000, run), 'run 1');
    assert.equal(await m.get(1, b('k'), 1_000, run), 'run 1');
    assert.equal(await m.get(1, b('k'), 2_000, run), 'run 2');
    assert.equal(await m.get(1, b('j'), 2_000, run), 'run 3');
    assert.deepEqual(m.stats, { hits: 1, misses: 5, evictions: 0, entries: 2 });
  });

  it("starts the next second's verification when a kept answer is given late in its second", async () => {
    const m = seen(new AnswerMemo<string>(8, 1 << 20, (a) => a.length), 'k');
    const asked: number[] = [];
    const run = (second: number) => (asked.push(second), Promise.resolve(`at ${second}`));
    assert.equal(await m.get(1, b('k'), 1_000, run), 'at 1');
    assert.equal(await m.get(1, b('k'), 1_999 - AHEAD_MS, run), 'at 1', 'early in the second: nothing more');
    assert.deepEqual(asked, [1]);
    assert.equal(await m.get(1, b('k'), 2_000 - AHEAD_MS, run), 'at 1', "late in the second: this second's answer…");
    assert.deepEqual(asked, [1, 2], "…and the next one's started, checked at the start of second 2");
    await m.get(1, b('k'), 1_999, run);
    assert.deepEqual(asked, [1, 2], 'once');
    assert.equal(await m.get(1, b('k'), 2_000, run), 'at 2', 'given when second 2 comes');
    assert.deepEqual(asked, [1, 2]);
    assert.equal(m.stats.entries, 1, "second 1's answer is dropped");
  });

  it('drops the answers of a second that has passed', async () => {
    const m = seen(new AnswerMemo<string>(8, 1 << 20, (a) => a.length), 'a', 'b', 'c');
    await m.get(1, b('a'), 1_000, () => Promise.resolve('x'));
    await m.get(1, b('b'), 1_000, () => Promise.resolve('x'));
    assert.equal(m.stats.entries, 2);
    await m.get(1, b('c'), 2_000, () => Promise.resolve('x'));
    assert.equal(m.stats.entries, 1, 'only the answer of second 2 is left');
  });

  it('tells two bodies of one fingerprint apart by their SHA-256', async () => {
    // CRC-32 is linear: a body and another that differs by a CRC-32 of zero bytes collide, and
    // appending four chosen bytes makes any body collide with another of its length.
    const x = Buffer.from('bundle A, genuine....'),
      y = Buffer.from(x);
    y[0] ^= 1;
    forceCrc(y, crc32Of(x));
    assert.equal(AnswerMemo.fingerprint(1, [y]), AnswerMemo.fingerprint(1, [x]), 'the two bodies share a fingerprint');
    const m = new AnswerMemo<string>(8, 1 << 20, (a) => a.length);
    await m.get(1, [x], 1_000, () => Promise.resolve('OK'));
    await m.get(1, [x], 1_000, () => Promise.resolve('OK'));
    assert.equal(
      await m.get(1, [y], 1_000, () => Promise.resolve('FAIL')),
      'FAIL',
      "the forged body is verified, not given the genuine one's answer",
    );
  });

  it('keeps nothing of a rejected run', async () => {
    const m = seen(new AnswerMemo<string>(8, 1 << 20, (a) => a.length), 'k');
    await assert.rejects(
      m.get(1, b('k'), 1_000, () => Promise.reject(new Error('budget'))),
      /budget/,
    );
    await settle();
    assert.equal(await m.get(1, b('k'), 1_000, () => Promise.resolve('ok')), 'ok');
    assert.equal(m.stats.misses, 3);
  });

  it('drops the oldest answers past its entry bound and past its byte bound', async () => {
    const m = new AnswerMemo<string>(2, 10, (a) => a.length);
    for (const k of ['a', 'b', 'c']) await seen(m, k).get(1, b(k), 1_000, () => Promise.resolve('x'));
    assert.deepEqual([m.stats.entries, m.stats.evictions], [2, 1]);
    await seen(m, 'd').get(1, b('d'), 1_000, () => Promise.resolve('y'.repeat(10)));
    await settle();
    assert.equal(m.stats.entries, 1, 'a 10-byte answer beside a 1-byte one is over the 10 bytes: the older goes');
    let ran = false;
    await m.get(1, b('d'), 1_000, () => {
      ran = true;
      return Promise.resolve('');
    });
    assert.equal(ran, false, 'the newest is kept');
  });

  it('keys and fingerprints a body by its policy and its bytes, whatever its segments', () => {
    for (const f of [AnswerMemo.key, AnswerMemo.fingerprint]) {
      const whole = f(1, [Buffer.from('abcd')]);
      assert.equal(f(1, [Buffer.from('ab'), Buffer.from('cd')]), whole);
      assert.notEqual(f(2, [Buffer.from('abcd')]), whole);
      assert.notEqual(f(1, [Buffer.from('abce')]), whole);
      assert.notEqual(f(1, [Buffer.from('abcd\0')]), whole);
    }
  });
});
