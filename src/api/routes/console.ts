/**
 * The web console: GET / and its few static files, read once from src/api/console in the package
 * (tsc does not copy them to dist/, so the source tree is where they are in a clone, an npm
 * install and the image). Answers carry an ETag and a Content-Security-Policy that allows only
 * this origin's scripts, styles and API: the page needs nothing else. Hidden from the OpenAPI
 * document (it is not API).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../plugins/errors.js';

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'verify.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The folder holding the console's files: src/api/console under the package root (found from this module, in src/ or dist/src/). */
export function consoleDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'src/api/console');
    if (existsSync(join(dir, 'package.json')) && existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`bpfsign console: no src/api/console/index.html in any folder above ${from}`);
  }
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The console's files, read once: name → bytes, media type and ETag. */
export function loadConsole(dir = consoleDir()): Map<string, Asset> {
  return new Map(
    Object.entries(TYPES).map(([name, type]) => {
      const body = readFileSync(join(dir, name));
      return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
    }),
  );
}

export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const assets = loadConsole();
  const send = (req: FastifyRequest, reply: FastifyReply, a: Asset) => {
    reply
      .header('etag', a.etag)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    return reply.type(a.type).send(a.body);
  };
  app.get('/', { schema: { hide: true } }, async (req, reply) => send(req, reply, assets.get('index.html')!));
  app.get('/console/:file', { schema: { hide: true } }, async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const a = file === 'index.html' ? undefined : assets.get(file);
    if (!a)
      throw new ApiError(404, 'NOT_FOUND', `no console file ${file}`, {
        got: file,
        want: [...assets.keys()].filter((k) => k !== 'index.html'),
      });
    return send(req, reply, a);
  });
};
