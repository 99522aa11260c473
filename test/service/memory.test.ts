/**
 * A held young generation stays at its size while much of what is allocated survives (what
 * makes V8 double it), unless the process was started with --max-semi-space-size. Each case runs
 * in a fresh process: V8 never shrinks the young generation under load.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const MEMORY = new URL('../../src/service/memory.js', import.meta.url).href;

/** The young generation's size (MB) in a fresh node before and after allocations that survive, holding it first when `hold`. */
function churn(hold: boolean, execArgv: string[] = [], worker = false): { before: number; after: number; held: boolean } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { Worker } from 'node:worker_threads';
    import { holdYoungGeneration } from ${JSON.stringify(MEMORY)};
    const mb = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / (1 << 20);
    const before = mb();
    const held = ${hold} ? holdYoungGeneration(process.execArgv) !== null : false;
    if (${worker}) await new Promise((resolve) => new Worker('setTimeout(() => {}, 50)', { eval: true }).once('exit', resolve));
    const live = [];
    let after = before;
    for (let r = 0; r < 1500; r++) {
      live.push(Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x' + i, a: [i, r] })));
      if (live.length > 40) live.shift();
      after = Math.max(after, mb());
      if (r % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(JSON.stringify({ before, after, held }));`;
  return JSON.parse(execFileSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' })) as {
    before: number;
    after: number;
    held: boolean;
  };
}

describe('holdYoungGeneration', () => {
  it('keeps the young generation at its size under allocations that survive', () => {
    const r = churn(true);
    assert.equal(r.held, true);
    // V8 counts a young generation that starts at one page short of its first size as one doubling.
    assert.ok(r.after <= 2 * r.before, `young generation ${r.before} MB → ${r.after} MB`);
  });

  it("keeps holding it after a worker thread started (which sets V8's growth factor back)", () => {
    const r = churn(true, [], true);
    assert.ok(r.after <= 8 * r.before, `young generation ${r.before} MB → ${r.after} MB`);
  });

  it('lets V8 grow it when not held (what the hold prevents)', () => {
    const r = churn(false);
    assert.ok(r.after > 2 * r.before, `young generation ${r.before} MB → ${r.after} MB`);
  });

  it('leaves it to --max-semi-space-size when the process was started with that flag', () => {
    const r = churn(true, ['--max-semi-space-size=8']);
    assert.equal(r.held, false);
    assert.ok(r.after > 2 * r.before, `young generation ${r.before} MB → ${r.after} MB`);
  });
});
