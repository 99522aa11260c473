/** Shared zod schemas; each registered with an id becomes a $ref in the OpenAPI document. */
import { z } from 'zod';

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ description: 'stable machine-readable error code (e.g. ELF_MALFORMED, REQUEST_INVALID)' }),
    detail: z.string(),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'where and what: section, symbol, offset, pc, field, got, want' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    accepted: z.array(z.string()).optional().meta({ description: '415 UNSUPPORTED_MEDIA_TYPE: the media types this operation reads' }),
    allowed: z.array(z.string()).optional().meta({ description: '405 METHOD_NOT_ALLOWED: the methods this path serves (also in Allow)' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

/** An answer of one media type, as a route's `response` entry (fastify picks its serializer by the answer's media type). */
export function answer<T extends z.ZodType>(
  type: string,
  schema: T,
  description: string,
): { description: string; content: Record<string, { schema: T }> } {
  return { description, content: { [type]: { schema } } };
}

/** A problem answer (application/problem+json) for a route's `response`. */
export const problemAnswer = (description: string) => answer('application/problem+json', Problem, description);

/** The problems any operation may answer (the framework's own included: bad input, size and type limits, the rate limit). */
export const problems = {
  400: problemAnswer('Bad request: a parameter, option or body is invalid'),
  401: problemAnswer('No token, or an unknown one'),
  403: problemAnswer('The token lacks the scope this operation needs'),
  404: problemAnswer('No such resource'),
  413: problemAnswer('The body is over the size limit'),
  415: problemAnswer('A media type this operation does not read (`accepted` lists those it does)'),
  422: problemAnswer('The BPF object or bundle cannot be processed (the code says why, `details` where)'),
  429: problemAnswer('Over the per-client rate limit'),
  500: problemAnswer('An internal error'),
} as const;

/** Bytes, as a request body or an answer (application/octet-stream, or a file part of a form); documented as a binary string. */
export const Binary = z.custom<Uint8Array<ArrayBufferLike>>((v) => v instanceof Uint8Array).meta({ type: 'string', format: 'binary' });

/** A JSON object a handler sends as its text (canonical bytes it keeps); documented as the object it is. */
export const JsonText = z.custom<string>((v) => typeof v === 'string').meta({ type: 'object' });

export const Hex = z.string().regex(/^[0-9a-f]*$/);
export const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
