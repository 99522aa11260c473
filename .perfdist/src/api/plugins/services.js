/** Decorates the app with its services and the auth guard (module augmentation types them). */
import fp from 'fastify-plugin';
import { timingSafeEqual } from 'node:crypto';
import { problem } from './errors.js';
function tokenScopes(tokens, presented) {
    const p = Buffer.from(presented);
    for (const [t, scopes] of tokens) {
        const b = Buffer.from(t);
        if (b.length === p.length && timingSafeEqual(b, p))
            return scopes;
    }
    return undefined;
}
export const servicesPlugin = fp(async (app, opts) => {
    app.decorate('services', opts.services);
    app.decorate('requireScope', (scope) => async (req, reply) => {
        const tokens = opts.services.tokens;
        if (tokens === null)
            return;
        const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
        if (!m)
            return problem(reply, 401, 'UNAUTHENTICATED', 'Unauthorized', 'send Authorization: Bearer <token>');
        const scopes = tokenScopes(tokens, m[1]);
        if (!scopes)
            return problem(reply, 401, 'UNAUTHENTICATED', 'Unauthorized', 'unknown token');
        if (!scopes.has(scope))
            return problem(reply, 403, 'FORBIDDEN', 'Forbidden', `this token lacks the '${scope}' scope`, { details: { want: scope } });
    });
}, { name: 'bpfsign-services' });
//# sourceMappingURL=services.js.map