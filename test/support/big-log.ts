/**
 * A large transparency log for auditor tests and the bench, written straight through the store
 * (1,000 entries a transaction) instead of by signing requests: `n` entries whose bodies are DSSE
 * envelopes of small in-toto statements, signed by a fresh development keyring. `distinct`
 * envelopes are signed and repeated in turn (signing every one of 100,000 would be most of the
 * cost of building the log; the log does not care that bodies repeat).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/api/app.js';
import { parseTokens } from '../../src/api/config.js';
import { createMetrics } from '../../src/api/plugins/metrics.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { makeStatement, signStatement } from '../../src/signing/statement.js';
import { ed25519Signer, ed25519VerifierKey, hashLeaf } from '../../src/signing/tlog/index.js';
import { activeSigner, createKeyring, keyringSigningService } from '../../src/service/keys.js';
import { TransparencyLog } from '../../src/service/log.js';
import { SqliteStore } from '../../src/store/index.js';

export const BIG_LOG_ORIGIN = 'bpfsign.test/big-log';

export interface BigLog {
  dir: string;
  dbPath: string;
  keysDir: string;
  logKeyPem: string;
  logVkey: string;
}

/** Signed, canonical envelope bytes of `count` distinct statements. */
export async function signedBodies(keysDir: string, count: number): Promise<Uint8Array[]> {
  const { signer } = await activeSigner(keysDir);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const st = makeStatement(
      [{ name: `obj-${i}.o`, digest: { sha256: Buffer.from(hashLeaf(Buffer.from(`obj-${i}`))).toString('hex') } }],
      'https://bpfsign.dev/test/v1',
      { i },
    );
    out.push(canonicalBytes(await signStatement(st, signer)));
  }
  return out;
}

export async function buildBigLog(dir: string, n: number, opts: { distinct?: number } = {}): Promise<BigLog> {
  mkdirSync(dir, { recursive: true });
  const keysDir = join(dir, 'keys');
  await createKeyring(keysDir, new Date('2026-11-25T12:00:00Z'));
  const bodies = await signedBodies(keysDir, Math.min(n, opts.distinct ?? 1024));
  const dbPath = join(dir, 'log.db');
  const store = new SqliteStore(dbPath);
  await store.migrate();
  const leaves = bodies.map((b) => hashLeaf(b));
  for (let from = 0; from < n; from += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - from) }, (_, k) => {
      const j = (from + k) % bodies.length;
      return { leafHash: leaves[j], kind: 'test', ref: `e${from + k}`, body: bodies[j] };
    });
    await store.appendLog(batch, '2026-11-25T12:00:00Z');
  }
  await store.close();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(12);
  return {
    dir,
    dbPath,
    keysDir,
    logKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    logVkey: ed25519VerifierKey(BIG_LOG_ORIGIN, pub),
  };
}

/** The service's app over the log, listening on a loopback port (no rate limit to speak of). */
export async function serveBigLog(log: BigLog): Promise<{ url: string; close(): Promise<void>; tlog: TransparencyLog }> {
  const store = new SqliteStore(log.dbPath);
  await store.migrate();
  const tlog = new TransparencyLog(
    store,
    ed25519Signer(BIG_LOG_ORIGIN, log.logKeyPem),
    BIG_LOG_ORIGIN,
    () => new Date('2026-11-25T12:00:00Z'),
  );
  const signing = keyringSigningService(log.keysDir, BIG_LOG_ORIGIN, log.logVkey);
  const app = await buildApp(
    {
      store,
      log: tlog,
      signing,
      profile: null,
      loopbackTrusted: true,
      metrics: createMetrics(),
      tokens: parseTokens(`${'a'.repeat(32)}:audit`),
    },
    { logger: false, rateLimitPerMinute: 1_000_000 },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tlog,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}
