/**
 * The image's entrypoint as its user, without a Docker daemon: the final stage of the Dockerfile
 * is read (USER, WORKDIR, VOLUME, ENV, ENTRYPOINT, CMD, HEALTHCHECK), a folder is made owned as
 * the image owns its volume, and the entrypoint runs as that user (setpriv) with the repository
 * standing in for WORKDIR. It must start, answer /healthz (the HEALTHCHECK command says so too)
 * and write its keys into the folder.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/objects.js';

interface Stage {
  from: string;
  user: string;
  workdir: string;
  volume: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
  run: string;
}

/** The last stage of a Dockerfile: instructions joined over line continuations, exec forms parsed as JSON. */
function finalStage(text: string): Stage {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const from = lines
    .map((l, i) => [l, i] as const)
    .filter(([l]) => /^FROM /i.test(l))
    .at(-1)!;
  const s: Stage = {
    from: from[0].split(/\s+/)[1]!,
    user: '',
    workdir: '/',
    volume: '',
    env: {},
    entrypoint: [],
    cmd: [],
    healthcheck: [],
    run: '',
  };
  for (const l of lines.slice(from[1] + 1)) {
    const [op, rest] = [l.split(/\s+/)[0]!.toUpperCase(), l.replace(/^\S+\s+/, '')];
    if (op === 'USER') s.user = rest;
    else if (op === 'WORKDIR') s.workdir = rest;
    else if (op === 'VOLUME') s.volume = rest.startsWith('[') ? (JSON.parse(rest) as string[])[0]! : rest;
    else if (op === 'ENTRYPOINT') s.entrypoint = JSON.parse(rest) as string[];
    else if (op === 'CMD') s.cmd = JSON.parse(rest) as string[];
    else if (op === 'HEALTHCHECK') s.healthcheck = JSON.parse(rest.replace(/^.*?\bCMD\s+/, '')) as string[];
    else if (op === 'RUN') s.run += `${rest}\n`;
    else if (op === 'ENV') for (const m of rest.matchAll(/(\w+)=(\S+)/g)) s.env[m[1]!] = m[2]!;
  }
  return s;
}

const stage = finalStage(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

describe('the Dockerfile', () => {
  it('runs on a current LTS Node, as a numeric non-root user owning its volume, without build toolchains', () => {
    assert.match(stage.from, /^node:(22|24)-/);
    const [uid, gid] = stage.user.split(':').map(Number);
    assert.ok(uid! > 0 && gid! > 0, `USER ${stage.user} is numeric and not root`);
    assert.ok(stage.run.includes(`chown ${uid}:${gid} ${stage.volume}`), `the image chowns ${stage.volume} to ${stage.user}`);
    assert.doesNotMatch(stage.run, /\b(clang|llvm|bpftool|gcc|g\+\+|make)\b/);
    assert.equal(stage.healthcheck[0], 'node', 'the health check needs no curl');
  });
});

describe('the entrypoint as the image user, on a folder owned as the image owns its volume', () => {
  it('starts, answers /healthz and writes its keys there', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('not root: cannot run a process as the image user (setpriv needs CAP_SETUID)');
    if (spawnSync('setpriv', ['--version']).status !== 0) return t.skip('setpriv(1) is not installed');
    const [uid, gid] = stage.user.split(':');
    const asUser = ['--reuid', uid!, '--regid', gid!, '--clear-groups', '--'];
    // The image copies the built project in; here the user runs it from this checkout, which it must be able to read.
    const reads = spawnSync('setpriv', [
      ...asUser,
      process.execPath,
      '-e',
      `require('fs').accessSync(${JSON.stringify(join(ROOT, 'dist/src/cli/main.js'))})`,
    ]);
    if (reads.status !== 0) return t.skip(`uid ${uid} cannot read this checkout (${ROOT}): a folder on its path is closed to other users`);
    const data = mkdtempSync(join(tmpdir(), 'bpfsign-volume-'));
    chownSync(data, Number(uid), Number(gid));
    chmodSync(data, 0o700);
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const env = {
      PATH: process.env.PATH!,
      HOME: data,
      ...stage.env,
      BPFSIGN_DATA_DIR: data,
      BPFSIGN_PORT: port,
      BPFSIGN_HOST: '127.0.0.1',
      BPFSIGN_VERIFY_WORKERS: '0',
    };
    const [exe, ...args] = [...stage.entrypoint, ...stage.cmd];
    const proc = spawn('setpriv', [...asUser, exe === 'node' ? process.execPath : exe!, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d) => {
      stderr += d;
    });
    try {
      let health = 0;
      for (let i = 0; i < 300 && health !== 200 && proc.exitCode === null; i++) {
        try {
          health = (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(health, 200, `the server answers /healthz (stderr: ${stderr})`);
      const [hexe, ...hargs] = stage.healthcheck;
      const check = spawnSync('setpriv', [...asUser, hexe === 'node' ? process.execPath : hexe!, ...hargs], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, `the HEALTHCHECK command passes: ${check.stderr}`);
      for (const f of ['log-key.pem', 'keys/keys.json', 'keys/ca.pem', 'bpfsign.db']) {
        assert.equal(statSync(join(data, f)).uid, Number(uid), `${f} is written by the image user`);
      }
      assert.equal(readdirSync(join(data, 'keys')).filter((n) => n.endsWith('-key.pem')).length, 2);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
    }
  });
});
