/**
 * buildApp: the fastify application as a plugin tree, apart from the process entry (server.ts).
 * Tests build it with their own services and use app.inject.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { metricsPlugin, watch } from './plugins/metrics.js';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { openapiFrame, transform, transformObject } from './openapi.js';
import multipart from '@fastify/multipart';
import { FifoGate } from '../service/fifo.js';
import { LoaderCache } from '../service/loader.js';
import { LoaderService } from '../service/loader-service.js';
import { ParsedBodies, ReplayCache } from '../service/verify.js';
import { inlineVerifier, type Verifier } from '../service/verify-pool.js';
import { VerificationMemos } from '../service/verification-caches.js';
import { cacheStats, CACHE_NAMES } from '../service/verify-request.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { clientErrorHandler, frameworkErrors, registerErrorHandler, requestId } from './plugins/errors.js';
import { servicesPlugin, type Services } from './plugins/services.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { healthRoutes } from './routes/health.js';
import { objectRoutes } from './routes/objects.js';
import { logRoutes } from './routes/log.js';
import { signingRoutes } from './routes/signing.js';
import { packageVersion } from '../service/version.js';

/** The API's version in the OpenAPI document: the package's. */
export const API_VERSION = packageVersion();

/**
 * `verifier`: a VerifyPool (the server's: verification in worker threads with a time budget);
 * without one, verifications run on the event loop through `cpu` with `caches` and `profile`. The
 * app owns it: closing the app ends its workers. `loaderService`: made from the store, the log,
 * the signing keys, `cpu` and the loader cache when not given.
 */
export async function buildApp(
  input: Omit<Services, 'cpu' | 'caches' | 'verifier' | 'loaderService'> &
    Partial<Pick<Services, 'cpu' | 'caches' | 'verifier' | 'loaderService'>>,
  opts: { logger?: FastifyServerOptions['logger']; maxObjectBytes?: number; rateLimitPerMinute?: number } = {},
): Promise<FastifyInstance> {
  const cpu = input.cpu ?? new FifoGate();
  const caches = input.caches ?? {
    loaders: new LoaderCache(),
    replays: new ReplayCache(),
    bodies: new ParsedBodies(),
    memos: new VerificationMemos(),
  };
  const verifier = input.verifier ?? inlineVerifier({ profile: input.profile, ...caches }, cpu);
  const loaderService =
    input.loaderService ??
    new LoaderService({
      store: input.store,
      log: input.log,
      keys: input.signing,
      cpu,
      loaders: caches.loaders,
      timer: (scheme) => input.metrics.signSeconds.startTimer({ scheme }),
    });
  const services: Services = { ...input, cpu, caches, verifier, loaderService };
  watch(services.metrics, { log: services.log, cpu, caches: verifierCaches(caches, verifier) });
  watchVerifier(services.metrics.registry, verifier);
  // Request ids: the client's x-request-id when well formed, else a random UUID; errors before
  // routing and before parsing are problems with our codes too (plugins/errors.ts).
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.maxObjectBytes ?? 16 << 20,
    genReqId: requestId,
    frameworkErrors,
    clientErrorHandler,
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  registerErrorHandler(app);
  app.addHook('onClose', async () => {
    await verifier.close();
  });
  // multipart/form-data for POST /v1/loaders (the object plus option fields); parts are read by the route.
  await app.register(multipart, { limits: { fileSize: opts.maxObjectBytes ?? 16 << 20, files: 1, fields: 16, fieldSize: 1024 } });
  // Per-client rate limit, before auth: by the token's identity when it is known, else by address.
  await app.register(rateLimitPlugin, { services, perMinute: opts.rateLimitPerMinute ?? 600 });
  await app.register(swagger, { openapi: openapiFrame(API_VERSION), transform, transformObject });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(servicesPlugin, { services });
  await app.register(metricsPlugin, { metrics: services.metrics });
  await app.register(healthRoutes);
  await app.register(objectRoutes);
  await app.register(logRoutes);
  await app.register(signingRoutes);
  await app.register((await import('./routes/console.js')).consoleRoutes); // the web console at / (src/api/console)
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

type Stats = { hits: number; misses: number; evictions: number; entries: number };

/**
 * The caches the metrics report: with verification in workers, the replay and body caches and
 * the verification memos are the workers' (summed), the loader cache is this thread's (signing)
 * plus theirs (re-derivation), and `answers` the pool's answers kept for their second.
 */
function verifierCaches(
  caches: Services['caches'],
  verifier: Verifier,
): Record<(typeof CACHE_NAMES)[number] | 'answers', { stats: Stats }> {
  const sum = (a: Stats, b: Stats): Stats => ({
    hits: a.hits + b.hits,
    misses: a.misses + b.misses,
    evictions: a.evictions + b.evictions,
    entries: a.entries + b.entries,
  });
  const pooled = () => verifier.stats.workers > 0;
  const own = () => cacheStats({ profile: null, ...caches });
  const reported = Object.fromEntries(
    CACHE_NAMES.map((k) => [
      k,
      {
        get stats() {
          return (pooled() ? verifier.stats.caches[k] : own()[k]) ?? { hits: 0, misses: 0, evictions: 0, entries: 0 };
        },
      },
    ]),
  );
  const answers = {
    get stats() {
      return verifier.stats.answers ?? { hits: 0, misses: 0, evictions: 0, entries: 0 };
    },
  };
  return {
    ...reported,
    answers,
    loaders: {
      get stats() {
        return pooled() ? sum(caches.loaders.stats, verifier.stats.caches.loaders) : caches.loaders.stats;
      },
    },
  } as Record<(typeof CACHE_NAMES)[number] | 'answers', { stats: Stats }>;
}

/** The verification pool's gauges and counters, read at scrape time (registered once per registry). */
function watchVerifier(registry: Registry, verifier: Verifier): void {
  if (registry.getSingleMetric('bpfsign_verify_queue_waiting')) return;
  const r = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: r,
      collect() {
        this.set(read());
      },
    });
  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: r,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  gauge('bpfsign_verify_workers', 'Verification worker threads (0: verification runs on the event loop)', () => verifier.stats.workers);
  gauge('bpfsign_verify_running', 'Verifications running in a worker now', () => verifier.stats.running);
  gauge('bpfsign_verify_queue_waiting', 'Verifications waiting for a worker now', () => verifier.stats.waiting);
  gauge('bpfsign_verify_queue_max', 'Most verifications ever waiting for a worker', () => verifier.stats.maxWaiting);
  total(
    'bpfsign_verify_budget_exceeded_total',
    'Verifications stopped at their time budget (503 VERIFY_BUDGET_EXCEEDED)',
    () => verifier.stats.timeouts,
  );
  total(
    'bpfsign_verify_queue_full_total',
    'Verifications turned away with the queue full (503 VERIFY_QUEUE_FULL)',
    () => verifier.stats.rejected,
  );
  total(
    'bpfsign_verify_worker_restarts_total',
    'Verification workers started again (after a budget was exceeded or a worker crashed)',
    () => verifier.stats.restarts,
  );
}
