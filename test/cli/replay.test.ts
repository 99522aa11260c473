/**
 * `bpfsign replay` on each kind of input — an object (generated first), a gen directory, our
 * header, a signed header, bpftool's header — with the stable --json shape and the plan diff.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring } from '../../src/service/keys.js';
import { FIXTURES, ROOT, hasTool } from '../support/objects.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const OBJ = join(FIXTURES, 'obj/xdp_filter.clang-el.o');
// The minimised 6.18 profile shipped for tests: results do not depend on this machine's kernel.
const PROFILE = join(FIXTURES, 'profiles/linux-6.18-min');

describe('bpfsign replay', () => {
  it('generates the loader of an object, replays it and prints {retval, maps, progs, trace, diff} with --json', () => {
    const r = run('replay', OBJ, '--scheme', 'linux-6.18', '--profile', PROFILE, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j).slice(0, 5), ['retval', 'maps', 'progs', 'trace', 'diff']);
    assert.equal(j.retval, 0);
    assert.deepEqual(j.diff, []);
    assert.deepEqual(j.progs.map((p: { name: string }) => p.name), ['xdp_filter']);
    assert.equal(j.maps.filter((m: { name: string }) => m.name === 'blocked_src').length, 1);
  });

  it('replays our light skeleton header with its map slots and initial images, and compares with --object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-replay-'));
    assert.equal(run('gen', OBJ, '-o', dir, '--name', 'xdp_filter').status, 0);
    const r = run('replay', join(dir, 'xdp_filter.lskel.h'), '--object', OBJ, '--profile', PROFILE);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /light skeleton 'xdp_filter': 4 maps, 1 programs/);
    assert.match(r.stdout, /plan: the effects equal the plan/);
    const d = run('replay', dir, '--profile', PROFILE);
    assert.equal(d.status, 0, d.stdout);
  });

  it('replays a signed header with its signature, and the 6.18 profile without signature verification answers EOPNOTSUPP as this kernel does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-replay-signed-'));
    const keys = join(dir, 'keys');
    const k = await createKeyring(keys, new Date());
    const g = run('gen', OBJ, '-o', join(dir, 'out'), '--name', 'xdp_filter', '--scheme', 'linux-6.18', '--key', join(keys, k.privateKey), '--cert', join(keys, k.certificate));
    assert.equal(g.status, 0, g.stderr);
    const header = readFileSync(join(dir, 'out/xdp_filter.lskel.h'), 'utf8');
    assert.match(header, /opts_sig\[\]/);
    assert.match(header, /opts\.keyring_id = skel->keyring_id;/);
    const r = run('replay', join(dir, 'out/xdp_filter.lskel.h'), '--profile', PROFILE, '--json');
    assert.equal(r.status, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.scheme, 'linux-6.18');
    assert.equal(j.stage, 'loader_load');
    assert.equal(j.errno, 95, 'EOPNOTSUPP: CONFIG_SYSTEM_DATA_VERIFICATION is off in this profile');
    const load = j.trace.find((x: { op: string }) => x.op === 'PROG_LOAD');
    assert.ok(load, 'the loader program was submitted with its signature');
  });

  it('replays the loader in a header bpftool gen skeleton -L wrote', { skip: hasTool('bpftool') ? false : 'bpftool not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-replay-bpftool-'));
    const h = join(dir, 'xdp_filter.lskel.h');
    writeFileSync(h, execFileSync('bpftool', ['gen', 'skeleton', '-L', OBJ], { stdio: ['ignore', 'pipe', 'ignore'] }));
    const r = run('replay', h, '--profile', PROFILE, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.retval, 0);
    assert.equal(j.diff, null, 'no plan without --object');
    assert.deepEqual(j.progs.map((p: { name: string }) => p.name), ['xdp_filter']);
  });

  it('refuses a file that is neither an object nor a header, with exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-replay-bad-'));
    writeFileSync(join(dir, 'x.bin'), 'hello');
    const r = run('replay', join(dir, 'x.bin'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not a BPF object, a light skeleton header or a gen output directory/);
    assert.ok(readFileSync(join(dir, 'x.bin')).length > 0);
  });
});
