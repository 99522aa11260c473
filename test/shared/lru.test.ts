/** The bounded LRU map behind the service's content-addressed caches. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lru, Sightings } from '../../src/shared/lru.js';

describe('Lru', () => {
  it('drops the least recently used entry when it holds more than its entry bound', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    assert.equal(c.get('a'), 1); // a is now the most recent
    c.set('c', 3);
    assert.equal(c.get('b'), undefined);
    assert.equal(c.get('a'), 1);
    assert.equal(c.get('c'), 3);
    assert.deepEqual(c.stats, { hits: 3, misses: 1, evictions: 1 });
  });

  it('keeps the total weight within its bound and never stores an entry heavier than the bound', () => {
    const c = new Lru<string, string>(100, 10);
    c.set('a', 'x', 4);
    c.set('b', 'y', 4);
    c.set('c', 'z', 4);
    assert.equal(c.size, 2);
    assert.equal(c.weight, 8);
    assert.equal(c.get('a'), undefined);
    c.set('big', 'w', 11);
    assert.equal(c.get('big'), undefined);
    assert.equal(c.weight, 8);
  });

  it('computes a missing value once through `through`, and stores nothing when its bound is 0', () => {
    let made = 0;
    const c = new Lru<string, number>(4);
    assert.equal(
      c.through('k', () => ++made),
      1,
    );
    assert.equal(
      c.through('k', () => ++made),
      1,
    );
    assert.equal(made, 1);
    const off = new Lru<string, number>(0);
    off.through('k', () => ++made);
    off.through('k', () => ++made);
    assert.equal(made, 3);
    assert.equal(off.size, 0);
  });

  it('replacing a key updates its weight instead of adding to it', () => {
    const c = new Lru<string, number>(4, 100);
    c.set('a', 1, 30);
    c.set('a', 2, 50);
    assert.equal(c.weight, 50);
    assert.equal(c.get('a'), 2);
  });

  describe('with secondSight', () => {
    it('stores a value only when its key is offered the second time', () => {
      const c = new Lru<string, number>(4, Infinity, { secondSight: true });
      c.set('a', 1);
      assert.equal(c.has('a'), false, 'first sight: remembered, not stored');
      c.set('a', 1);
      assert.equal(c.get('a'), 1);
      c.set('a', 2);
      assert.equal(c.get('a'), 2, 'a stored key is replaced at once');
    });

    it('remembers a key for maxEntries to twice maxEntries first sights of other keys', () => {
      const c = new Lru<string, number>(2, Infinity, { secondSight: true });
      c.set('a', 1);
      c.set('b', 1);
      c.set('c', 1);
      c.set('d', 1); // a and b move to the older generation
      c.set('a', 1);
      assert.equal(c.has('a'), true, 'a, two first sights later, is still remembered');
      c.set('e', 1);
      c.set('f', 1);
      c.set('g', 1);
      c.set('h', 1);
      c.set('b', 1);
      assert.equal(c.has('b'), false, 'b, six first sights later, was forgotten (and is remembered afresh)');
      c.set('b', 1);
      assert.equal(c.has('b'), true);
    });

    it('computes through `through` each time until the second sight, and stores nothing when its bound is 0', () => {
      let made = 0;
      const c = new Lru<string, number>(4, Infinity, { secondSight: true });
      for (let i = 0; i < 3; i++) c.through('k', () => ++made);
      assert.equal(made, 2);
      const off = new Lru<string, number>(0, Infinity, { secondSight: true });
      off.set('k', 1);
      off.set('k', 1);
      assert.equal(off.size, 0);
    });
  });
});

describe('Sightings', () => {
  it('remembers a key for capacity to twice capacity keys added after it, and afresh when added again', () => {
    const s = new Sightings<string>(2);
    for (const k of ['a', 'b', 'c']) s.add(k);
    assert.equal(s.has('a'), true, 'a and b moved to the older generation');
    s.add('a');
    s.add('d');
    s.add('e');
    assert.equal(s.has('a'), true, 'added again, a is new again');
    assert.equal(s.has('b'), false, 'b was forgotten');
    s.delete('a');
    assert.equal(s.has('a'), false);
    s.clear();
    assert.equal(s.has('e'), false);
  });
});
