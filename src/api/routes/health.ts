import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problems } from '../schemas/common.js';
import { security } from '../openapi.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        operationId: 'getLiveness',
        tags: ['health'],
        security: security.none,
        response: { 200: z.object({ status: z.literal('ok') }), 429: problems[429], 500: problems[500] },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the store answers',
        operationId: 'getReadiness',
        tags: ['health'],
        security: security.none,
        response: {
          200: z.object({ status: z.literal('ready'), store: z.string(), logSize: z.string() }),
          429: problems[429],
          500: problems[500],
        },
      },
    },
    async () => ({ status: 'ready' as const, store: app.services.store.kind, logSize: (await app.services.store.logSize()).toString() }),
  );
};
