/**
 * `bpfsign replay` on each kind of input — an object (generated first), a gen directory, our
 * header, a signed header, bpftool's header — with the stable --json shape and the plan diff.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring } from '../../src/service/keys.js';
import { FIXTURES, ROOT, hasTool } from '../support/objects.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const hasFile = (p: string) => existsSync(p);
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
    assert.deepEqual(
      j.progs.map((p: { name: string }) => p.name),
      ['xdp_filter'],
    );
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
    const g = run(
      'gen',
      OBJ,
      '-o',
      join(dir, 'out'),
      '--name',
      'xdp_filter',
      '--scheme',
      'linux-6.18',
      '--key',
      join(keys, k.privateKey),
      '--cert',
      join(keys, k.certificate),
    );
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
    assert.deepEqual(
      j.progs.map((p: { name: string }) => p.name),
      ['xdp_filter'],
    );
  });

  describe("--trust and --keyring-id on bpftool 7.7's signed header", () => {
    const ref = join(ROOT, '../shared/reference/bpftool-7.7');
    const header = join(ref, 'fixtures/xdp_filter.clang-el.rsa2048.lskel.h');
    const rsa = join(ref, 'keys/rsa2048.cert.pem'),
      p256 = join(ref, 'keys/p256.cert.pem');
    const skip = hasFile(header) ? false : `no ${header}`;
    // The fixture profile as a kernel with CONFIG_SYSTEM_DATA_VERIFICATION.
    const verifying = () => {
      const dir = mkdtempSync(join(tmpdir(), 'bpfsign-replay-sigprof-'));
      cpSync(PROFILE, dir, { recursive: true });
      const j = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
      writeFileSync(join(dir, 'profile.json'), JSON.stringify({ ...j, signatureVerification: true }));
      return dir;
    };
    const replayJson = (...args: string[]) => {
      const r = run('replay', header, '--json', ...args);
      return { status: r.status, j: JSON.parse(r.stdout || '{}'), stderr: r.stderr };
    };

    it('loads and runs with the signer trusted, and lists the ctx reads', { skip }, () => {
      const { status, j, stderr } = replayJson('--profile', verifying(), '--trust', rsa);
      assert.equal(status, 0, stderr);
      assert.equal(j.stage, 'ok');
      assert.ok(j.ctxReads.length > 0 && j.ctxReads.every((c: { pc: number; offset: number; size: number }) => c.pc >= 0 && c.size > 0));
    });
    it('answers ENOKEY with no certificate or another one, and EINVAL for a keyring_id that names nothing', { skip }, () => {
      const prof = verifying();
      assert.deepEqual([replayJson('--profile', prof).j.errno, replayJson('--profile', prof, '--trust', p256).j.errno], [126, 126]);
      assert.equal(
        replayJson('--profile', prof, '--trust', `session=${rsa}`).j.errno,
        126,
        'trusted in the session keyring, loaded against builtin (0)',
      );
      assert.equal(replayJson('--profile', prof, '--trust', `session=${rsa}`, '--keyring-id', 'session').j.stage, 'ok');
      assert.equal(replayJson('--profile', prof, '--trust', rsa, '--keyring-id', '2147483647').j.errno, 22);
    });
    it(
      'answers as the host kernel does with --profile host (EOPNOTSUPP without CONFIG_SYSTEM_DATA_VERIFICATION)',
      { skip: skip || (hasFile('/sys/kernel/btf/vmlinux') ? false : 'no kernel BTF') },
      async () => {
        const { kernelConfig } = await import('../../src/service/host-probe.js');
        const config = kernelConfig();
        const { j } = replayJson('--profile', 'host', '--trust', rsa);
        if (config && !config.has('CONFIG_SYSTEM_DATA_VERIFICATION')) assert.deepEqual([j.stage, j.errno], ['loader_load', 95]);
        else assert.notEqual(j.errno, 126, 'the signer is trusted');
      },
    );
    it('refuses a --trust file that is not a certificate, and an unknown --keyring-id, with exit 2', { skip }, () => {
      const r = run('replay', header, '--trust', header);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--trust: not a certificate/);
      const k = run('replay', header, '--keyring-id', 'nowhere');
      assert.equal(k.status, 2);
      assert.match(k.stderr, /--keyring-id nowhere/);
    });
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
