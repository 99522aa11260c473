/**
 * The CLI on the other LTS lines: Node 22 and 24 (npm ships their binaries as the `node`
 * package; `npx -p node@N node` fetches one). A representative subset runs under each: --help,
 * --version, development keys, a sign and an offline verification of what it signed. The native
 * modules in node_modules are built for the Node that installed them, so the subset is what runs
 * without them (the signer falls back to node:crypto); `serve` on SQLite needs better-sqlite3
 * built for that Node (`npm ci` under it, as the Dockerfile does on Node 24).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../support/objects.js';
import { CLI } from './support.js';

/** The path of a Node `major` binary from the npm registry, or the reason there is none. */
function nodeBinary(major: number): { path: string } | { reason: string } {
  const r = spawnSync('npx', ['--yes', '-p', `node@${major}`, 'node', '-p', 'process.execPath + " " + process.versions.node'], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  const [path, version] = (r.stdout ?? '').trim().split(' ');
  if (r.status !== 0 || !path || !version?.startsWith(`${major}.`))
    return {
      reason: `node@${major} from the npm registry is unavailable (registry unreachable?): ${(r.stderr ?? String(r.error)).trim().split('\n').at(-1)}`,
    };
  return { path };
}

const OBJ = join(FIXTURES, 'obj/xdp_filter.clang-el.o');

for (const major of [22, 24]) {
  describe(`the CLI on Node ${major}`, () => {
    it('prints help and its version, makes keys, signs an object and verifies the bundle offline', (t) => {
      const node = nodeBinary(major);
      if ('reason' in node) return t.skip(node.reason);
      const run = (...args: string[]) => spawnSync(node.path, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
      const help = run('--help');
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /serve/);
      assert.match(run('--version').stdout, /^\d+\.\d+\.\d+\n$/);
      assert.equal(run('sign', '--help').status, 0);
      const dir = mkdtempSync(join(tmpdir(), `bpfsign-node${major}-`));
      assert.equal(run('keys', 'create', '--dir', join(dir, 'keys')).status, 0);
      const signed = run('sign', OBJ, '--keys', join(dir, 'keys'), '-o', join(dir, 'out'));
      assert.equal(signed.status, 0, signed.stderr);
      const bundle = readdirSync(join(dir, 'out')).find((n) => n.endsWith('.bundle.json'))!;
      const verified = run('verify', join(dir, 'out', bundle), '--trust', join(dir, 'keys/ca.pem'), '--object', OBJ, '--offline');
      assert.equal(verified.status, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /^OK /);
    });
  });
}
