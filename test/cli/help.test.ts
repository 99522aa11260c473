/**
 * One grammar for every `bpfsign` command (issue 18): `CMD --help` prints that command's usage and
 * exits 0; a mistyped option is one line on stderr naming the command and the option, exit 2; a
 * file that is not a BPF object (or bundle, or proof) is one line, exit 2, never a stack trace.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/objects.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
    env: { ...process.env, ...env, BPFSIGN_DEBUG: '' },
  });

const COMMANDS = [
  'serve',
  'sign',
  'log',
  'manifest',
  'witness',
  'inspect',
  'disasm',
  'btf',
  'verify',
  'keys',
  'tokens',
  'replay',
  'gen',
  'vm',
];

/** Asserts a failure printed exactly one line on stderr, nothing of a stack, and exited 2. */
function oneLineExit2(r: ReturnType<typeof run>, what: string): string {
  assert.equal(r.status, 2, `${what}: exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: a stack trace`);
  return lines[0]!;
}

describe('bpfsign CMD --help', () => {
  for (const cmd of COMMANDS) {
    it(`prints the usage of ${cmd} alone on stdout and exits 0`, () => {
      const r = run([cmd, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^usage: bpfsign ${cmd}\\b`));
      assert.match(r.stdout, new RegExp(`^  ${cmd} `, 'm'));
      for (const other of COMMANDS.filter((c) => c !== cmd))
        assert.doesNotMatch(r.stdout, new RegExp(`^  ${other} `, 'm'), `mentions ${other}`);
    });
  }

  it('takes -h as well, and --help after a subcommand (log get --help)', () => {
    for (const args of [
      ['inspect', '-h'],
      ['log', 'get', '--help'],
      ['witness', 'serve', '--help'],
    ]) {
      const r = run(args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: bpfsign ${args[0]}\\b`));
    }
  });

  it('bpfsign help lists every command and exits 0; no command at all exits 2', () => {
    const r = run(['help']);
    assert.equal(r.status, 0);
    for (const cmd of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${cmd} `, 'm'), cmd);
    assert.equal(run([]).status, 2);
  });
});

describe('bpfsign --version', () => {
  it("prints package.json's version and exits 0", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = run(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${pkg.version}\n`);
  });
});

describe('a mistyped option', () => {
  for (const cmd of COMMANDS) {
    it(`is one line naming it for ${cmd}, exit 2`, () => {
      const line = oneLineExit2(run([cmd, '--jsn']), `${cmd} --jsn`);
      assert.equal(line, `bpfsign ${cmd}: unknown option '--jsn' (bpfsign ${cmd} --help)`);
    });
  }

  it('an option missing its value is one line naming the command', () => {
    const line = oneLineExit2(run(['sign', 'x.o', '--jobs']), 'sign --jobs');
    assert.match(line, /^bpfsign sign: .*--jobs.* \(bpfsign sign --help\)$/);
  });

  it('an unknown command is one line, exit 2', () => {
    assert.match(oneLineExit2(run(['sing']), 'sing'), /unknown command 'sing'/);
  });
});

describe('a file that is not a BPF object', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-help-'));
  const text = join(dir, 'notes.md');
  writeFileSync(text, '# not an object\n\nplain text, neither ELF nor JSON\n');
  const cases: Record<string, string[]> = {
    inspect: ['inspect', text],
    disasm: ['disasm', text],
    btf: ['btf', text],
    gen: ['gen', text, '-o', join(dir, 'gen-out')],
    'gen (signed)': ['gen', text, '-o', join(dir, 'gen-signed'), '--scheme', 'linux-6.18', '--key', text, '--cert', text],
    sign: ['sign', text, '--keys', join(dir, 'keys'), '-o', join(dir, 'sign-out')],
    verify: ['verify', text, '--offline', '--trust', text],
    'verify --policy': ['verify', text, '--policy', text],
    replay: ['replay', text],
    'replay --object': ['replay', dir, '--object', text],
    'log check-proof': ['log', 'check-proof', text, '--bundle', text, '--log-key', text],
  };
  for (const [name, args] of Object.entries(cases)) {
    it(`${name}: one line, exit 2`, () => {
      oneLineExit2(run(args), name);
    });
  }
});
