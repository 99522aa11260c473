/**
 * The process entry: config from the environment, the data directory (development keys made on
 * first run, said loudly), the store, the log, then listen. Closes gracefully on SIGINT/SIGTERM.
 */
import cluster from 'node:cluster';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createMetrics } from './plugins/metrics.js';
import { join } from 'node:path';
import pino from 'pino';
import { buildApp } from './app.js';
import { loadConfig, type Config, type Scope } from './config.js';
import { openStore } from '../store/index.js';
import { TransparencyLog } from '../service/log.js';
import { WitnessClient } from '../service/witness-client.js';
import { ed25519Signer, ed25519VerifierKey } from '../signing/tlog/index.js';
import { createKeyring, hasKeyring, keyringSigningService } from '../service/keys.js';
import { loadProfile, ParsedBodies, ReplayCache } from '../service/verify.js';
import { LoaderCache } from '../service/loader.js';
import { VerifyPool } from '../service/verify-pool.js';
import { VerificationMemos } from '../service/verification-caches.js';

/** The kernel profile replays run against (loadProfile's spec): the running kernel. The verification workers load the same. */
const PROFILE_SPEC = 'host';

function readOrCreate(path: string, make: () => string, onCreate: () => void): string {
  if (existsSync(path)) return readFileSync(path, 'utf8');
  const v = make();
  writeFileSync(path, v, { mode: 0o600 });
  onCreate();
  return v;
}

export async function startServer(config: Config = loadConfig(process.env)): Promise<{ close(): Promise<void>; url: string }> {
  const logger = pino({ level: config.logLevel });
  const prepared = await prepare(config, logger);
  const { store, log, tokens, signing, profile } = prepared;
  if (config.mode === 'development') logger.warn('DEVELOPMENT MODE: requests from loopback need no token; set BPFSIGN_MODE=production to require tokens');
  // Verification in worker threads, each with its own profile and caches, under a time budget
  // (BPFSIGN_VERIFY_WORKERS=0: on the event loop, as before, without one). Closing the app ends them.
  const verifier = config.verifyWorkers > 0
    ? new VerifyPool({
      workers: config.verifyWorkers, budgetMs: config.verifyBudgetMs, maxQueue: config.verifyQueue, profile: PROFILE_SPEC, cacheEntries: config.cacheEntries, nice: config.verifyNice,
      onProfileError: (message) => logger.warn({ err: message }, 'no kernel profile in the verification workers: verification replays will fail until one is configured'),
    })
    : undefined;
  const app = await buildApp({ store, log, tokens, signing, profile, anonymousReads: config.anonymousReads, loopbackTrusted: config.mode === 'development', metrics: createMetrics(), caches: { loaders: new LoaderCache(config.cacheEntries), replays: new ReplayCache(config.cacheEntries), bodies: new ParsedBodies(config.cacheEntries), memos: new VerificationMemos(config.cacheEntries) }, verifier }, { logger: { level: config.logLevel }, maxObjectBytes: config.maxObjectBytes, rateLimitPerMinute: config.rateLimitPerMinute });
  const url = await app.listen({ host: config.host, port: config.port });
  logger.info({ url, store: store.kind, pid: process.pid, verifyWorkers: config.verifyWorkers, verifyBudgetMs: config.verifyBudgetMs }, 'bpfsign listening');
  return { url, close: async () => { await app.close(); await store.close(); } };
}

/**
 * The data directory (log key, development token and keyring, made on first run and said
 * loudly), the migrated store, the log and the signing service. A cluster's primary runs it once
 * before forking, so workers only read what it made.
 */
export async function prepare(config: Config, logger: pino.Logger) {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const logKeyPath = join(config.dataDir, 'log-key.pem');
  const logKey = readOrCreate(logKeyPath,
    () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    () => logger.warn({ path: logKeyPath }, 'DEVELOPMENT MODE: generated a new transparency-log signing key; do not use it in production'));
  let tokens = config.tokens;
  if (tokens === null) {
    const tokenPath = join(config.dataDir, 'dev-token');
    const token = readOrCreate(tokenPath, () => randomBytes(24).toString('hex'),
      () => logger.warn({ path: tokenPath }, 'DEVELOPMENT MODE: generated an API token (scopes sign, verify); set BPFSIGN_API_TOKENS in production')).trim();
    tokens = new Map([[createHash('sha256').update(token).digest('hex'), new Set<Scope>(['sign', 'verify', 'audit', 'admin'])]]);
    logger.warn({ tokenFile: tokenPath }, 'DEVELOPMENT MODE: API token is in the token file');
  }
  const keysDir = join(config.dataDir, 'keys');
  if (!hasKeyring(keysDir)) {
    const k = await createKeyring(keysDir, new Date());
    logger.warn({ dir: keysDir, key: k.id }, 'DEVELOPMENT MODE: created a local CA and signing key; bundles it signs chain to keys/ca.pem, not to a production root');
  }
  const store = await openStore(config.databaseUrl);
  const logSigner = ed25519Signer(config.logOrigin, logKey);
  const pub = new Uint8Array(createPublicKey(logKey).export({ type: 'spki', format: 'der' })).subarray(12);
  const log = new TransparencyLog(store, logSigner, config.logOrigin, () => new Date());
  if (config.witnesses.length > 0) {
    const witnesses = new WitnessClient(config.witnesses, async (from, to) => (await log.consistency(from, to)).hashes,
      { onError: (witness, err) => logger.warn({ witness, err }, 'a witness did not cosign the checkpoint') });
    log.cosign = witnesses.cosign;
  }
  // Verification workers load the profile themselves; the event loop holds it only when it verifies
  // (BPFSIGN_VERIFY_WORKERS=0): its many objects (a kernel's BTF) would lengthen every full
  // collection of this thread's heap, pausing the requests it serves.
  let profile = null;
  if (config.verifyWorkers === 0) {
    try { profile = loadProfile(PROFILE_SPEC); } catch (e) { logger.warn({ err: (e as Error).message }, 'no kernel profile: verification replays will fail until one is configured'); }
  }
  const signing = keyringSigningService(keysDir, config.logOrigin, ed25519VerifierKey(config.logOrigin, pub));
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
  const logger = pino({ level: config.logLevel });
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
  cluster.on('listening', (w) => { ready.add(w.id); if (ready.size === config.workers) logger.info({ workers: config.workers, port: config.port }, 'bpfsign cluster listening'); });
  for (let i = 0; i < config.workers; i++) fork();
  return {
    close: () => new Promise<void>((resolve) => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
      if (workers.length === 0) return resolve();
      let left = workers.length;
      for (const w of workers) { w.once('exit', () => { if (--left === 0) resolve(); }); w.process.kill('SIGTERM'); }
    }),
  };
}
