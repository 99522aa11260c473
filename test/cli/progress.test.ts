/** Progress for batch commands: a bar in place on a terminal, one line per item in logs; bounded concurrency. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, eachLimited } from '../../src/cli/progress.js';

const sink = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, isTTY, columns: 80, write: (s: string) => out.push(s) };
};

describe('Progress', () => {
  it('writes one line per finished item when the output is not a terminal', () => {
    const s = sink(false);
    const p = new Progress(3, s);
    p.tick('a');
    p.tick('b', false, 'HTTP_400: bad');
    p.tick('c');
    assert.deepEqual(s.out, ['[1/3] ok   a\n', '[2/3] FAIL b HTTP_400: bad\n', '[3/3] ok   c\n']);
    assert.equal(p.failed, 1);
  });

  it('redraws one bar with count, rate and time left on a terminal, ending with a newline', () => {
    let t = 0;
    const s = sink(true);
    const p = new Progress(4, s, () => t);
    t = 1000;
    p.tick('first');
    assert.match(s.out[0], /^\r\[#{8}\.{22}\] 1\/4  1\.0\/s  ~3s left  first\x1b\[K$/);
    t = 2000;
    p.tick('second', false);
    assert.match(s.out[1], /2\/4 {2}1\.0\/s {2}~2s left {2}1 failed {2}second/);
    p.tick('x');
    p.tick('y');
    assert.equal(s.out.at(-1), '\n');
  });
});

describe('eachLimited', () => {
  it('never runs more than the given number at once and runs every item', async () => {
    let running = 0,
      peak = 0;
    const seen: number[] = [];
    await eachLimited([...Array(20).keys()], 3, async (x) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 1 + (x % 4)));
      seen.push(x);
      running--;
    });
    assert.equal(peak, 3);
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      [...Array(20).keys()],
    );
  });
});
