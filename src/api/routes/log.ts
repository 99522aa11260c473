/** Transparency log for auditors: checkpoints, entries with inclusion proofs, consistency proofs. Public. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { answer, Binary, problems } from '../schemas/common.js';
import { security } from '../openapi.js';
import { ApiError } from '../plugins/errors.js';
import { parseTileIndex } from '../../service/log.js';

/** Largest index or tree size either store holds (a signed 64-bit integer). */
const MAX_INDEX = (1n << 63n) - 1n;
const Index = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,18})$/, 'a decimal integer, 0 or more')
  .transform((s) => BigInt(s))
  .refine((n) => n <= MAX_INDEX, `at most ${MAX_INDEX} (2^63 - 1)`);

const InclusionProof = z
  .object({
    logIndex: z.string(),
    treeSize: z.string(),
    leafHash: z.string(),
    hashes: z.array(z.string()),
    checkpoint: z.string(),
  })
  .meta({ id: 'InclusionProof', description: 'RFC 6962 audit path to the root of the signed checkpoint' });

const LogEntry = z
  .object({
    index: z.string(),
    kind: z.string(),
    ref: z.string(),
    createdAt: z.string(),
    body: z.string().meta({ description: 'the logged bytes (canonical JSON), base64' }),
    inclusionProof: InclusionProof,
  })
  .meta({ id: 'LogEntry' });

export const logRoutes: FastifyPluginAsyncZod = async (app) => {
  // Public for auditors unless BPFSIGN_ANONYMOUS_READS=false; then the 'audit' scope.
  app.addHook('onRequest', app.requireScope('audit', { anonymous: true }));
  app.get(
    '/v1/log/checkpoint',
    {
      schema: {
        summary: 'Latest signed checkpoint (C2SP signed note)',
        operationId: 'getCheckpoint',
        tags: ['log'],
        security: security.read,
        response: {
          200: answer('text/plain', z.string(), 'The checkpoint: origin, tree size, root hash, then its signatures'),
          ...problems,
        },
      },
    },
    async (_req, reply) => reply.type('text/plain; charset=utf-8').send((await app.services.log.checkpoint()).note),
  );

  app.get(
    '/v1/log/entries/:index',
    {
      schema: {
        summary: 'A log entry with its inclusion proof',
        operationId: 'getLogEntry',
        tags: ['log'],
        security: security.read,
        params: z.object({ index: Index }),
        response: { 200: LogEntry, ...problems },
      },
    },
    async (req) => {
      // Past the log's end there is nothing to read (and index + 1 would not fit the stores' integers).
      const e = req.params.index < MAX_INDEX ? await app.services.store.logEntry(req.params.index) : null;
      if (!e) throw new ApiError(404, 'LOG_ENTRY_NOT_FOUND', `no log entry ${req.params.index}`, { index: req.params.index.toString() });
      return {
        index: e.index.toString(),
        kind: e.kind,
        ref: e.ref,
        createdAt: e.createdAt,
        body: Buffer.from(e.body).toString('base64'),
        inclusionProof: await app.services.log.inclusion(e.index),
      };
    },
  );

  app.get(
    '/v1/log/proof/:index',
    {
      schema: {
        summary: "The entry's inclusion proof as a C2SP tlog-proof file (c2sp.org/tlog-proof@v1), verifiable offline",
        operationId: 'getLogProof',
        tags: ['log'],
        security: security.read,
        params: z.object({ index: Index }),
        response: { 200: answer('text/plain', z.string(), 'The tlog-proof file'), ...problems },
      },
    },
    async (req, reply) => {
      const size = await app.services.store.logSize();
      if (req.params.index >= size)
        throw new ApiError(404, 'LOG_ENTRY_NOT_FOUND', `no log entry ${req.params.index} (log size ${size})`, {
          index: req.params.index.toString(),
          size: size.toString(),
        });
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `inline; filename="${req.params.index}.tlog-proof"`)
        .send(await app.services.log.proofFile(req.params.index));
    },
  );

  app.get(
    '/v1/log/tile/*',
    {
      schema: {
        summary: 'C2SP tlog-tiles: hash tile /v1/log/tile/{L}/{N}[.p/{W}] or entry bundle /v1/log/tile/entries/{N}[.p/{W}]',
        operationId: 'getLogTile',
        tags: ['log'],
        security: security.read,
        params: z.object({
          '*': z.string().meta({ description: "the tile's path: {L}/{N}[.p/{W}] or entries/{N}[.p/{W}], N in x000/…/000 groups" }),
        }),
        response: { 200: answer('application/octet-stream', Binary, "The tile's bytes"), ...problems },
      },
    },
    async (req, reply) => {
      const rest = req.params['*'];
      const entries = rest.startsWith('entries/');
      const m = entries ? null : /^(\d{1,2})\/(.*)$/.exec(rest);
      const idx = parseTileIndex(entries ? rest.slice('entries/'.length) : m ? m[2] : '');
      if (!idx || (!entries && !m)) throw new ApiError(400, 'TILE_PATH_INVALID', `not a tile path: ${rest}`, { got: rest });
      const bytes = entries
        ? await app.services.log.entryBundle(idx.index, idx.width)
        : await app.services.log.tile(Number(m![1]), idx.index, idx.width);
      if (!bytes) throw new ApiError(404, 'TILE_NOT_FOUND', `no such tile (yet): ${rest}`, { got: rest });
      // Full tiles never change: cache them for a long time; partial ones only briefly.
      reply.header('cache-control', idx.width === undefined ? 'public, max-age=31536000, immutable' : 'public, max-age=5');
      return reply.type('application/octet-stream').send(Buffer.from(bytes));
    },
  );

  app.get(
    '/v1/log/consistency',
    {
      schema: {
        summary: 'Consistency proof between two tree sizes',
        operationId: 'getConsistencyProof',
        tags: ['log'],
        security: security.read,
        querystring: z.object({ from: Index, to: Index }),
        response: {
          200: z.object({ from: z.string(), to: z.string(), hashes: z.array(z.string()) }).meta({ id: 'ConsistencyProof' }),
          ...problems,
        },
      },
    },
    async (req) => app.services.log.consistency(req.query.from, req.query.to),
  );
};
