/**
 * Output all at once or not at all: `bpfsign gen` and `bpfsign sign` write beside -o DIR and
 * move the files there at the end, so a failure leaves no DIR (or DIR as it was).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../support/objects.js';
import { stageOutput } from '../../src/cli/output-dir.js';
import { createKeyring } from '../../src/service/keys.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const OBJ = join(FIXTURES, 'obj/xdp_filter.clang-el.o');
const OTHER = join(FIXTURES, 'obj/maps.clang-el.o');
const scratch = () => mkdtempSync(join(tmpdir(), 'bpfsign-out-'));

describe('stageOutput', () => {
  it('makes the folder, and any missing parents, only at commit, from a temporary folder beside it', () => {
    const root = scratch();
    const staged = stageOutput(join(root, 'a/b/c'));
    writeFileSync(join(staged.path, 'f'), 'x');
    assert.equal(existsSync(join(root, 'a')), false, 'nothing at the target before commit');
    assert.deepEqual(
      readdirSync(root).map((n) => n.replace(/tmp-.*/, 'tmp-')),
      ['.a.tmp-'],
      'the stand-in sits beside the highest missing folder',
    );
    staged.commit();
    assert.equal(readFileSync(join(root, 'a/b/c/f'), 'utf8'), 'x');
    assert.deepEqual(readdirSync(root), ['a']);
  });

  it('moves the files into a folder that exists, keeping what else it holds', () => {
    const root = scratch();
    mkdirSync(join(root, 'out'));
    writeFileSync(join(root, 'out/old'), 'kept');
    writeFileSync(join(root, 'out/f'), 'replaced');
    const staged = stageOutput(join(root, 'out'));
    writeFileSync(join(staged.path, 'f'), 'new');
    staged.commit();
    assert.deepEqual(readdirSync(join(root, 'out')).sort(), ['f', 'old']);
    assert.equal(readFileSync(join(root, 'out/f'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(root), ['out']);
  });

  it('leaves nothing behind when aborted', () => {
    const root = scratch();
    const staged = stageOutput(join(root, 'out'));
    writeFileSync(join(staged.path, 'f'), 'x');
    staged.abort();
    assert.deepEqual(readdirSync(root), []);
  });

  it('refuses a target that is a file', () => {
    const root = scratch();
    writeFileSync(join(root, 'out'), '');
    assert.throws(() => stageOutput(join(root, 'out')), /out: not a folder/);
  });
});

describe('bpfsign gen', () => {
  it('leaves no DIR when signing fails after the loader files were made', () => {
    const root = scratch();
    const bad = join(root, 'not-a-key.pem');
    writeFileSync(bad, 'not PEM\n');
    const r = run('gen', OBJ, '-o', join(root, 'out'), '--scheme', 'linux-6.18', '--key', bad, '--cert', bad);
    assert.notEqual(r.status, 0, r.stdout);
    assert.deepEqual(readdirSync(root), ['not-a-key.pem'], 'no DIR and no temporary folder');
  });

  it('writes every file into DIR when it succeeds', () => {
    const root = scratch();
    const r = run('gen', OBJ, '-o', join(root, 'out'), '--name', 'xdp_filter');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(join(root, 'out')).sort(), [
      'bundle.json',
      'data.bin',
      'init.3.bin',
      'insns.bin',
      'loader.json',
      'xdp_filter.lskel.h',
    ]);
    assert.deepEqual(readdirSync(root), ['out']);
  });
});

describe('bpfsign sign', () => {
  it('writes nothing when one of its objects fails, and leaves an existing DIR as it was', async () => {
    const root = scratch();
    const keys = join(root, 'keys');
    await createKeyring(keys, new Date());
    const junk = join(root, 'junk.o');
    writeFileSync(junk, 'not an ELF object');
    const first = run('sign', OBJ, OTHER, junk, '--keys', keys, '-o', join(root, 'out'));
    assert.equal(first.status, 1, first.stderr);
    assert.match(first.stdout, /signed 2 of 3 object\(s\); nothing written to /);
    assert.deepEqual(readdirSync(root).sort(), ['junk.o', 'keys'], 'no DIR and no temporary folder');

    const ok = run('sign', OBJ, '--keys', keys, '-o', join(root, 'out'));
    assert.equal(ok.status, 0, ok.stderr);
    const before = readdirSync(join(root, 'out')).sort();
    assert.deepEqual(before, ['xdp_filter_clang_el.bundle.json', 'xdp_filter_clang_el.lskel.h']);
    const again = run('sign', OTHER, junk, '--keys', keys, '-o', join(root, 'out'));
    assert.equal(again.status, 1, again.stderr);
    assert.deepEqual(readdirSync(join(root, 'out')).sort(), before, 'DIR as it was');
    const later = run('sign', OTHER, '--keys', keys, '-o', join(root, 'out'));
    assert.equal(later.status, 0, later.stderr);
    assert.deepEqual(
      readdirSync(join(root, 'out')).sort(),
      ['maps_clang_el.bundle.json', 'maps_clang_el.lskel.h', ...before],
      'a later run adds to DIR',
    );
  });
});
