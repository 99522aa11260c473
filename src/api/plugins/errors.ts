/**
 * One error handler: every error becomes an RFC 9457 problem+json body with a stable `code`
 * and the typed error's details (section, offset, pc, field, got/want). Codes map to HTTP
 * statuses here and nowhere else; 5xx messages are not shown to clients, and each error is
 * logged once.
 */
import { toPlainJson } from '../../shared/json.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { LoaderError } from '../../loader/errors.js';
import { StoreError } from '../../store/index.js';
import { TlogError } from '../../signing/tlog/index.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
  }
}

const LOADER_STATUS: Record<string, number> = {
  ELF_MALFORMED: 422, ELF_UNSUPPORTED: 422, BTF_MALFORMED: 422, BTF_EXT_MALFORMED: 422, BTF_NOT_FOUND: 422,
  INSN_INVALID: 422, ASM_SYNTAX: 422, OBJECT_MALFORMED: 422, OBJECT_UNSUPPORTED: 422,
};

const jsonSafe = toPlainJson;

export function problem(reply: FastifyReply, status: number, code: string, title: string, detail: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).type('application/problem+json').send({ type: `urn:bpfsign:problem:${code}`, title, status, code, detail, ...extra });
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      req.log.info({ issues: err.validation }, 'request validation failed');
      return problem(reply, 400, 'REQUEST_INVALID', 'Bad Request', err.message, {
        errors: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
      });
    }
    if (err instanceof LoaderError) {
      req.log.info({ code: err.code, details: jsonSafe(err.details) }, err.message);
      return problem(reply, LOADER_STATUS[err.code] ?? 422, err.code, 'Unprocessable BPF object', err.message, { details: jsonSafe(err.details) });
    }
    if (err instanceof ApiError) {
      req.log.info({ code: err.code }, err.message);
      return problem(reply, err.status, err.code, err.status === 404 ? 'Not Found' : err.status === 401 ? 'Unauthorized' : err.status === 403 ? 'Forbidden' : 'Bad Request', err.message, { details: jsonSafe(err.details) });
    }
    if (err instanceof TlogError) {
      return problem(reply, 400, err.code, 'Bad Request', err.message, { details: jsonSafe(err.details) });
    }
    const fe = err as FastifyError;
    if (fe.statusCode === 429) return problem(reply, 429, 'RATE_LIMITED', 'Too Many Requests', fe.message);
    if (typeof fe.statusCode === 'number' && fe.statusCode < 500) {
      req.log.info({ code: fe.code }, fe.message);
      return problem(reply, fe.statusCode, fe.code ?? 'REQUEST_INVALID', fe.statusCode === 413 ? 'Content Too Large' : 'Bad Request', fe.message);
    }
    // After fastify's own errors: some of them (body too large) are RangeErrors too.
    if (err instanceof RangeError) return problem(reply, 400, 'OUT_OF_RANGE', 'Bad Request', err.message);
    if (err instanceof StoreError && err.code === 'STORE_CONFLICT') return problem(reply, 409, err.code, 'Conflict', err.message);
    req.log.error({ err }, 'unhandled error');
    return problem(reply, 500, 'INTERNAL', 'Internal Server Error', 'the server failed to handle this request; see its log');
  });
  app.setNotFoundHandler((req, reply) => problem(reply, 404, 'NOT_FOUND', 'Not Found', `no route ${req.method} ${req.url}`));
}
