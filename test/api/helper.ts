/** buildTestApp: the app over a fresh SQLite file, a fresh log key and one token per scope set. */
import { after } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { parseTokens } from '../../src/api/config.js';
import { createMetrics } from '../../src/api/plugins/metrics.js';
import { TransparencyLog } from '../../src/service/log.js';
import { ed25519Signer, ed25519VerifierKey } from '../../src/signing/tlog/index.js';
import { createKeyring, keyringSigningService } from '../../src/service/keys.js';
import { loadProfile } from '../../src/service/verify.js';
import { FIXTURES } from '../support/objects.js';
import { existsSync } from 'node:fs';

/** The running kernel's BTF when there is one, else the minimised 6.18 profile shipped for tests. */
export function testProfile() {
  return loadProfile(
    existsSync('/sys/kernel/btf/vmlinux') ? '/sys/kernel/btf/vmlinux' : join(FIXTURES, 'profiles/linux-6.18-min/vmlinux.btf'),
  );
}
import { SqliteStore, type Store } from '../../src/store/index.js';

export const TOKENS = { all: 'a'.repeat(32), verifyOnly: 'v'.repeat(32) };

type TestAppOptions = { rateLimitPerMinute?: number; loopbackTrusted?: boolean; anonymousReads?: boolean };
type TestApp<S extends Store> = {
  app: FastifyInstance;
  log: TransparencyLog;
  logKeyPem: string;
  publicKey: Uint8Array;
  keysDir: string;
  store: S;
};

export async function buildTestApp(opts: TestAppOptions = {}): Promise<TestApp<SqliteStore>> {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-api-'));
  const store = new SqliteStore(join(dir, 'test.db'));
  await store.migrate();
  return buildTestAppOn(store, opts);
}

/** The same over a migrated store of the caller's (closed with the app). */
export async function buildTestAppOn<S extends Store>(store: S, opts: TestAppOptions = {}): Promise<TestApp<S>> {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-api-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const logKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const log = new TransparencyLog(
    store,
    ed25519Signer('bpfsign.test/log', logKeyPem),
    'bpfsign.test/log',
    () => new Date('2026-11-25T12:00:00Z'),
  );
  const pub = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(12);
  const keysDir = join(dir, 'keys');
  await createKeyring(keysDir, new Date());
  const signing = keyringSigningService(keysDir, 'bpfsign.test/log', ed25519VerifierKey('bpfsign.test/log', pub));
  const app = await buildApp(
    {
      store,
      log,
      signing,
      profile: testProfile(),
      anonymousReads: opts.anonymousReads,
      loopbackTrusted: opts.loopbackTrusted ?? false,
      metrics: createMetrics(),
      tokens: parseTokens(`${TOKENS.all}:sign+verify+audit+admin,${TOKENS.verifyOnly}:verify`),
    },
    { rateLimitPerMinute: opts.rateLimitPerMinute },
  );
  after(async () => {
    await app.close();
    await store.close();
  });
  return { app, log, logKeyPem, publicKey: pub, keysDir, store };
}

export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
