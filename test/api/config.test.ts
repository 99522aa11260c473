import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { defaultVerifyWorkers, loadConfig } from '../../src/api/config.js';

describe('defaultVerifyWorkers', () => {
  const cores = availableParallelism();

  it('gives one process every core but the event loop, at least one', () => {
    assert.equal(defaultVerifyWorkers(), Math.max(1, cores - 1));
    assert.equal(defaultVerifyWorkers(1), Math.max(1, cores - 1));
  });

  it('shares those cores among the processes instead of giving each of them all', () => {
    assert.equal(defaultVerifyWorkers(2), Math.max(1, Math.floor((cores - 1) / 2)));
    assert.equal(defaultVerifyWorkers(cores), 1);
    assert.equal(defaultVerifyWorkers(64), 1);
  });

  it('is what the configuration takes for BPFSIGN_WORKERS processes, unless BPFSIGN_VERIFY_WORKERS says', () => {
    assert.equal(loadConfig({ BPFSIGN_WORKERS: '4' }).verifyWorkers, defaultVerifyWorkers(4));
    assert.equal(loadConfig({}).verifyWorkers, defaultVerifyWorkers(1));
    assert.equal(loadConfig({ BPFSIGN_WORKERS: '4', BPFSIGN_VERIFY_WORKERS: '3' }).verifyWorkers, 3);
  });
});
