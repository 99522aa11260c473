/** Shared zod schemas; each registered with an id becomes a $ref in the OpenAPI document. */
import { z } from 'zod';

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string().meta({ description: 'stable machine-readable error code (e.g. ELF_MALFORMED, REQUEST_INVALID)' }),
  detail: z.string(),
  details: z.record(z.string(), z.unknown()).optional().meta({ description: 'where and what: section, symbol, offset, pc, field, got, want' }),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  accepted: z.array(z.string()).optional().meta({ description: '415 UNSUPPORTED_MEDIA_TYPE: the media types this operation reads' }),
  allowed: z.array(z.string()).optional().meta({ description: '405 METHOD_NOT_ALLOWED: the methods this path serves (also in Allow)' }),
}).meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

export const problems = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 413: Problem, 415: Problem, 422: Problem, 500: Problem } as const;

export const Hex = z.string().regex(/^[0-9a-f]*$/);
export const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
