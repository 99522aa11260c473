/**
 * CLI start-up: the wall time of `bpfsign --help`, `--version`, `vm` (one program through the
 * interpreter) and `verify --help`, each beside `node -e 0` (Node's own start-up, the floor)
 * measured in the same run, runs interleaved so a busy moment falls on both. Target: every
 * command other than `serve` under 150 ms wall.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface CliStartRow {
  name: string;
  ours_ms: number;
  peer: string;
  peer_ms: number;
  target: string;
  ok: boolean;
}

const TARGET_MS = 150;
/** r0 = 1; exit: the plugin protocol's smallest program, as hex on stdin. */
const VM_PROGRAM = 'b700000001000000 9500000000000000\n';

function wallMs(args: string[], input?: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { input, stdio: ['pipe', 'ignore', 'ignore'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function benchCli(root: string, runs = 21): CliStartRow[] {
  const main = join(root, 'dist/src/cli/main.js');
  const commands: { name: string; args: string[]; input?: string }[] = [
    { name: 'bpfsign --help', args: [main, '--help'] },
    { name: 'bpfsign --version', args: [main, '--version'] },
    { name: 'bpfsign vm (one program)', args: [main, 'vm'], input: VM_PROGRAM },
    { name: 'bpfsign verify --help', args: [main, 'verify', '--help'] },
  ];
  const node: number[] = [];
  const ours = commands.map(() => [] as number[]);
  wallMs(['-e', '0']);
  for (const c of commands) wallMs(c.args, c.input); // warm the page cache
  for (let i = 0; i < runs; i++) {
    node.push(wallMs(['-e', '0']));
    commands.forEach((c, j) => ours[j].push(wallMs(c.args, c.input)));
  }
  const peer = median(node);
  return commands.map((c, j) => {
    const ms = median(ours[j]);
    return {
      name: `CLI start-up: ${c.name}`,
      ours_ms: ms,
      peer: 'node -e 0',
      peer_ms: peer,
      target: `< ${TARGET_MS} ms wall`,
      ok: ms < TARGET_MS,
    };
  });
}
