/** `bpfsign tokens` against the service's embedded store: create prints the secret once, list hides it, revoke ends it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/objects.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');

describe('bpfsign tokens', () => {
  it('creates, lists and revokes a token in the data folder', () => {
    const env = { ...process.env, BPFSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), 'bpfsign-tok-')) };
    const run = (...a: string[]) => spawnSync(process.execPath, [CLI, 'tokens', ...a], { encoding: 'utf8', env });
    const c = run('create', '--scopes', 'sign,verify', '--name', 'ci', '--json');
    assert.equal(c.status, 0, c.stderr);
    const t = JSON.parse(c.stdout);
    assert.match(t.token, /^bps_/);
    const l = run('list', '--json');
    assert.ok(!l.stdout.includes(t.token), 'the secret is never listed');
    assert.deepEqual(
      JSON.parse(l.stdout).map((x: { id: string; scopes: string[] }) => [x.id, x.scopes]),
      [[t.id, ['sign', 'verify']]],
    );
    assert.equal(run('revoke', t.id).status, 0);
    assert.equal(run('revoke', t.id).status, 2, 'revoking twice is an error');
    assert.equal(run('create', '--scopes', 'root').status, 2);
  });
});
