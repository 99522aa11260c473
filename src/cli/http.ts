/**
 * The CLI's HTTP client, with one retry rule for every command: a 429 (rate limited) or 503
 * (overloaded) answer is retried after the server's Retry-After (seconds or an HTTP date), or,
 * without one, after an exponential backoff with jitter (0.5 s, 1 s, 2 s … capped at 30 s); at
 * most `attempts` tries, and never a single wait longer than `maxWaitMs` (then it gives up, as a
 * server asking for an hour is not coming back soon). Other answers are not retried: a 4xx is the
 * request's fault, and a 500 may have done half of a write.
 */
export interface RetryOptions {
  /** Tries in all (default 8). */
  attempts?: number;
  /** The longest single wait (default 5 minutes). */
  maxWaitMs?: number;
  /** Backoff without Retry-After: base · 2^(try−1), full jitter, capped (defaults 500 ms, 30 s). */
  baseMs?: number;
  capMs?: number;
  /** Injected for tests: how to wait, and where the random jitter comes from. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Told before each wait (the CLI prints it, or a progress bar shows it). */
  onRetry?: (info: { url: string; status: number; waitMs: number; attempt: number; retryAfter: string | null }) => void;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    message: string,
    readonly code: string,
    readonly status: number | null,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const RETRYABLE = new Set([429, 503]);

/**
 * Milliseconds a Retry-After header asks for: delta-seconds or an HTTP date (RFC 9110 §10.2.3);
 * null when absent or unreadable.
 */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - now);
}

/** Requests made by this process (all tries), for the auditor's summary and the bench. */
export const httpStats = { requests: 0, retries: 0 };

/** fetch with the retry rule; network failures are HttpError UNREACHABLE (not retried). */
export async function fetchRetrying(url: string, init: RequestInit = {}, opts: RetryOptions = {}): Promise<Response> {
  const attempts = opts.attempts ?? 8,
    maxWait = opts.maxWaitMs ?? 300_000;
  const base = opts.baseMs ?? 500,
    cap = opts.capMs ?? 30_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    let r: Response;
    httpStats.requests++;
    try {
      r = await fetch(url, init);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new HttpError(`cannot reach ${url}: ${cause?.message ?? (e as Error).message}`, 'UNREACHABLE', null, {
        url,
        cause: cause?.code,
      });
    }
    if (!RETRYABLE.has(r.status) || attempt >= attempts) return r;
    const header = r.headers.get('retry-after');
    const asked = retryAfterMs(header);
    const wait = asked ?? Math.min(cap, base * 2 ** (attempt - 1)) * random();
    if (wait > maxWait) return r;
    await r.body?.cancel().catch(() => undefined);
    opts.onRetry?.({ url, status: r.status, waitMs: wait, attempt, retryAfter: header });
    httpStats.retries++;
    await sleep(wait);
  }
}

/** The retry rule plus: a bearer token, and a non-2xx answer as an HttpError (problem+json read). */
export async function http(url: string, init: RequestInit & { token?: string; retry?: RetryOptions } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const { token: _t, retry, ...rest } = init;
  const r = await fetchRetrying(url, { ...rest, headers }, retry ?? defaultRetry);
  if (!r.ok) {
    const body = await r.text();
    let detail = body.slice(0, 500);
    try {
      const p = JSON.parse(body) as { code?: string; detail?: string };
      if (p.code) detail = `${p.code}: ${p.detail}`;
    } catch {
      /* not problem+json */
    }
    throw new HttpError(`${init.method ?? 'GET'} ${url}: ${r.status} ${detail}`, `HTTP_${r.status}`, r.status, { url, status: r.status });
  }
  return r;
}

/** What commands use unless told otherwise: the rule above, each wait said on stderr. */
export const defaultRetry: RetryOptions = {
  onRetry: ({ url, status, waitMs, attempt }) =>
    process.stderr.write(
      `bpfsign: ${status} from ${new URL(url).pathname}; retrying in ${(waitMs / 1000).toFixed(1)} s (try ${attempt + 1})\n`,
    ),
};
