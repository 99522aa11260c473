import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
/** Service configuration: environment → zod-validated, frozen Config. Fails at boot, naming the variable. */
import { z } from 'zod';
import { HEAP_GROWING_PERCENT } from '../service/memory.js';

const Env = z.object({
  BPFSIGN_HOST: z.string().default('127.0.0.1'),
  BPFSIGN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DATABASE_URL: z.string().optional(),
  /** `sqlite:PATH` (default, under the data dir) or `postgres://…`. */
  BPFSIGN_DATABASE_URL: z.string().optional(),
  /** Where development keys, the SQLite file and the dev token live. */
  BPFSIGN_DATA_DIR: z.string().default('./data'),
  /** Transparency log origin line of checkpoints. */
  BPFSIGN_LOG_ORIGIN: z.string().regex(/^\S+$/).default('bpfsign.local/log'),
  /** Comma-separated `token:scope1+scope2` pairs (scopes: sign, verify); unset → one generated development token. */
  BPFSIGN_API_TOKENS: z.string().optional(),
  BPFSIGN_MAX_OBJECT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 << 20),
  BPFSIGN_RATE_LIMIT: z.coerce.number().int().positive().default(600).meta({ description: 'requests per minute per client' }),
  /** development (default): loopback requests need no token; production: tokens required. */
  BPFSIGN_MODE: z.enum(['development', 'production']).default('development'),
  /** Reads of the log, manifests, stored loaders and keys without a token (true) or with the 'audit' scope (false). */
  BPFSIGN_ANONYMOUS_READS: z.enum(['true', 'false']).default('true'),
  /** Worker processes sharing the port (node:cluster); 1 = serve in this process. */
  BPFSIGN_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** Loaders, replay outcomes and parsed verification bodies kept in memory by content digest, per process; 0 turns the caches off. */
  BPFSIGN_CACHE_ENTRIES: z.coerce.number().int().min(0).max(100000).default(64),
  /** How far V8's old space may grow past what survived the last full collection, in percent (service/memory.ts); 0 = V8's own factor. */
  BPFSIGN_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(HEAP_GROWING_PERCENT),
  /** Worker threads that verify (POST /v1/verifications), per process; 0 = on the event loop, without a budget. */
  BPFSIGN_VERIFY_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  /** How long one verification may run in its worker (ms); past it the request gets 503 VERIFY_BUDGET_EXCEEDED and the worker is replaced. */
  BPFSIGN_VERIFY_BUDGET_MS: z.coerce.number().int().min(1).max(3_600_000).default(10_000),
  /** Verifications that may wait for a worker; more get 503 VERIFY_QUEUE_FULL with Retry-After. */
  BPFSIGN_VERIFY_QUEUE: z.coerce.number().int().min(0).max(100_000).default(256),
  /** Nice value of the verification threads (Linux: per thread), above the event loop's so that it runs first on busy cores; 0 = the same. */
  BPFSIGN_VERIFY_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** Witnesses the log submits each checkpoint to (c2sp.org/tlog-witness): comma-separated `URL VKEY` pairs. */
  BPFSIGN_WITNESSES: z.string().optional(),
  BPFSIGN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** auto (default): readable lines when standard output is a terminal, JSON otherwise. */
  BPFSIGN_LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  /** Production mode refuses to start on generated (development) keys unless this is true. */
  BPFSIGN_ALLOW_DEV_KEYS: z.enum(['true', 'false']).default('false'),
});

export type Scope = 'sign' | 'verify' | 'audit' | 'admin';
const SCOPES: readonly Scope[] = ['sign', 'verify', 'audit', 'admin'];

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  dataDir: string;
  logOrigin: string;
  tokens: Map<string, Set<Scope>> | null;
  maxObjectBytes: number;
  rateLimitPerMinute: number;
  mode: 'development' | 'production';
  workers: number;
  anonymousReads: boolean;
  cacheEntries: number;
  heapGrowingPercent: number;
  verifyWorkers: number;
  verifyBudgetMs: number;
  verifyQueue: number;
  verifyNice: number;
  logLevel: z.infer<typeof Env>['BPFSIGN_LOG_LEVEL'];
  logFormat: z.infer<typeof Env>['BPFSIGN_LOG_FORMAT'];
  allowDevKeys: boolean;
  witnesses: { url: string; key: string }[];
}

/** A configuration the service will not start with: one line, and `bpfsign serve` exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

export function parseTokens(spec: string): Map<string, Set<Scope>> {
  const out = new Map<string, Set<Scope>>();
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [token, scopes = 'sign+verify'] = part.split(':');
    if (!token || token.length < 16) throw new ConfigError('BPFSIGN_API_TOKENS: each token needs at least 16 characters');
    const set = new Set<Scope>();
    for (const s of scopes.split('+')) {
      if (!SCOPES.includes(s as Scope)) throw new ConfigError(`BPFSIGN_API_TOKENS: unknown scope '${s}' (want ${SCOPES.join(', ')})`);
      set.add(s as Scope);
    }
    // Only the hash of a token is kept in memory: a heap dump or log line never shows one.
    out.set(createHash('sha256').update(token).digest('hex'), set);
  }
  return out;
}

/** `URL VKEY[, URL VKEY …]`: where each witness listens and its cosigner key. */
export function parseWitnesses(text: string): { url: string; key: string }[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const [url, key, ...rest] = p.split(/\s+/);
      if (!key || rest.length || !/^https?:\/\//.test(url))
        throw new ConfigError(`BPFSIGN_WITNESSES: ${JSON.stringify(p.slice(0, 80))}: want "URL VKEY"`);
      return { url, key };
    });
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const r = Env.safeParse(env);
  if (!r.success) throw new ConfigError(`configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = r.data;
  return Object.freeze({
    host: e.BPFSIGN_HOST,
    port: e.BPFSIGN_PORT ?? e.PORT ?? 8080,
    databaseUrl: e.BPFSIGN_DATABASE_URL ?? e.DATABASE_URL ?? `sqlite:${e.BPFSIGN_DATA_DIR}/bpfsign.db`,
    dataDir: e.BPFSIGN_DATA_DIR,
    logOrigin: e.BPFSIGN_LOG_ORIGIN,
    tokens: e.BPFSIGN_API_TOKENS ? parseTokens(e.BPFSIGN_API_TOKENS) : null,
    maxObjectBytes: e.BPFSIGN_MAX_OBJECT_BYTES,
    rateLimitPerMinute: e.BPFSIGN_RATE_LIMIT,
    mode: e.BPFSIGN_MODE,
    workers: e.BPFSIGN_WORKERS,
    anonymousReads: e.BPFSIGN_ANONYMOUS_READS === 'true',
    cacheEntries: e.BPFSIGN_CACHE_ENTRIES,
    heapGrowingPercent: e.BPFSIGN_HEAP_GROWING_PERCENT,
    verifyWorkers: e.BPFSIGN_VERIFY_WORKERS ?? defaultVerifyWorkers(e.BPFSIGN_WORKERS),
    verifyBudgetMs: e.BPFSIGN_VERIFY_BUDGET_MS,
    verifyQueue: e.BPFSIGN_VERIFY_QUEUE,
    verifyNice: e.BPFSIGN_VERIFY_NICE,
    logLevel: e.BPFSIGN_LOG_LEVEL,
    logFormat: e.BPFSIGN_LOG_FORMAT,
    allowDevKeys: e.BPFSIGN_ALLOW_DEV_KEYS === 'true',
    witnesses: parseWitnesses(e.BPFSIGN_WITNESSES ?? ''),
  });
}

/**
 * Verification workers per process: the cores but one (the event loop's), shared among the
 * processes (BPFSIGN_WORKERS), at least one; before, every process took cores − 1. A worker per
 * core verified a new bundle each time 35% faster with one process on 2 cores (962 and 967
 * beside 671 and 734 req/s), but with both cores busy verifying at nice 10, /healthz answered
 * in up to 139 ms instead of 86 while the worst verifications ran: the event loop keeps a core.
 */
export function defaultVerifyWorkers(processes = 1): number {
  return Math.max(1, Math.floor((availableParallelism() - 1) / Math.max(1, processes)));
}
