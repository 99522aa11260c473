/** FifoGate: CPU-bound jobs run in arrival order, one per event-loop turn, and report their own outcome. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FifoGate } from '../../src/service/fifo.js';

describe('FifoGate', () => {
  it('runs jobs in the order they arrived and resolves each with its own result', async () => {
    const gate = new FifoGate();
    const order: number[] = [];
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        gate.run(() => {
          order.push(i);
          return i * 10;
        }),
      ),
    );
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.deepEqual(results, [0, 10, 20, 30, 40]);
    assert.equal(gate.maxWaiting, 5);
    assert.equal(gate.waiting, 0);
  });

  it('lets timers and I/O callbacks run between two jobs', async () => {
    const gate = new FifoGate();
    const seen: string[] = [];
    const a = gate.run(() => {
      seen.push('job a');
      setImmediate(() => seen.push('immediate queued by a'));
    });
    const b = gate.run(() => seen.push('job b'));
    await Promise.all([a, b]);
    assert.deepEqual(seen, ['job a', 'immediate queued by a', 'job b']);
  });

  it('rejects the caller whose job throws and goes on with the next', async () => {
    const gate = new FifoGate();
    const bad = gate.run(() => {
      throw new RangeError('boom');
    });
    const good = gate.run(() => 'fine');
    await assert.rejects(bad, RangeError);
    assert.equal(await good, 'fine');
  });
});
