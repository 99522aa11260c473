/** Decorates the app with its services and the auth guard (module augmentation types them). */
import fp from 'fastify-plugin';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Scope } from '../config.js';
import type { Store } from '../../store/index.js';
import type { TransparencyLog } from '../../service/log.js';
import { problem } from './errors.js';

export interface Services {
  store: Store;
  log: TransparencyLog;
  /** token → scopes; null disables auth (only for tests that say so). */
  tokens: Map<string, Set<Scope>> | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    requireScope(scope: Scope): onRequestAsyncHookHandler;
  }
}

function tokenScopes(tokens: Map<string, Set<Scope>>, presented: string): Set<Scope> | undefined {
  const p = Buffer.from(presented);
  for (const [t, scopes] of tokens) {
    const b = Buffer.from(t);
    if (b.length === p.length && timingSafeEqual(b, p)) return scopes;
  }
  return undefined;
}

export const servicesPlugin = fp<{ services: Services }>(async (app, opts) => {
  app.decorate('services', opts.services);
  app.decorate('requireScope', (scope: Scope): onRequestAsyncHookHandler => async (req: FastifyRequest, reply: FastifyReply) => {
    const tokens = opts.services.tokens;
    if (tokens === null) return;
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m) return problem(reply, 401, 'UNAUTHENTICATED', 'Unauthorized', 'send Authorization: Bearer <token>');
    const scopes = tokenScopes(tokens, m[1]);
    if (!scopes) return problem(reply, 401, 'UNAUTHENTICATED', 'Unauthorized', 'unknown token');
    if (!scopes.has(scope)) return problem(reply, 403, 'FORBIDDEN', 'Forbidden', `this token lacks the '${scope}' scope`, { details: { want: scope } });
  });
}, { name: 'bpfsign-services' });
