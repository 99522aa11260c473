/** A loader service over a fresh SQLite store, a fresh log key and a development CA's signing key (id k1), with numbered loader ids. */
import { after } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './objects.js';
import { FifoGate } from '../../src/service/fifo.js';
import { LoaderCache } from '../../src/service/loader.js';
import { LoaderService, type SignOptions, type SigningKey } from '../../src/service/loader-service.js';
import { TransparencyLog } from '../../src/service/log.js';
import { createDevelopmentCa, toPem } from '../../src/signing/index.js';
import { ed25519Signer } from '../../src/signing/tlog/index.js';
import { SqliteStore } from '../../src/store/index.js';

export const OBJECT = readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o'));
export const OPTIONS: SignOptions = { name: 'xdp_filter', scheme: 'linux-6.18', profile: 'linux-6.18', flavour: 'v1.7' };

/** `timed` collects the scheme of each signing the service times; `cacheEntries` bounds the loader cache (0: off). */
export async function loaderService(opts: { timed?: string[]; cacheEntries?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-loader-service-'));
  const store = new SqliteStore(join(dir, 'test.db'));
  await store.migrate();
  after(() => store.close());
  const { privateKey } = generateKeyPairSync('ed25519');
  const log = new TransparencyLog(
    store,
    ed25519Signer('bpfsign.test/log', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
    'bpfsign.test/log',
    () => new Date('2026-11-25T12:00:00Z'),
  );
  const ca = await createDevelopmentCa({ now: new Date() });
  const key: SigningKey = { id: 'k1', signer: ca.signer, certificates: [await toPem('CERTIFICATE', ca.signingCert)] };
  const keys = {
    async active(id?: string) {
      if (id !== undefined && id !== 'k1') throw Object.assign(new Error(`no signing key "${id}" (keys: k1)`), { code: 'KEY_NOT_FOUND' });
      return key;
    },
  };
  const loaders = new LoaderCache(opts.cacheEntries);
  let n = 0;
  const svc = new LoaderService({
    store,
    log,
    keys,
    cpu: new FifoGate(),
    loaders,
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    now: () => new Date('2026-12-01T00:00:00Z'),
    timer: (scheme) => () => opts.timed?.push(scheme),
  });
  return { svc, store, log, loaders };
}
