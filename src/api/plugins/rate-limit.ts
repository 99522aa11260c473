/**
 * The per-client rate limit, counted before anything else a request does (the auth guard
 * included, so 401s count). A client is its token's identity when it presents a known token
 * (each token its own budget), else its address: an unknown or malformed token counts against
 * the address, so sending a different junk Authorization header per request does not get a
 * fresh budget. 429 answers are problem+json with Retry-After.
 */
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import { tokenIdentity, type Services } from './services.js';

export const rateLimitPlugin = fp<{ services: Services; perMinute: number }>(
  async (app, opts) => {
    await app.register(rateLimit, {
      global: false,
      max: opts.perMinute,
      timeWindow: '1 minute',
      keyGenerator: async (req) => (await tokenIdentity(opts.services, req))?.key ?? `address:${req.ip}`,
      errorResponseBuilder: (_req, ctx) => ({
        statusCode: 429,
        code: 'RATE_LIMITED',
        message: `more than ${ctx.max} requests in ${ctx.after}`,
      }),
    });
    // An application-wide onRequest hook runs before every route's own (requireScope), and for 404s.
    app.addHook('onRequest', app.rateLimit());
  },
  { name: 'bpfsign-rate-limit' },
);
