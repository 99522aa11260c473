import { z } from 'zod';
import { problems } from '../schemas/common.js';
export const healthRoutes = async (app) => {
    app.get('/healthz', { schema: { summary: 'Liveness', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' }));
    app.get('/readyz', {
        schema: { summary: 'Readiness: the store answers', tags: ['health'], response: { 200: z.object({ status: z.literal('ready'), store: z.string(), logSize: z.string() }), ...problems } },
    }, async () => ({ status: 'ready', store: app.services.store.kind, logSize: (await app.services.store.logSize()).toString() }));
};
//# sourceMappingURL=health.js.map