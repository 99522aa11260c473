/**
 * The process entry: config from the environment, the data directory (development keys made on
 * first start, race-free across replicas; refused in production mode unless allowed), the store,
 * the log, then listen. Closes gracefully on SIGINT/SIGTERM.
 */
import cluster from 'node:cluster';
import { mkdirSync } from 'node:fs';
import { createHash, createPublicKey } from 'node:crypto';
import { createMetrics } from './plugins/metrics.js';
import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config, type Scope } from './config.js';
import { logStream } from './log-format.js';
import { openStore } from '../store/index.js';
import { TransparencyLog } from '../service/log.js';
import { WitnessClient } from '../service/witness-client.js';
import { ed25519Signer, ed25519VerifierKey } from '../signing/tlog/index.js';
import { keyringSigningService } from '../service/keys.js';
import { dataFolder, developmentKeys, ensureDevToken, ensureKeyring, ensureLogKey, type DataFolder } from '../service/first-start.js';
import { loadProfile, ParsedBodies, ReplayCache } from '../service/verify.js';
import { LoaderCache } from '../service/loader.js';
import { VerifyPool } from '../service/verify-pool.js';
import { VerificationMemos } from '../service/verification-caches.js';
import { boundHeapGrowth } from '../service/memory.js';

/** The kernel profile replays run against (loadProfile's spec): the running kernel. The verification workers load the same. */
const PROFILE_SPEC = 'host';

/** The service's logger: readable lines on a terminal, JSON otherwise (BPFSIGN_LOG_FORMAT). */
function makeLogger(config: Config): pino.Logger {
  const stream = logStream(config.logFormat);
  return stream ? pino({ level: config.logLevel }, stream) : pino({ level: config.logLevel });
}

/** Development mode says so once, in plain text on stderr, before any log line. */
function printBanner(config: Config, folder: DataFolder, made: string[], tokenFile: string | null): void {
  const lines = [
    'bpfsign: DEVELOPMENT MODE -- not for production',
    `  requests from loopback need no token${tokenFile ? `; others send the token in ${tokenFile}` : ''}`,
    `  keys in ${config.dataDir}: development CA ${folder.keysDir}/ca.pem, log key ${folder.logKeyPath}${made.length ? ` (made now: ${made.join(', ')})` : ''}`,
    '  for production: BPFSIGN_MODE=production, BPFSIGN_API_TOKENS and your own keys in the data folder',
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

export async function startServer(config: Config = loadConfig(process.env)): Promise<{ close(): Promise<void>; url: string }> {
  boundHeapGrowth(config.heapGrowingPercent);
  const logger = makeLogger(config);
  const prepared = await prepare(config, logger);
  const { store, log, tokens, signing, profile } = prepared;
  // Verification in worker threads, each with its own profile and caches, under a time budget
  // (BPFSIGN_VERIFY_WORKERS=0: on the event loop, as before, without one). Closing the app ends them.
  const verifier =
    config.verifyWorkers > 0
      ? new VerifyPool({
          workers: config.verifyWorkers,
          budgetMs: config.verifyBudgetMs,
          maxQueue: config.verifyQueue,
          profile: PROFILE_SPEC,
          cacheEntries: config.cacheEntries,
          nice: config.verifyNice,
          onProfileError: (message) =>
            logger.warn(
              { err: message },
              'no kernel profile in the verification workers: verification replays will fail until one is configured',
            ),
        })
      : undefined;
  const app = await buildApp(
    {
      store,
      log,
      tokens,
      signing,
      profile,
      anonymousReads: config.anonymousReads,
      loopbackTrusted: config.mode === 'development',
      metrics: createMetrics(),
      caches: {
        loaders: new LoaderCache(config.cacheEntries),
        replays: new ReplayCache(config.cacheEntries),
        bodies: new ParsedBodies(config.cacheEntries),
        memos: new VerificationMemos(config.cacheEntries),
      },
      verifier,
    },
    {
      logger: { level: config.logLevel, stream: logStream(config.logFormat) },
      maxObjectBytes: config.maxObjectBytes,
      rateLimitPerMinute: config.rateLimitPerMinute,
    },
  );
  const url = await app.listen({ host: config.host, port: config.port });
  logger.info(
    { url, store: store.kind, pid: process.pid, verifyWorkers: config.verifyWorkers, verifyBudgetMs: config.verifyBudgetMs },
    'bpfsign listening',
  );
  return {
    url,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

/**
 * The data directory (log key, development token and keyring, made on first start by exactly
 * one of the replicas starting on it), the migrated store, the log and the signing service. In
 * production mode, generated keys are refused unless BPFSIGN_ALLOW_DEV_KEYS=true. A cluster's
 * primary runs it once before forking, so workers only read what it made.
 */
export async function prepare(config: Config, logger: pino.Logger) {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const folder = dataFolder(config.dataDir);
  const dev = config.mode === 'development';
  if (!dev) {
    const found = developmentKeys(folder);
    if (found.length > 0 && !config.allowDevKeys)
      throw new ConfigError(
        `production mode: ${found.join(', ')}; put your own keys in ${config.dataDir} or set BPFSIGN_ALLOW_DEV_KEYS=true`,
      );
    if (found.length > 0) logger.warn({ keys: found }, 'production mode on development keys (BPFSIGN_ALLOW_DEV_KEYS=true)');
  }
  const made: string[] = [];
  const { pem: logKey, created: newLogKey } = ensureLogKey(folder);
  if (newLogKey) made.push('log key');
  let tokens = config.tokens;
  let tokenFile: string | null = null;
  if (tokens === null && (dev || config.allowDevKeys)) {
    const { token, created } = ensureDevToken(folder);
    if (created) made.push('API token');
    tokenFile = folder.tokenPath;
    tokens = new Map([[createHash('sha256').update(token).digest('hex'), new Set<Scope>(['sign', 'verify', 'audit', 'admin'])]]);
  } else if (tokens === null) {
    // Production without BPFSIGN_API_TOKENS: only tokens made with `bpfsign tokens create` (in the store) are accepted.
    tokens = new Map();
  }
  const { created: newKey } = await ensureKeyring(folder.keysDir, new Date());
  if (newKey) made.push(`CA and signing key ${newKey.id}`);
  if (dev && !cluster.isWorker) printBanner(config, folder, made, tokenFile);
  else if (made.length > 0) logger.warn({ dir: config.dataDir, made }, 'generated development keys');
  const store = await openStore(config.databaseUrl);
  const logSigner = ed25519Signer(config.logOrigin, logKey);
  const pub = new Uint8Array(createPublicKey(logKey).export({ type: 'spki', format: 'der' })).subarray(12);
  const log = new TransparencyLog(store, logSigner, config.logOrigin, () => new Date());
  if (config.witnesses.length > 0) {
    const witnesses = new WitnessClient(config.witnesses, async (from, to) => (await log.consistency(from, to)).hashes, {
      onError: (witness, err) => logger.warn({ witness, err }, 'a witness did not cosign the checkpoint'),
    });
    log.cosign = witnesses.cosign;
  }
  // Verification workers load the profile themselves; the event loop holds it only when it verifies
  // (BPFSIGN_VERIFY_WORKERS=0): its many objects (a kernel's BTF) would lengthen every full
  // collection of this thread's heap, pausing the requests it serves.
  let profile = null;
  if (config.verifyWorkers === 0) {
    try {
      profile = loadProfile(PROFILE_SPEC);
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'no kernel profile: verification replays will fail until one is configured');
    }
  }
  const signing = keyringSigningService(folder.keysDir, config.logOrigin, ed25519VerifierKey(config.logOrigin, pub));
  return { store, log, tokens, signing, profile };
}

/**
 * `bpfsign serve` with BPFSIGN_WORKERS > 1: this process prepares the data directory and store
 * once, then forks workers that share the listening port (node:cluster hands connections out
 * round-robin). Workers are stateless over the store — the log's appends are serialized by the
 * database and each worker's Merkle tree follows it — so they scale as PostgreSQL replicas do.
 * A worker that dies is replaced; SIGINT/SIGTERM stop them all. Rate limits count per worker.
 */
export async function startCluster(config: Config = loadConfig(process.env)): Promise<{ close(): Promise<void> }> {
  const logger = makeLogger(config);
  const { store } = await prepare(config, logger);
  await store.close();
  let stopping = false;
  const fork = () => cluster.fork({ BPFSIGN_WORKERS: '1' });
  const ready = new Set<number>();
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    if (stopping) return;
    logger.error({ worker: w.process.pid, code, signal }, 'bpfsign worker died; starting another');
    setTimeout(fork, 200);
  });
  cluster.on('listening', (w) => {
    ready.add(w.id);
    if (ready.size === config.workers) logger.info({ workers: config.workers, port: config.port }, 'bpfsign cluster listening');
  });
  for (let i = 0; i < config.workers; i++) fork();
  return {
    close: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
        if (workers.length === 0) return resolve();
        let left = workers.length;
        for (const w of workers) {
          w.once('exit', () => {
            if (--left === 0) resolve();
          });
          w.process.kill('SIGTERM');
        }
      }),
  };
}
