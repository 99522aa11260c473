/**
 * boundHeapGrowth: the old space grows by the factor it sets, not V8's own (up to 4× what
 * survived). Each case runs in a fresh process (the flag is the process's) over the same load: a
 * live set of about 50 MB in the old space and short-lived arrays that survive long enough to be
 * promoted, so full collections come only when the old space reaches its limit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const MEMORY = new URL('../../src/service/memory.js', import.meta.url).href;

/** The most heap in use (MB) over the load, with boundHeapGrowth(percent) called first when percent is given. */
function peakMb(percent: number | null, execArgv: string[] = []): number {
  const script = `
    import { getHeapStatistics } from 'node:v8';
    import { boundHeapGrowth } from ${JSON.stringify(MEMORY)};
    if (${percent} !== null) boundHeapGrowth(${percent}, process.execArgv);
    const live = [];
    for (let i = 0; i < 48; i++) live.push(Array.from({ length: 20000 }, (_, j) => ({ j, s: 'x' })));
    let peak = 0;
    const ring = [];
    for (let r = 0; r < 4000; r++) {
      ring.push(Array.from({ length: 2000 }, (_, j) => ({ j })));
      if (ring.length > 200) ring.shift();
      if (r % 20 === 0) peak = Math.max(peak, getHeapStatistics().used_heap_size);
    }
    console.log(peak / (1 << 20));`;
  return Number(execFileSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' }));
}

describe('boundHeapGrowth', () => {
  it("keeps the heap well below V8's own growth when it bounds the old space at 100%", () => {
    const own = peakMb(null),
      bounded = peakMb(100);
    assert.ok(bounded < 0.75 * own, `peak heap in use ${bounded.toFixed(0)} MB bounded, ${own.toFixed(0)} MB with V8's own factor`);
  });

  it('leaves V8 its own factor at 0', () => {
    const own = peakMb(null),
      zero = peakMb(0);
    assert.ok(zero > 0.75 * own, `peak heap in use ${zero.toFixed(0)} MB at 0, ${own.toFixed(0)} MB with V8's own factor`);
  });

  it('leaves the factor to --heap-growing-percent when the process was started with it', () => {
    const bounded = peakMb(100),
      flag = peakMb(100, ['--heap-growing-percent=300']);
    assert.ok(flag > bounded / 0.75, `peak heap in use ${flag.toFixed(0)} MB under the flag, ${bounded.toFixed(0)} MB bounded at 100%`);
  });
});
