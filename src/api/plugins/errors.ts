/**
 * One error handler: every error becomes an RFC 9457 problem+json body with a stable `code`
 * and the typed error's details (section, offset, pc, field, got/want). Codes map to HTTP
 * statuses here and nowhere else; 5xx messages are not shown to clients, and each error is
 * logged once. Fastify's own errors (and its plugins') get our codes too, never `FST_*`: the
 * ones it raises in a route, the ones it raises before routing (frameworkErrors), and the ones
 * node's HTTP parser raises before there is a request (clientErrorHandler). Every answer carries
 * an `x-request-id`: the client's when it is well formed, else a random UUID (unique across
 * processes and cluster workers, unlike a counter).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { toPlainJson } from '../../shared/json.js';
import {
  errorCodes,
  type ConnectionError,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { LoaderError } from '../../loader/errors.js';
import { StoreError } from '../../store/index.js';
import { TlogError } from '../../signing/tlog/index.js';
import { LoaderServiceError, type LoaderServiceErrorCode } from '../../service/loader-service.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const LOADER_STATUS: Record<string, number> = {
  ELF_MALFORMED: 422,
  ELF_UNSUPPORTED: 422,
  BTF_MALFORMED: 422,
  BTF_EXT_MALFORMED: 422,
  BTF_NOT_FOUND: 422,
  INSN_INVALID: 422,
  ASM_SYNTAX: 422,
  OBJECT_MALFORMED: 422,
  OBJECT_UNSUPPORTED: 422,
};

const SERVICE_STATUS: Record<LoaderServiceErrorCode, number> = { KEY_NOT_FOUND: 400, LOADER_NOT_FOUND: 404, NOT_SIGNED: 404 };

const jsonSafe = toPlainJson;

/** Fastify's and @fastify/multipart's error codes as ours: [status, code]. */
const FRAMEWORK: Record<string, [number, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'INVALID_JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'EMPTY_BODY'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'CONTENT_LENGTH_MISMATCH'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_BAD_URL: [400, 'BAD_URL'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'URI_TOO_LONG'],
  FST_ERR_VALIDATION: [400, 'REQUEST_INVALID'],
  FST_ERR_NOT_FOUND: [404, 'NOT_FOUND'],
  FST_REQ_FILE_TOO_LARGE: [413, 'BODY_TOO_LARGE'],
  FST_PARTS_LIMIT: [413, 'TOO_MANY_PARTS'],
  FST_FILES_LIMIT: [413, 'TOO_MANY_PARTS'],
  FST_FIELDS_LIMIT: [413, 'TOO_MANY_PARTS'],
  FST_PROTO_VIOLATION: [400, 'MULTIPART_INVALID'],
  FST_MP_PREMATURE_CLOSE: [400, 'MULTIPART_INVALID'],
  FST_INVALID_JSON_FIELD_ERROR: [400, 'MULTIPART_INVALID'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
};

/** Our code for any other framework error, by its status. */
const BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  411: 'LENGTH_REQUIRED',
  413: 'BODY_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'UNAVAILABLE',
};

/** What a client may send as `x-request-id` and have echoed (and logged) as the request's id. */
export const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The request's id (fastify's genReqId): the client's `x-request-id` when well formed, else a random UUID. */
export function requestId(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
}

/** Longest request target (path and query) served; longer ones get 414 URI_TOO_LONG (RFC 9110 asks for at least 8000). */
export const MAX_URL_CHARS = 8192;

/** Media types a body may have, in the order offered when one is refused. */
const MEDIA_TYPES = ['application/json', 'application/octet-stream', 'multipart/form-data', 'text/plain'];

/** The media types the request's route reads: its schema's `consumes`, else those its scope has a parser for. */
function accepted(req: FastifyRequest): string[] {
  const consumes = (req.routeOptions.schema as { consumes?: string[] } | undefined)?.consumes;
  if (consumes?.length) return [...consumes];
  return MEDIA_TYPES.filter((t) => req.server.hasContentTypeParser(t));
}

const title = (status: number): string => STATUS_CODES[status] ?? 'Error';

/** An error fastify or a plugin raised, as our problem; undefined when it is not one of theirs. */
function frameworkProblem(req: FastifyRequest, reply: FastifyReply, fe: FastifyError): FastifyReply | undefined {
  const known = fe.code ? FRAMEWORK[fe.code] : undefined;
  const status = known?.[0] ?? fe.statusCode;
  if (typeof status !== 'number') return undefined;
  const code = known?.[1] ?? (fe.code?.startsWith('FST_') || !fe.code ? BY_STATUS[status] : fe.code);
  if (status >= 500 || code === undefined) return undefined;
  req.log.info({ code, frameworkCode: fe.code }, fe.message);
  if (status === 415) {
    const types = accepted(req);
    const sent = req.headers['content-type'] ?? '(none)';
    if (types.length) reply.header('accept-post', types.join(', '));
    return problem(
      reply,
      415,
      code,
      title(415),
      `content-type ${sent} is not accepted here; send one of: ${types.join(', ') || '(no body)'}`,
      { accepted: types },
    );
  }
  const detail = code === 'BODY_TOO_LARGE' ? `${fe.message} (at most ${req.server.initialConfig.bodyLimit ?? 1 << 20} bytes)` : fe.message;
  return problem(reply, status, code, title(status), detail);
}

export function problem(
  reply: FastifyReply,
  status: number,
  code: string,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `urn:bpfsign:problem:${code}`, title, status, code, detail, ...extra });
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
      return problem(reply, LOADER_STATUS[err.code] ?? 422, err.code, 'Unprocessable BPF object', err.message, {
        details: jsonSafe(err.details),
      });
    }
    if (err instanceof ApiError) {
      req.log.info({ code: err.code }, err.message);
      return problem(
        reply,
        err.status,
        err.code,
        err.status === 404 ? 'Not Found' : err.status === 401 ? 'Unauthorized' : err.status === 403 ? 'Forbidden' : 'Bad Request',
        err.message,
        { details: jsonSafe(err.details) },
      );
    }
    if (err instanceof LoaderServiceError) {
      const status = SERVICE_STATUS[err.code];
      req.log.info({ code: err.code }, err.message);
      return problem(reply, status, err.code, title(status), err.message, { details: jsonSafe(err.details) });
    }
    if (err instanceof TlogError) {
      return problem(reply, 400, err.code, 'Bad Request', err.message, { details: jsonSafe(err.details) });
    }
    const fe = err as FastifyError;
    const framework = frameworkProblem(req, reply, fe);
    if (framework) return framework;
    // After fastify's own errors: some of them (body too large) are RangeErrors too.
    if (err instanceof RangeError) return problem(reply, 400, 'OUT_OF_RANGE', 'Bad Request', err.message);
    if (err instanceof StoreError && err.code === 'STORE_CONFLICT') return problem(reply, 409, err.code, 'Conflict', err.message);
    req.log.error({ err }, 'unhandled error');
    return problem(reply, 500, 'INTERNAL', 'Internal Server Error', 'the server failed to handle this request; see its log');
  });
  // 405 rather than fastify's 404 when the path is served with other methods: every route's
  // pattern is kept as it is added (this hook is added before any route).
  const routes: { method: string; path: RegExp }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, path: routePattern(r.url ?? r.path) });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const allow = [...new Set(routes.filter((r) => r.path.test(path)).map((r) => r.method))].sort();
    if (allow.length > 0) {
      reply.header('allow', allow.join(', '));
      return problem(reply, 405, 'METHOD_NOT_ALLOWED', title(405), `${req.method} is not served at ${path}; allowed: ${allow.join(', ')}`, {
        allowed: allow,
      });
    }
    return problem(reply, 404, 'NOT_FOUND', 'Not Found', `no route ${req.method} ${path}`);
  });
  // Every answer says which request it was (success or problem); the id is also in each log line.
  // Added here, before the rate limiter's hook, so a 429 carries it too.
  // Requests still arriving while the app closes (pipelined, or on a busy keep-alive connection)
  // get a 503 problem; fastify's own answer there is plain JSON, so buildApp turns it off.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (closing) {
      reply.header('connection', 'close');
      return problem(reply, 503, 'UNAVAILABLE', title(503), 'the server is shutting down; send the request again');
    }
    if (req.url.length > MAX_URL_CHARS)
      throw Object.assign(new Error(`the request target is ${req.url.length} characters; at most ${MAX_URL_CHARS}`), {
        statusCode: 414,
        code: 'URI_TOO_LONG',
      });
    // A route that documents what it consumes reads only that (fastify would otherwise parse any
    // type the app has a parser for, such as text/plain, and hand the route a string).
    const consumes = (req.routeOptions.schema as { consumes?: string[] } | undefined)?.consumes;
    const type = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
    if (consumes?.length && type !== undefined && !consumes.includes(type)) throw new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(type);
  });
}

/** A fastify route path (`/a/:p/b`, `/t/*`) as a regular expression matching the paths it serves. */
function routePattern(url: string): RegExp {
  const parts = url.split('/').map((seg) => {
    if (seg === '*') return '.*';
    if (seg.startsWith(':')) return '[^/]+';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*$/, '.*');
  });
  return new RegExp(`^${parts.join('/')}$`);
}

/** fastify's `frameworkErrors`: errors it meets before routing (bad URL encoding, a path parameter too long) as problems. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err, req, reply) => {
  reply.header('x-request-id', req.id);
  const fe = err as FastifyError;
  const known = FRAMEWORK[fe.code];
  if (!known || known[0] >= 500) {
    req.log.error({ err }, 'framework error');
    void problem(reply, 500, 'INTERNAL', title(500), 'the server failed to handle this request; see its log');
    return;
  }
  req.log.info({ code: known[1], frameworkCode: fe.code }, fe.message);
  const detail = known[1] === 'URI_TOO_LONG' ? 'a path segment is longer than this server accepts' : fe.message;
  void problem(reply, known[0], known[1], title(known[0]), detail);
};

/**
 * node's HTTP `clientError`: a request the parser refused before fastify saw it (headers over
 * node's limit, a request line too long, malformed HTTP, a timeout), answered as a problem with
 * a new request id, then the connection is closed (the parser cannot continue on it).
 */
export function clientErrorHandler(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400,
    code = 'BAD_REQUEST',
    detail = 'the request is not valid HTTP/1.1';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // The request line alone over the limit (no line end yet in what came): the URL is what is too long.
    const raw: unknown = err.rawPacket; // a Buffer at run time, whatever the type says
    const firstLine = Buffer.isBuffer(raw) ? raw.subarray(0, MAX_URL_CHARS + 64).toString('latin1') : '';
    if (firstLine.length > MAX_URL_CHARS && !firstLine.includes('\r\n'))
      [status, code, detail] = [414, 'URI_TOO_LONG', `the request target is longer than ${MAX_URL_CHARS} characters`];
    else [status, code, detail] = [431, 'HEADERS_TOO_LARGE', "the request's header section is larger than this server accepts"];
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    [status, code, detail] = [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time'];
  }
  const id = randomUUID();
  this.log.info({ reqId: id, code, parserCode: err.code }, 'refused before routing');
  const body = JSON.stringify({ type: `urn:bpfsign:problem:${code}`, title: title(status), status, code, detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title(status)}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
