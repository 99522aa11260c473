/**
 * buildApp: the fastify application as a plugin tree, apart from the process entry (server.ts).
 * Tests build it with their own services and use app.inject.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import swaggerUi from '@fastify/swagger-ui';
import { metricsPlugin, watch } from './plugins/metrics.js';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import multipart from '@fastify/multipart';
import { FifoGate } from '../service/fifo.js';
import { LoaderCache } from '../service/loader.js';
import { ParsedBodies, ReplayCache } from '../service/verify.js';
import { registerErrorHandler } from './plugins/errors.js';
import { servicesPlugin, type Services } from './plugins/services.js';
import { healthRoutes } from './routes/health.js';
import { objectRoutes } from './routes/objects.js';
import { logRoutes } from './routes/log.js';
import { signingRoutes } from './routes/signing.js';

export const API_VERSION = '0.1.0';

export async function buildApp(input: Omit<Services, 'cpu' | 'caches'> & Partial<Pick<Services, 'cpu' | 'caches'>>, opts: { logger?: FastifyServerOptions['logger']; maxObjectBytes?: number; rateLimitPerMinute?: number } = {}): Promise<FastifyInstance> {
  const services: Services = { ...input, cpu: input.cpu ?? new FifoGate(), caches: input.caches ?? { loaders: new LoaderCache(), replays: new ReplayCache(), bodies: new ParsedBodies() } };
  watch(services.metrics, services);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: opts.maxObjectBytes ?? 16 << 20 }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  registerErrorHandler(app);
  // multipart/form-data for POST /v1/loaders (the object plus option fields); parts are read by the route.
  await app.register(multipart, { limits: { fileSize: opts.maxObjectBytes ?? 16 << 20, files: 1, fields: 16, fieldSize: 1024 } });
  // Per-client rate limit (by token when one is sent, else by address); 429 answers are problem+json.
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute ?? 600, timeWindow: '1 minute',
    keyGenerator: (req) => req.headers.authorization ?? req.ip,
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'RATE_LIMITED', message: `more than ${ctx.max} requests in ${ctx.after}` }),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'bpfsign', version: API_VERSION, description: 'Signing and verification of BPF loader programs' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: [{ name: 'loaders' }, { name: 'verify' }, { name: 'audit' }, { name: 'log' }, { name: 'objects' }, { name: 'health' }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(servicesPlugin, { services });
  await app.register(metricsPlugin, { metrics: services.metrics });
  await app.register(healthRoutes);
  await app.register(objectRoutes);
  await app.register(logRoutes);
  await app.register(signingRoutes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
