/** Decorates the app with its services and the auth guard (module augmentation types them). */
import fp from 'fastify-plugin';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Scope } from '../config.js';
import type { Store } from '../../store/index.js';
import type { TransparencyLog } from '../../service/log.js';
import type { Signer } from '../../signing/index.js';
import type { TrustPolicy } from '../../signing/policy.js';
import type { KernelProfile } from '../../kernel/profile/index.js';
import type { Metrics } from './metrics.js';
import type { FifoGate } from '../../service/fifo.js';
import type { LoaderCache } from '../../service/loader.js';
import type { LoaderService } from '../../service/loader-service.js';
import type { ParsedBodies, ReplayCache, VerificationRequest } from '../../service/verify.js';
import type { Verifier } from '../../service/verify-pool.js';
import type { VerificationMemos } from '../../service/verification-caches.js';
import { problem } from './errors.js';

export interface SigningService {
  /**
   * The active signing key, or the key `id` (re-read when the keyring changes, so a rotation
   * takes effect at once). An unknown id rejects with code KEY_NOT_FOUND.
   */
  active(id?: string): Promise<{ id: string; signer: Signer; certificates: string[] }>;
  /** Default policy: the service's CA as root, its log key, every check enforced. */
  defaultPolicy(): Promise<TrustPolicy>;
  trust(): Promise<{
    caCertificate: string;
    keys: { id: string; active: boolean; certificate: string }[];
    logOrigin: string;
    logKey: string;
  }>;
}

export interface Services {
  store: Store;
  log: TransparencyLog;
  signing: SigningService;
  /** Kernel profile for replays; null when none is available (the replay check then fails). */
  profile: KernelProfile | null;
  /** SHA-256(token) hex → scopes; null disables auth (only for tests that say so). */
  tokens: Map<string, Set<Scope>> | null;
  /** Log, manifests, stored loaders and keys readable without a token (default true); else they need 'audit'. */
  anonymousReads?: boolean;
  /** Development mode: requests from loopback need no token. */
  loopbackTrusted: boolean;
  metrics: Metrics;
  /** First-in, first-out turns for CPU-bound request work (see FifoGate). */
  cpu: FifoGate;
  /**
   * Content-addressed caches of pure work (made loaders, replay outcomes, parsed verification
   * bodies; see LoaderCache) and this thread's verification memos (absent: verifications on this
   * thread keep nothing between them).
   */
  caches: { loaders: LoaderCache; replays: ReplayCache; bodies: ParsedBodies<VerificationRequest>; memos?: VerificationMemos };
  /** Makes, signs, logs and stores loaders and reads them back (POST and GET /v1/loaders, GET /v1/manifests). */
  loaderService: LoaderService;
  /** Runs POST /v1/verifications: worker threads with a time budget (VerifyPool), or the event loop (inlineVerifier over `cpu` and `caches`). */
  verifier: Verifier;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    requireScope(scope: Scope, opts?: { anonymous?: boolean }): onRequestAsyncHookHandler;
  }
}

function tokenScopes(tokens: Map<string, Set<Scope>>, presented: string): Set<Scope> | undefined {
  const p = Buffer.from(createHash('sha256').update(presented).digest('hex'));
  for (const [hash, scopes] of tokens) {
    const b = Buffer.from(hash);
    if (b.length === p.length && timingSafeEqual(b, p)) return scopes;
  }
  return undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Who a request's bearer token is: a stable key (never the token) and its scopes. */
export interface TokenIdentity {
  key: string;
  scopes: Set<Scope>;
}

const identities = new WeakMap<FastifyRequest, Promise<TokenIdentity | null>>();

/**
 * The identity of the token a request presents (configured tokens, then the store's), or null
 * when it sends none, a malformed one or an unknown one. Looked up once per request: the rate
 * limiter asks before the auth guard does.
 */
export function tokenIdentity(services: Services, req: FastifyRequest): Promise<TokenIdentity | null> {
  let v = identities.get(req);
  if (!v) {
    v = lookUp(services, req.headers.authorization);
    identities.set(req, v);
  }
  return v;
}

async function lookUp(services: Services, authorization: string | undefined): Promise<TokenIdentity | null> {
  const m = /^Bearer (\S+)$/.exec(authorization ?? '');
  if (!m || services.tokens === null) return null;
  const hash = createHash('sha256').update(m[1]).digest('hex');
  const scopes = tokenScopes(services.tokens, m[1]);
  if (scopes) return { key: `token:${hash}`, scopes };
  // Tokens made with `bpfsign tokens create` live in the store, hashed; revocation takes effect at once.
  const rec = await services.store.activeToken(hash);
  return rec ? { key: `token:${rec.id}`, scopes: new Set(rec.scopes as Scope[]) } : null;
}

export const servicesPlugin = fp<{ services: Services }>(
  async (app, opts) => {
    app.decorate('services', opts.services);
    app.decorate(
      'requireScope',
      (scope: Scope, o: { anonymous?: boolean } = {}): onRequestAsyncHookHandler =>
        async (req: FastifyRequest, reply: FastifyReply) => {
          const tokens = opts.services.tokens;
          // Reads of the log, manifests, loaders and the trust bundle are anonymous unless configured off.
          if (tokens === null || (o.anonymous && opts.services.anonymousReads !== false)) return;
          if (opts.services.loopbackTrusted && LOOPBACK.has(req.ip) && !req.headers.authorization) return;
          if (!/^Bearer (\S+)$/.test(req.headers.authorization ?? ''))
            return problem(reply, 401, 'UNAUTHENTICATED', 'Unauthorized', 'send Authorization: Bearer <token>');
          const scopes = (await tokenIdentity(opts.services, req))?.scopes;
          if (!scopes) return problem(reply, 401, 'UNAUTHENTICATED', 'Unauthorized', 'unknown token');
          if (!scopes.has(scope))
            return problem(reply, 403, 'FORBIDDEN', 'Forbidden', `this token lacks the '${scope}' scope`, { details: { want: scope } });
        },
    );
  },
  { name: 'bpfsign-services' },
);
