/** Transparency log for auditors: checkpoints, entries with inclusion proofs, consistency proofs. Public. */
import { z } from 'zod';
import { problems } from '../schemas/common.js';
import { ApiError } from '../plugins/errors.js';
const Index = z.string().regex(/^(0|[1-9][0-9]{0,18})$/).transform((s) => BigInt(s));
const InclusionProof = z.object({
    logIndex: z.string(), treeSize: z.string(), leafHash: z.string(), hashes: z.array(z.string()), checkpoint: z.string(),
}).meta({ id: 'InclusionProof', description: 'RFC 6962 audit path to the root of the signed checkpoint' });
const LogEntry = z.object({
    index: z.string(), kind: z.string(), ref: z.string(), createdAt: z.string(),
    body: z.string().meta({ description: 'the logged bytes (canonical JSON), base64' }),
    inclusionProof: InclusionProof,
}).meta({ id: 'LogEntry' });
export const logRoutes = async (app) => {
    app.get('/v1/log/checkpoint', {
        schema: { summary: 'Latest signed checkpoint (C2SP signed note)', tags: ['log'], response: { 200: z.string(), ...problems } },
    }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send((await app.services.log.checkpoint()).note));
    app.get('/v1/log/entries/:index', {
        schema: { summary: 'A log entry with its inclusion proof', tags: ['log'], params: z.object({ index: Index }), response: { 200: LogEntry, ...problems } },
    }, async (req) => {
        const e = await app.services.store.logEntry(req.params.index);
        if (!e)
            throw new ApiError(404, 'LOG_ENTRY_NOT_FOUND', `no log entry ${req.params.index}`, { index: req.params.index.toString() });
        return {
            index: e.index.toString(), kind: e.kind, ref: e.ref, createdAt: e.createdAt,
            body: Buffer.from(e.body).toString('base64'), inclusionProof: await app.services.log.inclusion(e.index),
        };
    });
    app.get('/v1/log/consistency', {
        schema: {
            summary: 'Consistency proof between two tree sizes', tags: ['log'], querystring: z.object({ from: Index, to: Index }),
            response: { 200: z.object({ from: z.string(), to: z.string(), hashes: z.array(z.string()) }).meta({ id: 'ConsistencyProof' }), ...problems },
        },
    }, async (req) => app.services.log.consistency(req.query.from, req.query.to));
};
//# sourceMappingURL=log.js.map