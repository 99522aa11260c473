/**
 * The developer's and the CI gate's endpoints:
 *   POST /v1/loaders                 object → 201 bundle (signed unless scheme=unsigned), logged, stored; Location
 *   GET  /v1/loaders/{id}[/lskel.h|/insns|/data|/signature|/manifest]
 *   POST /v1/verifications           bundle (+ object, + policy inline or by name) → verdict with every check and the replay
 *   GET  /v1/manifests/{sha256}      signed manifests by object or loader digest (for auditors)
 *   GET  /v1/keys                    trust bundle: CA, signing certificates, log key
 * Each maps HTTP to one service call and back: the loader service (service/loader-service.ts)
 * makes, signs, logs and stores loaders and reads them back; the verifier verifies.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorCodes, type FastifyReply, type FastifyRequest } from 'fastify';
import { BundleSchema } from '../../signing/bundle.js';
import { readsAsHostField, type LoaderService } from '../../service/loader-service.js';
import { VerificationBody, type VerifyAnswer, type VerifyFailure } from '../../service/verify-request.js';
import { VerifyPoolError } from '../../service/verify-pool.js';
import { thrownError } from '../../service/verify-failure.js';
import { answer, Binary, JsonText, problemAnswer, problems, Sha256Hex } from '../schemas/common.js';
import { documentedBody, security } from '../openapi.js';
import { ApiError, problem } from '../plugins/errors.js';
import { segmentedBody } from '../plugins/segmented-body.js';
import { readUpload, uploadOptions } from '../upload.js';

/** Text that is refused, not cut, past `max` characters, then checked against `pattern`. */
const text = (max: number, pattern: RegExp, want: string) => z.string().max(max, `at most ${max} characters`).regex(pattern, want);
/** "a.b[.c]" with a and b at most 255 (KERNEL_VERSION packs them in a byte each; c is clamped to 255). */
const KernelVersion = text(16, /^\d{1,3}\.\d{1,3}(\.\d{1,6})?$/, 'want a.b or a.b.c').refine(
  (v) => readsAsHostField('kernelVersion', v),
  'major and minor are at most 255',
);

const LoaderOptions = z
  .object({
    name: text(128, /^[A-Za-z_][A-Za-z0-9_]*$/, 'a C identifier')
      .default('obj')
      .meta({ description: 'skeleton/object name (a C identifier, at most 128 characters)' }),
    scheme: z.enum(['linux-6.18', 'linux-load-time', 'unsigned']).default('linux-6.18'),
    key: text(64, /^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-"')
      .optional()
      .meta({ description: 'signing key id (GET /v1/keys); default: the active key' }),
    profile: z.enum(['linux-6.18', 'linux-6.18-excl']).default('linux-6.18').meta({
      description:
        "target kernel profile: linux-6.18-excl adds the map-exclusivity check (struct bpf_map with excl, as on this project's 6.18 build)",
    }),
    flavour: z.enum(['v1.7', 'libbpf-1.7', 'bpftool-7.1']).default('v1.7'),
    kernelVersion: KernelVersion.optional().meta({ description: 'LINUX_KERNEL_VERSION as a.b[.c], a and b at most 255' }),
    cpus: z.coerce.number().int().positive().max(65536).optional(),
    pageSize: z.coerce
      .number()
      .int()
      .positive()
      .max(1 << 20)
      .refine((n) => (n & (n - 1)) === 0, 'a power of two')
      .optional()
      .meta({ description: 'host page size in bytes: a power of two, at most 1 MiB' }),
    ksym: text(
      1024,
      /^[A-Za-z_][A-Za-z0-9_.]*=(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})(,[A-Za-z_][A-Za-z0-9_.]*=(0x[0-9a-fA-F]{1,16}|[0-9]{1,20}))*$/,
      'NAME=ADDRESS, comma-separated',
    )
      .refine((v) => readsAsHostField('ksym', v), 'each address at most 64 bits')
      .optional()
      .meta({ description: "kernel symbol addresses for the object's __ksym externs, NAME=ADDRESS[,NAME=ADDRESS…] (as gen --ksym)" }),
    kconfig: text(1024, /^CONFIG_[A-Za-z0-9_]+=[^,\n]*(,CONFIG_[A-Za-z0-9_]+=[^,\n]*)*$/, 'CONFIG_NAME=VALUE, comma-separated')
      .optional()
      .meta({ description: "values for the object's __kconfig externs, CONFIG_NAME=VALUE[,…] (as gen --kconfig; a value holds no comma)" }),
  })
  .strict();
/** The query string may give every option; a multipart form's fields override it. */
const LoaderQuery = LoaderOptions.partial().strict();

export const CreatedSchema = z
  .object({ id: z.string(), bundle: BundleSchema, links: z.record(z.string(), z.string()) })
  .meta({ id: 'LoaderCreated' });

const Check = z.object({
  check: z.string(),
  level: z.enum(['enforce', 'log', 'skip']),
  status: z.enum(['pass', 'fail', 'skipped']),
  code: z.string().optional(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export const VerdictSchema = z
  .object({
    verdict: z.enum(['OK', 'UNSIGNED', 'BADSIG', 'UNKNOWNKEY', 'UNTRUSTED', 'PARTIALSIG', 'MISMATCH', 'POLICY', 'FAULT']),
    ok: z.boolean(),
    policy: z.string(),
    checks: z.array(Check),
    signer: z
      .object({ subject: z.string(), sans: z.array(z.string()), subjectKeyIdentifier: z.string(), issuer: z.string(), serial: z.string() })
      .nullable(),
    scheme: z.string().nullable(),
    replay: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: "the kernel model's report: every syscall, maps and programs" }),
  })
  .meta({ id: 'Verdict', description: 'structured verification result: every check with its level and outcome' });

type App = Parameters<FastifyPluginAsyncZod>[0];

/** An answer made as text by a service, sent as it is (Node encodes it into the socket's write). */
function sendText(reply: FastifyReply, type: string, text: string): FastifyReply {
  return reply.type(type).send(text);
}

/** An answer made as bytes by a service (its schema documents it; test/api checks answers against it). */
function sendBytes(reply: FastifyReply, type: string, bytes: Uint8Array): FastifyReply {
  return reply.type(type).send(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function postLoader(app: App, loaders: LoaderService): void {
  app.post(
    '/v1/loaders',
    {
      schema: {
        summary: 'Make the loader for a BPF object: signed (kernel PKCS#7 + signed manifest), logged, stored',
        operationId: 'createLoader',
        tags: ['loaders'],
        description:
          'Send the object as `application/octet-stream` with options in the query string, or as `multipart/form-data` with a file part `object` and option fields (name, scheme, key, profile, flavour, kernelVersion, cpus, pageSize).',
        querystring: LoaderQuery,
        consumes: ['application/octet-stream', 'multipart/form-data'],
        security: security.token('sign'),
        response: { 201: CreatedSchema, ...problems },
        body: {
          content: {
            'application/octet-stream': { schema: Binary },
            'multipart/form-data': { schema: LoaderQuery.extend({ object: Binary.meta({ description: 'the BPF object (ELF)' }) }) },
          },
        },
      },
      validatorCompiler: documentedBody,
      onRequest: app.requireScope('sign'),
    },
    async (req, reply) => {
      const { object, fields } = await readUpload(req, app.initialConfig.bodyLimit);
      if (!object || object.length === 0)
        throw new ApiError(
          400,
          'REQUEST_INVALID',
          "send the BPF object as the request body (application/octet-stream) or as the multipart part 'object'",
        );
      // Answered once its log entry and row are committed.
      const made = await loaders.sign(object, uploadOptions(LoaderOptions, req.query, fields));
      req.log.info({ loader: made.id, logIndex: made.logIndex, key: made.keyId }, 'loader made');
      return sendBytes(reply.code(201).header('location', made.location), 'application/json; charset=utf-8', made.json);
    },
  );
}

const Id = z.object({ id: z.string().uuid() });
const SkeletonQuery = z
  .object({
    lang: z.enum(['c', 'go', 'rust']).default('c').meta({ description: "the light skeleton's language (bpfsign gen --lang)" }),
  })
  .strict();
const SKELETON_TYPES = { c: 'text/x-c', go: 'text/x-go', rust: 'text/x-rust' } as const;

function getLoader(app: App, loaders: LoaderService): void {
  const read = app.requireScope('audit', { anonymous: true });
  app.get(
    '/v1/loaders/:id',
    {
      schema: {
        summary: "A loader's bundle",
        operationId: 'getLoader',
        tags: ['loaders'],
        security: security.read,
        params: Id,
        response: { 200: BundleSchema, ...problems },
      },
      onRequest: read,
    },
    async (req) => loaders.bundle(req.params.id),
  );
  app.get(
    '/v1/loaders/:id/lskel.h',
    {
      schema: {
        summary: 'Its light skeleton header',
        operationId: 'getLoaderHeader',
        tags: ['loaders'],
        security: security.read,
        params: Id,
        response: { 200: answer('text/x-c', z.string(), 'The C header (NAME.lskel.h)'), ...problems },
      },
      onRequest: read,
    },
    async (req, reply) => reply.type('text/x-c; charset=utf-8').send(await loaders.header(req.params.id)),
  );
  app.get(
    '/v1/loaders/:id/skeleton',
    {
      schema: {
        summary: 'Its light skeleton in a language: C (NAME.lskel.h), Go (NAME.lskel.go) or Rust (NAME.rs)',
        operationId: 'getLoaderSkeleton',
        tags: ['loaders'],
        security: security.read,
        params: Id,
        querystring: SkeletonQuery,
        response: {
          200: {
            description: 'The skeleton source; Content-Disposition names its file',
            content: Object.fromEntries(Object.values(SKELETON_TYPES).map((t) => [t, { schema: z.string() }])),
          },
          ...problems,
        },
      },
      onRequest: read,
    },
    async (req, reply) => {
      const f = await loaders.skeleton(req.params.id, req.query.lang);
      return reply
        .type(`${SKELETON_TYPES[req.query.lang]}; charset=utf-8`)
        .header('content-disposition', `attachment; filename="${f.fileName}"`)
        .send(f.text);
    },
  );
  for (const [part, what] of [
    ['insns', 'loader instructions'],
    ['data', 'loader metadata blob'],
    ['signature', 'kernel PKCS#7 signature (DER)'],
  ] as const) {
    app.get(
      `/v1/loaders/:id/${part}`,
      {
        schema: {
          summary: `Its ${what}`,
          operationId: `getLoader${part[0].toUpperCase()}${part.slice(1)}`,
          tags: ['loaders'],
          security: security.read,
          params: Id,
          response: { 200: answer('application/octet-stream', Binary, `The ${what}`), ...problems },
        },
        onRequest: read,
      },
      async (req, reply) => reply.type('application/octet-stream').send(await loaders.part(req.params.id, part)),
    );
  }
  app.get(
    '/v1/loaders/:id/manifest',
    {
      schema: {
        summary: 'Its manifest (canonical JSON, RFC 8785)',
        operationId: 'getLoaderManifest',
        tags: ['loaders'],
        security: security.read,
        params: Id,
        response: { 200: answer('application/json', JsonText, 'The manifest'), ...problems },
      },
      onRequest: read,
    },
    async (req, reply) => reply.type('application/json').send(await loaders.manifest(req.params.id)),
  );
}

function getManifests(app: App, loaders: LoaderService): void {
  app.get(
    '/v1/manifests/:sha256',
    {
      schema: {
        summary: 'Signed manifests of loaders made from an object, or with these instructions (SHA-256 hex)',
        operationId: 'listManifests',
        tags: ['audit'],
        security: security.read,
        params: z.object({ sha256: Sha256Hex }),
        response: {
          200: z.object({
            manifests: z.array(z.object({ id: z.string(), createdAt: z.string(), logIndex: z.string().nullable(), envelope: z.unknown() })),
          }),
          ...problems,
        },
      },
      onRequest: app.requireScope('audit', { anonymous: true }),
    },
    async (req) => ({ manifests: await loaders.manifestsByDigest(req.params.sha256) }),
  );
}

/** A request the verifier answered without a verdict, as the problem the error handler gives such errors on every route. */
function verifyFailure(req: FastifyRequest, reply: FastifyReply, f: VerifyFailure): FastifyReply {
  switch (f.kind) {
    case 'not-json':
      throw f.empty ? new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY() : new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
    case 'body-invalid': {
      // As the zod validator and the error handler report a failed schema check.
      req.log.info({ issues: f.issues }, 'request validation failed');
      const errors = f.issues.map((i) => ({ path: `/${i.path.join('/')}`, message: i.message }));
      return problem(reply, 400, 'REQUEST_INVALID', 'Bad Request', errors.map((e) => `body${e.path} ${e.message}`).join(', '), { errors });
    }
    case 'format':
      throw new ApiError(400, f.code, f.message, { issues: f.issues });
    case 'policy-not-found':
      throw new ApiError(404, 'POLICY_NOT_FOUND', `no policy named ${f.name} (configured: default)`);
    case 'thrown':
      throw thrownError(f);
  }
}

/**
 * POST /v1/verifications takes its body as bytes (segmentedBody); a verification worker
 * (VerifyPool) parses, checks and verifies it and sends back the verdict's JSON text or why there
 * is none, which is answered here with the problem the error handler gives every route (the same
 * codes as when the parse and the schema check were fastify's own). Requests waiting for a worker
 * hold only their bytes, outside the JavaScript heap.
 */
async function postVerification(app: App): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers(); // JSON only: other media types get 415
    scope.addContentTypeParser('application/json', segmentedBody(app.initialConfig.bodyLimit ?? 1 << 20));
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/v1/verifications',
      {
        schema: {
          summary: 'Verify a bundle against a trust policy and replay its loader',
          operationId: 'verify',
          tags: ['verify'],
          body: VerificationBody,
          security: security.token('verify'),
          description:
            'Answered 503 VERIFY_BUDGET_EXCEEDED when the verification runs past its time budget (BPFSIGN_VERIFY_BUDGET_MS), 503 VERIFY_QUEUE_FULL with Retry-After when too many wait for a worker.',
          response: {
            200: VerdictSchema,
            ...problems,
            503: problemAnswer('Past the verification time budget, or too many waiting for a worker (Retry-After)'),
          },
        },
        // The body is checked by the verifier; the schema above is what the API documents.
        validatorCompiler: () => (data: unknown) => ({ value: data }),
        onRequest: app.requireScope('verify'),
      },
      async (req, reply) => {
        const segments: Buffer[] = Array.isArray(req.body) ? req.body : [];
        let answer: VerifyAnswer;
        try {
          answer = await app.services.verifier.verify(segments, await app.services.signing.defaultPolicy(), new Date());
        } catch (e) {
          if (!(e instanceof VerifyPoolError)) throw e;
          req.log.warn({ code: e.code, details: e.details }, e.message);
          if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
          return problem(reply, 503, e.code, 'Service Unavailable', e.message, { details: e.details });
        }
        if (!answer.ok) return verifyFailure(req, reply, answer.failure);
        app.services.metrics.verifySeconds.observe({ verdict: answer.verdict }, answer.seconds);
        return sendText(reply, 'application/json; charset=utf-8', answer.json);
      },
    );
  });
}

function getKeys(app: App): void {
  app.get(
    '/v1/keys',
    {
      schema: {
        summary: 'Trust bundle: the CA, every signing certificate (active marked), the log verifier key',
        operationId: 'getTrustBundle',
        tags: ['audit'],
        security: security.read,
        response: {
          200: z
            .object({
              caCertificate: z.string(),
              keys: z.array(z.object({ id: z.string(), active: z.boolean(), certificate: z.string() })),
              logOrigin: z.string(),
              logKey: z.string(),
            })
            .meta({ id: 'TrustBundle' }),
          ...problems,
        },
      },
      onRequest: app.requireScope('audit', { anonymous: true }),
    },
    async () => app.services.signing.trust(),
  );
}

export const signingRoutes: FastifyPluginAsyncZod = async (app) => {
  const loaders = app.services.loaderService;
  postLoader(app, loaders);
  getLoader(app, loaders);
  getManifests(app, loaders);
  await postVerification(app);
  getKeys(app);
};
