/**
 * The README's commands, run as written. In a fresh folder holding what a clone holds after
 * `npm ci` (the fixtures, the built CLI and its modules, linked from this checkout), the service
 * is started with the README's first command (its `npm ci` half already done: these tests run
 * after it) and every line of the quick start runs in bash, in order, as a user would paste it:
 * each must exit 0 and none may print `null` (jq's answer for what is not there). The CI gate's
 * set-up and its job's commands then run on an object put where the set-up expects it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(new URL('.', import.meta.url).pathname, '../../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The shell blocks of the README, each as its commands (continuation lines joined). */
function shellBlocks(text: string): { after: string; commands: string[] }[] {
  const blocks: { after: string; commands: string[] }[] = [];
  const re = /^(.*)\n\n?```(sh|yaml)\n([\s\S]*?)\n```$/gm;
  for (let m; (m = re.exec(text));) {
    const commands: string[] = [];
    for (const line of m[3].replace(/\\\n\s*/g, ' ').split('\n'))
      if (line.trim() !== '' && !line.trim().startsWith('#')) commands.push(line.trim());
    blocks.push({ after: m[1], commands });
  }
  return blocks;
}

function block(heading: RegExp): string[] {
  const b = shellBlocks(README).find((x) => heading.test(x.after));
  assert.ok(b, `the README has a block after a line matching ${heading}`);
  return b.commands;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
      .once('error', () => resolve(false))
      .once('listening', () => s.close(() => resolve(true)));
    s.listen(port, '127.0.0.1');
  });
}

function run(cmd: string, cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tools = ['curl', 'jq'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const built = existsSync(join(ROOT, 'dist/src/cli/main.js')) && existsSync(join(ROOT, 'node_modules'));
const skip = tools.length
  ? `the README's commands use ${tools.join(' and ')}, not installed here`
  : !built
    ? 'dist/ or node_modules/ is missing (npm ci builds them)'
    : false;
if (skip) console.log(`# skipped: ${skip}`);

describe("the README's commands", { skip }, () => {
  let dir = '';
  let server: ChildProcess | null = null;
  let serverLog = '';
  let portTaken = false;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bpfsign-readme-'));
    for (const f of ['bpfsign', 'package.json', 'dist', 'node_modules', 'test']) symlinkSync(join(ROOT, f), join(dir, f));
    portTaken = !(await portFree(8080));
    if (portTaken) return;
    const [first] = block(/^# bpfsign$/);
    const start = /^npm ci && (\.\/bpfsign serve)\b/.exec(first);
    assert.ok(start, `the README's first command installs, then starts the service: ${first}`);
    server = spawn('bash', ['-c', `exec ${start[1]}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d: Buffer) => {
      serverLog += d.toString();
    });
    server.stderr!.on('data', (d: Buffer) => {
      serverLog += d.toString();
    });
    for (let i = 0; i < 300; i++) {
      const ok = await fetch('http://127.0.0.1:8080/readyz').then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (server.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the service did not start: ${serverLog.slice(-2000)}`);
  });

  after(() => {
    server?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the quick start: every line exits 0, none printing null', (t) => {
    if (portTaken) return t.skip('port 8080, where the README starts the service, is taken here');
    const commands = block(/^Quick start/);
    assert.ok(commands.length >= 5, `the quick start has its commands (${commands.length})`);
    for (const cmd of commands) {
      const r = run(cmd, dir);
      assert.equal(r.status, 0, `${cmd}\nexit ${r.status}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-1500)}`);
      assert.notEqual(r.stdout.trim(), 'null', `${cmd} printed null: what it looked up is not there`);
    }
  });

  it("the CI gate: its set-up and its job's commands pass", (t) => {
    if (portTaken) return t.skip('port 8080, where the README starts the service, is taken here');
    const setUp = block(/^signs its object/);
    const job = block(/^cannot read/)
      .filter((l) => l.startsWith('- '))
      .map((l) => l.slice(2));
    assert.ok(setUp.length >= 2 && job.length >= 1, 'the CI gate has its set-up and its job');
    // The build's object, where the set-up expects it.
    mkdirSync(join(dir, 'build'), { recursive: true });
    copyFileSync(join(ROOT, 'test/fixtures/obj/xdp_filter.clang-el.o'), join(dir, 'build/xdp_filter.o'));
    for (const cmd of [...setUp, ...job]) {
      const r = run(cmd, dir);
      assert.equal(r.status, 0, `${cmd}\nexit ${r.status}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-1500)}`);
    }
  });
});
