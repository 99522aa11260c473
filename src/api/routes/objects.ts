/** POST /v1/objects/inspect: an object in (application/octet-stream), what it contains out. */
import type { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseObject, summarizeObject } from '../../loader/object/index.js';
import { problems } from '../schemas/common.js';
import { ObjectQuery, ObjectSummary } from '../schemas/objects.js';
import { ApiError } from '../plugins/errors.js';

function bodyBytes(body: unknown): Uint8Array {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError(400, 'REQUEST_INVALID', 'send the BPF object as the request body (Content-Type: application/octet-stream)');
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

export const objectRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/objects/inspect', {
    schema: {
      summary: 'What a BPF object contains', tags: ['objects'], querystring: ObjectQuery, consumes: ['application/octet-stream'], security: [{ bearer: [] }],
      response: { 200: ObjectSummary, ...problems },
    },
    onRequest: app.requireScope('verify'),
  }, async (req) => summarizeObject(parseObject(bodyBytes(req.body), { name: req.query.name ?? 'obj' })) as z.infer<typeof ObjectSummary>);

};
