import { parseObject, summarizeObject } from '../../loader/object/index.js';
import { buildLoader } from '../../service/loader.js';
import { problems } from '../schemas/common.js';
import { LoaderQuery, LoaderResponse, ObjectQuery, ObjectSummary } from '../schemas/objects.js';
import { ApiError } from '../plugins/errors.js';
function bodyBytes(body) {
    if (!Buffer.isBuffer(body) || body.length === 0)
        throw new ApiError(400, 'REQUEST_INVALID', 'send the BPF object as the request body (Content-Type: application/octet-stream)');
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}
export const objectRoutes = async (app) => {
    app.post('/v1/objects/inspect', {
        schema: {
            summary: 'What a BPF object contains', tags: ['objects'], querystring: ObjectQuery, consumes: ['application/octet-stream'], security: [{ bearer: [] }],
            response: { 200: ObjectSummary, ...problems },
        },
        onRequest: app.requireScope('verify'),
    }, async (req) => summarizeObject(parseObject(bodyBytes(req.body), { name: req.query.name ?? 'obj' })));
    app.post('/v1/loaders', {
        schema: {
            summary: 'Generate the loader program for an object (unsigned; signing is POST /v1/sign)', tags: ['objects'],
            querystring: LoaderQuery, consumes: ['application/octet-stream'], security: [{ bearer: [] }], response: { 200: LoaderResponse, ...problems },
        },
        onRequest: app.requireScope('verify'),
    }, async (req) => {
        const q = req.query;
        const host = {};
        if (q.kernelVersion) {
            const [a, b, c = '0'] = q.kernelVersion.split('.');
            host.kernelVersion = (Number(a) << 16) + (Number(b) << 8) + Math.min(Number(c), 255);
        }
        if (q.cpus)
            host.possibleCpus = q.cpus;
        if (q.pageSize)
            host.pageSize = q.pageSize;
        const name = q.name ?? 'obj';
        const built = buildLoader(bodyBytes(req.body), `${name}.o`, { scheme: q.scheme, name, flavour: q.flavour, standalone: q.standalone, mapExcl: false, host });
        return {
            name, scheme: q.scheme,
            insns: Buffer.from(built.loader.insns).toString('base64'),
            data: Buffer.from(built.loader.data).toString('base64'),
            header: built.header,
            loader: JSON.parse(JSON.stringify(built.manifest, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))),
        };
    });
};
//# sourceMappingURL=objects.js.map