/** Starting the real server as a child process on a free-ish port, for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/objects.js';

export const CLI = join(ROOT, 'dist/src/cli/main.js');

export async function startServer(
  env: Record<string, string>,
  dataDir = mkdtempSync(join(tmpdir(), 'bpfsign-e2e-')),
): Promise<{ url: string; proc: ChildProcess; dataDir: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
    env: { ...process.env, BPFSIGN_DATA_DIR: dataDir, BPFSIGN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, proc, dataDir };
    } catch {
      /* not yet */
    }
    if (proc.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`server did not become ready: ${stderr}`);
}
