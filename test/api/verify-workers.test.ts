/**
 * The real server (`bpfsign serve`) verifies in worker threads under a time budget: a
 * verification past its budget is answered 503 VERIFY_BUDGET_EXCEEDED while the server goes on
 * serving, and while the worst verifications we can build run (see worstBody; several at once)
 * /healthz still answers every poll. The latencies are printed, not asserted (no timing
 * thresholds in tests).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { startServer } from '../e2e/support.js';

const obj = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));

async function serve(env: Record<string, string>) {
  const srv = await startServer({ BPFSIGN_RATE_LIMIT: '100000000', ...env });
  after(async () => {
    if (srv.proc.exitCode === null)
      await new Promise((r) => {
        srv.proc.once('exit', r);
        srv.proc.kill('SIGTERM');
      });
    rmSync(srv.dataDir, { recursive: true, force: true });
  });
  const made = await fetch(`${srv.url}/v1/loaders?name=xdp_filter`, {
    method: 'POST',
    body: obj,
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(made.status, 201, await made.clone().text());
  const bundle = ((await made.json()) as { bundle: unknown }).bundle;
  const ca = ((await (await fetch(`${srv.url}/v1/keys`)).json()) as { caCertificate: string }).caCertificate;
  /** Posts `body` (JSON, or its bytes made once: a large body is not encoded again by this process, which polls /healthz too). */
  const verify = async (body: unknown) => {
    const bytes = body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body));
    const r = await fetch(`${srv.url}/v1/verifications`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/json' } });
    return { status: r.status, type: r.headers.get('content-type'), json: (await r.json()) as Record<string, unknown> };
  };
  return { ...srv, bundle, ca, verify };
}

/**
 * The worst body we can build, some 10 MB (the limit is 16 MiB): an object of some MB to decode
 * and re-derive the loader from, and a policy of 20,000 identity patterns, each checked when the
 * policy is read and matched against the signer, the first of them (.+)+! — a backtracking
 * matcher tries it in 2^n ways over an n-character subject (one of this kind held the server
 * 114 s); a linear-time one refuses it at once.
 */
function worstBody(bundle: unknown, ca: string): Buffer {
  const identities = [
    { subjectRegExp: '(.+)+!' },
    ...Array.from({ length: 20_000 }, (_, i) => ({ subjectRegExp: `CN=x${i}(.*)+y[a-z]{1,50}` })),
  ];
  return Buffer.from(
    JSON.stringify({
      bundle,
      object: Buffer.concat([obj, Buffer.alloc(6 << 20)]).toString('base64'),
      policy: { version: 1, name: 'worst', roots: [ca], identities },
    }),
  );
}

/**
 * Polls GET /healthz every 10 ms until `work` settles: every poll's status and latency. The polls
 * come from a process of their own, so that this one sending megabytes of bodies does not delay
 * them (what is measured is the server's answer, not this process's event loop).
 */
async function pollHealth(url: string, work: Promise<unknown>): Promise<{ statuses: number[]; latencies: number[] }> {
  const poller = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
    const out = { statuses: [], latencies: [] };
    let done = false;
    process.stdin.on('end', () => { done = true; }).resume();
    while (!done) {
      const t0 = performance.now();
      out.statuses.push(await fetch(${JSON.stringify(`${url}/healthz`)}, { signal: AbortSignal.timeout(30000) }).then((r) => r.status, () => 0));
      out.latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
    process.stdout.write(JSON.stringify(out));
  `,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let text = '';
  poller.stdout.on('data', (d) => {
    text += d;
  });
  const exited = new Promise((r) => poller.once('exit', r));
  await work.catch(() => undefined);
  poller.stdin.end();
  await exited;
  return JSON.parse(text) as { statuses: number[]; latencies: number[] };
}

const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return `${s.length} polls, p50 ${s[s.length >> 1].toFixed(1)} ms, p99 ${s[Math.floor(s.length * 0.99)].toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms`;
};

describe('verification in worker threads (the real server)', () => {
  it('answers a verification past its budget with 503 VERIFY_BUDGET_EXCEEDED naming the budget, and goes on serving', async () => {
    // 1 ms: far shorter than the worst body takes on a fresh worker (each one past it gets a fresh worker).
    const srv = await serve({ BPFSIGN_VERIFY_BUDGET_MS: '1', BPFSIGN_VERIFY_WORKERS: '1' });
    const worst = worstBody(srv.bundle, srv.ca);
    for (let i = 0; i < 3; i++) {
      const r = await srv.verify(worst);
      assert.equal(r.status, 503, JSON.stringify(r.json));
      assert.equal(r.type, 'application/problem+json; charset=utf-8');
      assert.equal(r.json.code, 'VERIFY_BUDGET_EXCEEDED');
      assert.match(String(r.json.detail), /budget of 1 ms/);
      assert.deepEqual(r.json.details, { budgetMs: 1 });
    }
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    const signed = await fetch(`${srv.url}/v1/loaders?name=xdp_filter`, {
      method: 'POST',
      body: obj,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(signed.status, 201, 'signing does not go through the verification workers');
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /^bpfsign_verify_budget_exceeded_total 3$/m);
    assert.match(metrics, /^bpfsign_verify_worker_restarts_total 3$/m);
  });

  it('answers /healthz at every poll while the worst verifications run, stops them at the budget, then verifies as before', async () => {
    const srv = await serve({ BPFSIGN_VERIFY_BUDGET_MS: '2000', BPFSIGN_VERIFY_WORKERS: '1' });
    const ok = await srv.verify({ bundle: srv.bundle });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.verdict, 'OK');
    // The worst body, several at once: they take the worker in turn, each stopped at its budget when it runs past it.
    const worst = worstBody(srv.bundle, srv.ca);
    const heavy = Promise.all(Array.from({ length: 4 }, () => srv.verify(worst)));
    const { statuses, latencies } = await pollHealth(srv.url, heavy);
    const answers = await heavy;
    console.log(
      `# /healthz while ${answers.length} worst verifications (${(worst.length / 1e6).toFixed(1)} MB bodies) ran: ${summary(latencies)}; answers ${answers.map((a) => `${a.status} ${String(a.json.code ?? a.json.verdict)}`).join(', ')}`,
    );
    assert.ok(statuses.length > 0);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'every poll of /healthz answered 200',
    );
    // Stopped at the budget, or, when the worker gets through it in time, not an allowed identity.
    for (const a of answers)
      assert.ok(a.json.code === 'VERIFY_BUDGET_EXCEEDED' || a.json.verdict === 'UNTRUSTED', JSON.stringify(a.json).slice(0, 300));
    const again = await srv.verify({ bundle: srv.bundle });
    assert.equal(again.status, 200, 'the next verification runs on a fresh worker');
    assert.equal(again.json.verdict, 'OK');
  });

  /** POST `body` (with a length, or in chunks without one) and resolve with the answer, whatever happens to the upload. */
  const postOver = (url: string, body: Buffer, chunked: boolean) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(body.length) }) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('error', () => {
        /* the server closed mid-upload after answering: the answer is what counts */
      });
      const timer = setTimeout(() => reject(new Error('no answer within 30 s')), 30_000);
      timer.unref();
      for (let i = 0; i < body.length; i += 64 << 10) req.write(body.subarray(i, i + (64 << 10)));
      req.end();
    });

  it('reads a body sent in chunks without a length as one sent whole, and refuses one past the size limit with 413', async () => {
    const srv = await serve({ BPFSIGN_MAX_OBJECT_BYTES: String(1 << 20) });
    const bytes = Buffer.from(JSON.stringify({ bundle: srv.bundle }));
    const chunks = (b: Buffer) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < b.length; i += 1000) c.enqueue(b.subarray(i, i + 1000));
          c.close();
        },
      });
    const post = (body: Buffer | ReadableStream<Uint8Array>) =>
      fetch(`${srv.url}/v1/verifications`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        duplex: 'half',
      } as RequestInit);
    const chunked = await post(chunks(bytes));
    assert.equal(chunked.status, 200);
    assert.equal(((await chunked.json()) as { verdict: string }).verdict, 'OK');
    const whole = await post(bytes);
    assert.equal(((await whole.json()) as { verdict: string }).verdict, 'OK');
    const over = Buffer.from(JSON.stringify({ bundle: srv.bundle, object: 'A'.repeat(1 << 20) }));
    // The server answers 413 and may close before a client has sent the rest: read the answer
    // with node:http, which delivers the response even when the rest of the upload then fails.
    for (const chunked of [false, true]) {
      const r = await postOver(`${srv.url}/v1/verifications`, over, chunked);
      assert.equal(r.status, 413);
      assert.equal((JSON.parse(r.body) as { code: string }).code, 'BODY_TOO_LARGE');
    }
  });

  it('answers /healthz at every poll while many verifications of a large body run at once', async () => {
    const srv = await serve({});
    // A bundle with an object of a few MB to decode, hash and re-derive from, posted 20 times at once.
    const big = Buffer.from(JSON.stringify({ bundle: srv.bundle, object: Buffer.concat([obj, Buffer.alloc(4 << 20)]).toString('base64') }));
    const heavy = Promise.all(Array.from({ length: 20 }, () => srv.verify(big)));
    const { statuses, latencies } = await pollHealth(srv.url, heavy);
    const answers = await heavy;
    console.log(
      `# /healthz while 20 verifications of a ${(big.length / 1e6).toFixed(1)} MB body ran: ${summary(latencies)}; answers ${[...new Set(answers.map((a) => `${a.status} ${String(a.json.code ?? a.json.verdict)}`))].join(', ')}`,
    );
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'every poll of /healthz answered 200',
    );
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.json).slice(0, 300));
  });
});
