/**
 * The CLI's retry rule: 429 and 503 answers are retried after the server's Retry-After (seconds
 * or an HTTP date), else after a growing backoff; other errors are not; it gives up after its
 * tries. And a real command (`log proof`) rides out a rate limit.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fetchRetrying, http, HttpError, retryAfterMs } from '../../src/cli/http.js';

const CLI = join(new URL('.', import.meta.url).pathname, '../../src/cli/main.js');

/** A server that answers each request with the next of `answers` (then 200 "ok"), counting requests. */
async function scripted(
  answers: { status: number; headers?: Record<string, string> }[],
): Promise<{ url: string; count: () => number; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    const a = answers[n++] ?? { status: 200 };
    res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
    res.end(a.status === 200 ? 'c2sp.org/tlog-proof@v1\nindex 0\n\nok\n' : `status ${a.status}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n, server };
}

describe('the CLI retry rule', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 5000);
    assert.equal(retryAfterMs('soon'), null);
    assert.equal(retryAfterMs(null), null);
  });

  it("waits as long as a 429 answer's Retry-After says, then succeeds", async () => {
    const s = await scripted([
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 429, headers: { 'retry-after': '1' } },
    ]);
    const waits: number[] = [];
    const r = await fetchRetrying(
      s.url,
      {},
      {
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    );
    assert.equal(r.status, 200);
    assert.deepEqual(waits, [2000, 1000]);
    assert.equal(s.count(), 3);
  });

  it('backs off exponentially on 503 without Retry-After', async () => {
    const s = await scripted([{ status: 503 }, { status: 503 }, { status: 503 }]);
    const waits: number[] = [];
    const r = await fetchRetrying(
      s.url,
      {},
      {
        sleep: async (ms) => {
          waits.push(ms);
        },
        random: () => 1,
      },
    );
    assert.equal(r.status, 200);
    assert.deepEqual(waits, [500, 1000, 2000]);
  });

  it('does not retry other errors, and gives up after its tries', async () => {
    const s = await scripted([{ status: 500 }]);
    await assert.rejects(
      http(s.url, { retry: { sleep: async () => undefined } }),
      (e: HttpError) => e.code === 'HTTP_500' && e.status === 500,
    );
    assert.equal(s.count(), 1);
    const t = await scripted(Array.from({ length: 10 }, () => ({ status: 429, headers: { 'retry-after': '0' } })));
    await assert.rejects(http(t.url, { retry: { attempts: 3, sleep: async () => undefined } }), (e: HttpError) => e.code === 'HTTP_429');
    assert.equal(t.count(), 3);
  });

  it('gives up at once when Retry-After asks for longer than it will wait', async () => {
    const s = await scripted([{ status: 429, headers: { 'retry-after': '3600' } }]);
    await assert.rejects(
      http(s.url, { retry: { maxWaitMs: 60_000, sleep: async () => assert.fail('should not wait') } }),
      (e: HttpError) => e.status === 429,
    );
  });

  it('a CLI command (log proof) waits out a 429 with Retry-After and completes', async () => {
    const s = await scripted([{ status: 429, headers: { 'retry-after': '1' } }]);
    const child = spawn(process.execPath, [CLI, 'log', 'proof', '0', '--server', s.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /429 from \/v1\/log\/proof\/0; retrying in 1\.0 s/);
    assert.match(stdout, /tlog-proof@v1/);
    assert.equal(s.count(), 2);
  });
});
