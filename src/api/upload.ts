/**
 * Uploads of a BPF object: the request body as bytes (application/octet-stream, options in the
 * query string) or a multipart form (a file part `object` and option fields, as a browser or
 * `curl -F` sends it; the fields override the query string).
 */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError } from './plugins/errors.js';

/** Longest option value taken from a form field, in bytes: a longer one is refused, not cut. */
export const FIELD_BYTES = 1024;

/**
 * The object's bytes and the option fields of a form (empty for a body of bytes); null when no
 * object came. A form that is not well-formed multipart (no boundary, truncated, a bad part
 * header) is a 400 MULTIPART_INVALID; the framework's own errors (a part over its size limit,
 * too many parts) keep their codes (plugins/errors.ts).
 */
export async function readUpload(
  req: FastifyRequest,
  limit: number | undefined,
): Promise<{ object: Buffer | null; fields: Record<string, unknown> }> {
  const fields: Record<string, unknown> = {};
  if (!req.isMultipart()) return { object: Buffer.isBuffer(req.body) ? req.body : null, fields };
  let object: Buffer | null = null;
  try {
    for await (const part of req.parts({ limits: { fileSize: limit, files: 1, fields: 16, fieldSize: FIELD_BYTES } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'object')
          throw new ApiError(400, 'REQUEST_INVALID', `unexpected file part '${part.fieldname}': send the object in a part named 'object'`, {
            field: part.fieldname,
          });
        object = await part.toBuffer();
      } else if (part.valueTruncated) {
        throw new ApiError(400, 'REQUEST_INVALID', `option ${part.fieldname}: at most ${FIELD_BYTES} bytes in a form field`, {
          field: part.fieldname,
          limit: FIELD_BYTES,
        });
      } else {
        fields[part.fieldname] = part.value;
      }
    }
  } catch (e) {
    throw malformed(e);
  }
  return { object, fields };
}

function malformed(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof ApiError || (typeof code === 'string' && code.startsWith('FST_'))) return e;
  return new ApiError(400, 'MULTIPART_INVALID', `multipart/form-data body: ${e instanceof Error ? e.message : String(e)}`);
}

/** Options from the query string and a form's fields, checked with `schema`: the first issue is a 400 naming its field. */
export function uploadOptions<T extends z.ZodType>(schema: T, query: unknown, fields: Record<string, unknown>): z.output<T> {
  const parsed = schema.safeParse({ ...(query as object), ...fields });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ApiError(400, 'REQUEST_INVALID', `option ${issue.path.join('.') || '(form)'}: ${issue.message}`, {
    field: issue.path.join('.'),
    issues: parsed.error.issues,
  });
}
