/** npm run openapi: writes openapi.yaml from the routes' zod schemas (the API test fails on drift). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildApp } from '../src/api/app.js';
import { SqliteStore } from '../src/store/index.js';
import { TransparencyLog } from '../src/service/log.js';
import { ed25519Signer } from '../src/signing/tlog/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { createMetrics } from '../src/api/plugins/metrics.js';

const store = new SqliteStore(':memory:');
await store.migrate();
const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const unused = async (): Promise<never> => {
  throw new Error('not used when generating the document');
};
const app = await buildApp({
  store,
  log: new TransparencyLog(store, ed25519Signer('x', key), 'x', () => new Date()),
  tokens: null,
  profile: null,
  loopbackTrusted: false,
  metrics: createMetrics(),
  signing: { active: unused, defaultPolicy: unused, trust: unused },
});
await app.ready();
const root = join(new URL('.', import.meta.url).pathname, '../..');
writeFileSync(join(root, 'openapi.yaml'), stringify(JSON.parse(JSON.stringify(app.swagger()))));
await app.close();
console.log('wrote openapi.yaml');
