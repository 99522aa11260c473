/**
 * The OpenAPI document's frame and the two steps that turn the routes' zod schemas into it
 * (@fastify/swagger's `transform` per route and `transformObject` once). npm run openapi writes
 * it to openapi.yaml; test/api/openapi*.test.ts lint it, validate it and generate types from it.
 *
 * Beyond fastify-type-provider-zod's own transforms, a route may give
 *   - `body: { content: { MEDIA_TYPE: { schema: zod } } }`: one documented body per media type
 *     (fastify validates each by the request's media type; see `documentedBody`);
 *   - a wildcard URL (`/x/*`) with `params: z.object({ '*': … })`: documented as `/x/{path}`.
 * Component schemas no operation reaches (the zod registry holds every schema given an id, once
 * for input and once for output) are left out.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import type { FastifyRouteSchemaDef, FastifyValidationResult } from 'fastify/types/schema.js';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';

type Transform = typeof jsonSchemaTransform;
type TransformInput = Parameters<Transform>[0];
type Json = Record<string, unknown>;

type Requirements = Record<string, string[]>[];

/** Who may call an operation (OpenAPI security requirements; `bearer` roles name the token scope). */
export const security: { none: Requirements; token: (scope: 'sign' | 'verify' | 'audit') => Requirements; read: Requirements } = {
  /** No credentials at all (liveness, readiness). */
  none: [],
  /** A bearer token with this scope (or, in development mode, a loopback client). */
  token: (scope: 'sign' | 'verify' | 'audit') => [{ bearer: [scope] }],
  /** Anonymous, unless BPFSIGN_ANONYMOUS_READS=false: then a token with the audit scope. */
  read: [{}, { bearer: ['audit'] }],
};

/** The document's frame; the paths come from the routes. */
export function openapiFrame(version: string): NonNullable<Extract<SwaggerOptions, { openapi?: unknown }>['openapi']> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'bpfsign',
      version,
      description: 'Signing and verification of BPF loader programs',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'this service' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token with the scopes the operation names (sign, verify, audit): BPFSIGN_TOKENS or `bpfsign tokens create`.',
        },
      },
    },
    tags: [
      { name: 'loaders', description: 'Make signed loaders from BPF objects and read them back' },
      { name: 'verify', description: 'Verify a bundle or a light skeleton header against a trust policy' },
      { name: 'audit', description: 'Signed manifests and the trust bundle, for auditors' },
      { name: 'log', description: 'The transparency log: checkpoints, entries, proofs and C2SP tiles' },
      { name: 'objects', description: 'What a BPF object contains' },
      { name: 'health', description: 'Liveness and readiness' },
    ],
  };
}

/**
 * The route validator for an operation whose body is documented by its schema but read by the
 * handler (binary or multipart uploads, bodies a worker parses): the body passes as it came;
 * the query string, parameters and headers are checked with zod as on every route.
 */
export function documentedBody<S>(route: FastifyRouteSchemaDef<S>): FastifyValidationResult {
  return route.httpPart === 'body'
    ? (data: unknown) => ({ value: data })
    : validatorCompiler(route as unknown as FastifyRouteSchemaDef<z.ZodType>);
}

function isContentMap(body: unknown): body is { content: Record<string, { schema: unknown }> } {
  return typeof body === 'object' && body !== null && 'content' in body && typeof body.content === 'object';
}

/** A route's schema to its OpenAPI form (see the module comment). */
export const transform: Transform = (input) => {
  const { schema, url } = input as TransformInput & { schema?: Json & { body?: unknown }; url: string };
  const body = schema?.body;
  const perType = isContentMap(body);
  const out = jsonSchemaTransform(perType ? { ...input, schema: { ...schema, body: undefined } } : input) as { schema: Json; url: string };
  if (perType) {
    const content = Object.fromEntries(
      Object.entries(body.content).map(([type, media]) => [
        type,
        {
          ...media,
          schema: (jsonSchemaTransform({ ...input, schema: { body: media.schema } }) as unknown as { schema: Json }).schema.body,
        },
      ]),
    );
    out.schema = { ...out.schema, body: { content } };
  }
  const params = out.schema.params as { properties?: Json; required?: string[] } | undefined;
  if (url.endsWith('*') && params?.properties && '*' in params.properties) {
    const { '*': wildcard, ...rest } = params.properties;
    out.schema = {
      ...out.schema,
      params: { ...params, properties: { ...rest, path: wildcard }, required: params.required?.map((k) => (k === '*' ? 'path' : k)) },
    };
    out.url = `${url.slice(0, -1)}{path}`;
  }
  return out;
};

/** The whole document: components as fastify-type-provider-zod makes them, less those nothing refers to. */
export const transformObject: typeof jsonSchemaTransformObject = (input) => {
  const doc = jsonSchemaTransformObject(input) as Json & { components?: Json & { schemas?: Json } };
  const schemas = doc.components?.schemas;
  if (!schemas) return doc as ReturnType<typeof jsonSchemaTransformObject>;
  const PREFIX = '#/components/schemas/';
  const reached = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(PREFIX)) {
        const name = decodeURIComponent(v.slice(PREFIX.length).split('/')[0]);
        if (!reached.has(name)) {
          reached.add(name);
          visit(schemas[name]);
        }
      } else {
        visit(v);
      }
    }
  };
  visit({ ...doc, components: { ...doc.components, schemas: {} } });
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name)));
  return { ...doc, components: { ...doc.components, schemas: kept } } as ReturnType<typeof jsonSchemaTransformObject>;
};
