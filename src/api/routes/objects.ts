/** POST /v1/objects/inspect: an object in (application/octet-stream or a multipart form), what it contains out. */
import type { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseObject, summarizeObject } from '../../loader/object/index.js';
import { Binary, problems } from '../schemas/common.js';
import { ObjectQuery, ObjectSummary } from '../schemas/objects.js';
import { ApiError } from '../plugins/errors.js';
import { documentedBody, security } from '../openapi.js';
import { readUpload, uploadOptions } from '../upload.js';

export const objectRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/objects/inspect',
    {
      schema: {
        summary: 'What a BPF object contains',
        operationId: 'inspectObject',
        tags: ['objects'],
        security: security.token('verify'),
        description:
          'Send the object as `application/octet-stream` (its name in the query string), or as `multipart/form-data` with a file part `object` and an optional field `name`.',
        querystring: ObjectQuery,
        consumes: ['application/octet-stream', 'multipart/form-data'],
        body: {
          content: {
            'application/octet-stream': { schema: Binary },
            'multipart/form-data': { schema: ObjectQuery.extend({ object: Binary.meta({ description: 'the BPF object (ELF)' }) }) },
          },
        },
        response: { 200: ObjectSummary, ...problems },
      },
      validatorCompiler: documentedBody,
      onRequest: app.requireScope('verify'),
    },
    async (req) => {
      const { object, fields } = await readUpload(req, app.initialConfig.bodyLimit);
      if (!object || object.length === 0)
        throw new ApiError(
          400,
          'REQUEST_INVALID',
          "send the BPF object as the request body (Content-Type: application/octet-stream) or as the multipart part 'object'",
        );
      const { name } = uploadOptions(ObjectQuery, req.query, fields);
      return summarizeObject(
        parseObject(new Uint8Array(object.buffer, object.byteOffset, object.byteLength), { name: name ?? 'obj' }),
      ) as z.infer<typeof ObjectSummary>;
    },
  );
};
