import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problems } from '../schemas/common.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', {
    schema: { summary: 'Readiness: the store answers', tags: ['health'], response: { 200: z.object({ status: z.literal('ready'), store: z.string(), logSize: z.string() }), ...problems } },
  }, async () => ({ status: 'ready' as const, store: app.services.store.kind, logSize: (await app.services.store.logSize()).toString() }));
};
