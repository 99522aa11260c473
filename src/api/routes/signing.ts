/**
 * The developer's and the CI gate's endpoints:
 *   POST /v1/loaders                 object → 201 bundle (signed unless scheme=unsigned), logged, stored; Location
 *   GET  /v1/loaders/{id}[/lskel.h|/insns|/data|/signature|/manifest]
 *   POST /v1/verifications           bundle (+ object, + policy inline or by name) → verdict with every check and the replay
 *   GET  /v1/manifests/{sha256}      signed manifests by object or loader digest (for auditors)
 *   GET  /v1/keys                    trust bundle: CA, signing certificates, log key
 * A signing request is answered only after its entry is in the log (the store commits the append).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorCodes, type FastifyContentTypeParser, type FastifyReply, type FastifyRequest } from 'fastify';
import { BundleSchema, fromB64, type Bundle } from '../../signing/bundle.js';
import { canonicalBytes } from '../../signing/canonical.js';
import { headerFromRecord, skeletonRecord, type BuiltLoader, type SkeletonRecord } from '../../service/loader.js';
import type { Signer } from '../../signing/keys/index.js';
import type { BundleRecord } from '../../store/types.js';
import { signBuilt, unsignedBundle } from '../../service/sign.js';
import { VerificationBody, type VerifyAnswer, type VerifyFailure } from '../../service/verify-request.js';
import { VerifyPoolError } from '../../service/verify-pool.js';
import { LoaderError } from '../../loader/errors.js';
import { TlogError } from '../../signing/tlog/index.js';
import { Problem, problems, Sha256Hex } from '../schemas/common.js';
import { ApiError, problem } from '../plugins/errors.js';
import { jsonString } from '../../shared/json.js';

const LoaderOptions = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('obj').meta({ description: 'skeleton/object name (a C identifier)' }),
  scheme: z.enum(['linux-6.18', 'linux-load-time', 'unsigned']).default('linux-6.18'),
  key: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional().meta({ description: 'signing key id (GET /v1/keys); default: the active key' }),
  profile: z.enum(['linux-6.18', 'linux-6.18-excl']).default('linux-6.18')
    .meta({ description: 'target kernel profile: linux-6.18-excl adds the map-exclusivity check (struct bpf_map with excl, as on this project\'s 6.18 build)' }),
  flavour: z.enum(['v1.7', 'libbpf-1.7', 'bpftool-7.1']).default('v1.7'),
  kernelVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/).optional(),
  cpus: z.coerce.number().int().positive().max(65536).optional(),
  pageSize: z.coerce.number().int().positive().optional(),
}).strict();
type LoaderOptions = z.infer<typeof LoaderOptions>;
/** The query string may give every option; a multipart form's fields override it. */
const LoaderQuery = LoaderOptions.partial().strict();


/**
 * The 201 answer as UTF-8 JSON: the same bytes as JSON.stringify. Written member by member for a
 * bundle of the usual shape, so that its large base64 strings (the loader files and the manifest
 * payload, some 30 KB, recorded as JSON-safe when signing made them) go between quotes as they
 * are instead of being scanned for escapes on every answer (measured: 140 µs of a signing
 * request's ~850 µs). The checkpoint note's em dash (C2SP signed notes) keeps the proof a two-byte
 * string; only its few hundred bytes are encoded as such. Any other shape is serialised whole.
 */
export function createdJson(created: { id: string; bundle: Bundle; links: Record<string, string> }): Buffer {
  const b = created.bundle;
  if (!sameKeys(created, CREATED_KEYS) || !sameKeys(b, BUNDLE_KEYS) || !sameKeys(b.loader, LOADER_KEYS) || (b.manifest !== null && !sameKeys(b.manifest, ENVELOPE_KEYS))
    || typeof b.loader.insns !== 'string' || typeof b.loader.data !== 'string' || (b.manifest !== null && typeof b.manifest.payload !== 'string')
    || [created.id, b.mediaType, b.scheme, b.signature, b.certificates, b.tlog, b.manifest?.payloadType, b.manifest?.signatures, created.links].includes(undefined as never)) {
    return Buffer.from(JSON.stringify(created), 'utf8');
  }
  const manifest = b.manifest === null ? 'null'
    : `{"payload":${jsonString(b.manifest.payload)},"payloadType":${JSON.stringify(b.manifest.payloadType)},"signatures":${JSON.stringify(b.manifest.signatures)}}`;
  const head = `{"id":${JSON.stringify(created.id)},"bundle":{"mediaType":${JSON.stringify(b.mediaType)},"scheme":${JSON.stringify(b.scheme)},`
    + `"loader":{"insns":${jsonString(b.loader.insns)},"data":${jsonString(b.loader.data)}},"signature":${JSON.stringify(b.signature)},`
    + `"certificates":${JSON.stringify(b.certificates)},"manifest":${manifest},"tlog":`;
  return Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(JSON.stringify(b.tlog), 'utf8'), Buffer.from(`},"links":${JSON.stringify(created.links)}}`, 'utf8')]);
}

const CREATED_KEYS = ['id', 'bundle', 'links'], BUNDLE_KEYS = ['mediaType', 'scheme', 'loader', 'signature', 'certificates', 'manifest', 'tlog'];
const LOADER_KEYS = ['insns', 'data'], ENVELOPE_KEYS = ['payload', 'payloadType', 'signatures'];

/** True when `o`'s own enumerable keys are exactly `keys`, in that order, with no toJSON (what JSON.stringify would then write in order). */
function sameKeys(o: object, keys: readonly string[]): boolean {
  if (Object.getPrototypeOf(o) !== Object.prototype || 'toJSON' in o) return false;
  let i = 0;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) return false;
    if (k !== keys[i++]) return false;
  }
  return i === keys.length;
}

export const CreatedSchema = z.object({ id: z.string(), bundle: BundleSchema, links: z.record(z.string(), z.string()) }).meta({ id: 'LoaderCreated' });

const Check = z.object({
  check: z.string(), level: z.enum(['enforce', 'log', 'skip']), status: z.enum(['pass', 'fail', 'skipped']),
  code: z.string().optional(), message: z.string(), details: z.record(z.string(), z.unknown()).optional(),
});
export const VerdictSchema = z.object({
  verdict: z.enum(['OK', 'UNSIGNED', 'BADSIG', 'UNKNOWNKEY', 'UNTRUSTED', 'PARTIALSIG', 'MISMATCH', 'POLICY', 'FAULT']),
  ok: z.boolean(), policy: z.string(), checks: z.array(Check),
  signer: z.object({ subject: z.string(), sans: z.array(z.string()), subjectKeyIdentifier: z.string(), issuer: z.string(), serial: z.string() }).nullable(),
  scheme: z.string().nullable(),
  replay: z.unknown().nullable().meta({ description: 'the kernel model\'s report: every syscall, maps and programs' }),
}).meta({ id: 'Verdict', description: 'structured verification result: every check with its level and outcome' });

/**
 * A stored loader: the bundle as answered, minus what is stored elsewhere — its log proof (made
 * afresh from the log when read, against the newest checkpoint) and, for a logged loader, the
 * loader's instructions and blob (content-addressed blobs, stored once however often the same
 * loader is signed) and its signed manifest (the canonical envelope, a blob named by the log
 * entry's manifestSha256). The header is made again from `skeleton` when asked for. Rows written before this
 * layout (StoredV1) hold everything themselves.
 */
interface Stored { v: 2; bundle: Bundle; skeleton: SkeletonRecord; refs?: { insns: string; data: string; manifest: 'log' } }
interface StoredV1 { bundle: Bundle; header: string; manifest: string | null }

function manifestOf(bundle: Bundle): string | null {
  if (!bundle.manifest) return null;
  const statement = JSON.parse(Buffer.from(bundle.manifest.payload, 'base64').toString('utf8')) as { predicate: unknown };
  return new TextDecoder().decode(canonicalBytes(statement.predicate as never));
}


/**
 * What a signing request commits and answers, made from its built loader: the bundle (without
 * its log proof), the envelope's canonical bytes for the log (null when unsigned) and the row to
 * store. A function of its own so that a request waiting for its commit holds only these, not
 * its built loader (parsed object, plan, manifest: its own per request when caches are off).
 */
async function prepareLoader(built: BuiltLoader, id: string, scheme: LoaderOptions['scheme'], key: { id: string; signer: Signer; certificates: string[] } | null): Promise<{ bundle: Bundle; envelopeBytes: Uint8Array | null; row: Omit<BundleRecord, 'logIndex'> }> {
  const m = built.manifest as { object: { sha256: string }; digests: { insns: { sha256: string }; data: { sha256: string } } };
  const row = (stored: Stored, signer: string | null) => ({
    id, createdAt: new Date().toISOString(), objectSha256: m.object.sha256, insnsSha256: m.digests.insns.sha256, scheme, signer,
    bundle: JSON.stringify(stored),
  });
  if (key === null) {
    const bundle = unsignedBundle(built);
    return { bundle, envelopeBytes: null, row: row({ v: 2, bundle, skeleton: skeletonRecord(built) }, null) };
  }
  const signed = await signBuilt(built, key.signer, key.certificates);
  // A logged loader: its bytes as blobs, its manifest named by the log entry (see Stored).
  const refs = { insns: m.digests.insns.sha256, data: m.digests.data.sha256, manifest: 'log' as const };
  return {
    bundle: signed.bundle, envelopeBytes: signed.envelopeBytes,
    row: {
      ...row({ v: 2, bundle: { ...signed.bundle, loader: { insns: '', data: '' }, manifest: null }, skeleton: skeletonRecord(built), refs }, key.id),
      blobs: [{ sha256: refs.insns, bytes: built.loader.insns }, { sha256: refs.data, bytes: built.loader.data }],
    },
  };
}

export const signingRoutes: FastifyPluginAsyncZod = async (app) => {
  const load = async (id: string): Promise<{ bundle: Bundle; header: () => string; manifest: () => string | null }> => {
    const b = await app.services.store.getBundle(id);
    if (!b) throw new ApiError(404, 'LOADER_NOT_FOUND', `no loader ${id}`, { id });
    const s = JSON.parse(b.bundle) as Stored | StoredV1;
    if (!('v' in s)) return { bundle: s.bundle, header: () => s.header, manifest: () => s.manifest };
    const bundle: Bundle = { ...s.bundle, tlog: b.logIndex === null ? null : await app.services.log.inclusion(b.logIndex) };
    if (s.refs) {
      const [insns, data, entry] = await Promise.all([app.services.store.getBlob(s.refs.insns), app.services.store.getBlob(s.refs.data), b.logIndex === null ? null : app.services.store.logEntry(b.logIndex)]);
      if (!insns || !data || !entry) throw new ApiError(500, 'STORE_CORRUPT', `loader ${id}: its stored parts are missing`, { id, insns: !!insns, data: !!data, logEntry: !!entry });
      bundle.loader = { insns: Buffer.from(insns).toString('base64'), data: Buffer.from(data).toString('base64') };
      bundle.manifest = JSON.parse(Buffer.from(await app.services.log.manifestOf(entry.body)).toString('utf8')) as Bundle['manifest'];
    }
    return {
      bundle,
      header: () => headerFromRecord(s.skeleton, { insns: fromB64(bundle.loader.insns), data: fromB64(bundle.loader.data) }, bundle.signature === null ? null : fromB64(bundle.signature)),
      manifest: () => manifestOf(bundle),
    };
  };

  app.post('/v1/loaders', {
    schema: {
      summary: 'Make the loader for a BPF object: signed (kernel PKCS#7 + signed manifest), logged, stored', tags: ['loaders'],
      description: 'Send the object as `application/octet-stream` with options in the query string, or as `multipart/form-data` with a file part `object` and option fields (name, scheme, key, profile, flavour, kernelVersion, cpus, pageSize).',
      querystring: LoaderQuery, consumes: ['application/octet-stream', 'multipart/form-data'], security: [{ bearer: [] }], response: { 201: CreatedSchema, ...problems },
    },
    onRequest: app.requireScope('sign'),
  }, async (req, reply) => {
    const raw: Record<string, unknown> = { ...req.query };
    let object: Buffer | null = null;
    if (req.isMultipart()) {
      for await (const part of req.parts({ limits: { fileSize: app.initialConfig.bodyLimit, files: 1, fields: 16 } })) {
        if (part.type === 'file') {
          if (part.fieldname !== 'object') throw new ApiError(400, 'REQUEST_INVALID', `unexpected file part '${part.fieldname}': send the object in a part named 'object'`, { field: part.fieldname });
          object = await part.toBuffer();
        } else {
          raw[part.fieldname] = part.value;
        }
      }
    } else if (Buffer.isBuffer(req.body)) {
      object = req.body;
    }
    if (!object || object.length === 0) throw new ApiError(400, 'REQUEST_INVALID', 'send the BPF object as the request body (application/octet-stream) or as the multipart part \'object\'');
    const parsed = LoaderOptions.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError(400, 'REQUEST_INVALID', `option ${issue.path.join('.') || '(form)'}: ${issue.message}`, { field: issue.path.join('.'), issues: parsed.error.issues });
    }
    const q: LoaderOptions = parsed.data;
    const body = object;
    const host: Record<string, unknown> = {};
    if (q.kernelVersion) { const [a, b, c = '0'] = q.kernelVersion.split('.'); host.kernelVersion = (Number(a) << 16) + (Number(b) << 8) + Math.min(Number(c), 255); }
    if (q.cpus) host.possibleCpus = q.cpus;
    if (q.pageSize) host.pageSize = q.pageSize;
    // Look the key up before the work, so an unknown key id is a 400 and nothing is logged.
    const key = q.scheme === 'unsigned' ? null : await app.services.signing.active(q.key).catch((e: Error & { code?: string }) => {
      if (e.code === 'KEY_NOT_FOUND') throw new ApiError(400, 'KEY_NOT_FOUND', e.message, { field: 'key', got: q.key });
      throw e;
    });
    const stop = app.services.metrics.signSeconds.startTimer({ scheme: q.scheme });
    const id = randomUUID();
    const made = await app.services.cpu.run(() => app.services.caches.loaders.build(new Uint8Array(body), `${q.name}.o`, { scheme: q.scheme, name: q.name, flavour: q.flavour, standalone: false, mapExcl: q.profile === 'linux-6.18-excl', host }))
      .then((built) => prepareLoader(built, id, q.scheme, key));
    let bundle: Bundle;
    if (made.envelopeBytes === null) {
      bundle = made.bundle;
      await app.services.store.putBundle({ ...made.row, logIndex: null });
    } else {
      // The log entry and the stored bundle commit in one transaction; the answer waits for it.
      const { index, committedSize } = await app.services.log.appendLoader(id, made.bundle, made.envelopeBytes, made.row);
      bundle = { ...made.bundle, tlog: await app.services.log.inclusion(index, committedSize) };
    }
    stop();
    req.log.info({ loader: id, logIndex: bundle.tlog?.logIndex ?? null, key: key?.id ?? null }, 'loader made');
    const base = `/v1/loaders/${id}`;
    const created: z.infer<typeof CreatedSchema> = { id, bundle, links: { self: base, header: `${base}/lskel.h`, insns: `${base}/insns`, data: `${base}/data`, signature: `${base}/signature`, manifest: `${base}/manifest` } };
    // Sent as bytes: the bundle was made here, not received (test/api checks answers against the schema).
    return reply.code(201).header('location', base).type('application/json; charset=utf-8').send(createdJson(created) as never);
  });

  const Id = z.object({ id: z.string().uuid() });
  const read = app.requireScope('audit', { anonymous: true });
  app.get('/v1/loaders/:id', { schema: { summary: 'A loader\'s bundle', tags: ['loaders'], params: Id, response: { 200: BundleSchema, ...problems } }, onRequest: read },
    async (req) => (await load(req.params.id)).bundle);
  app.get('/v1/loaders/:id/lskel.h', { schema: { summary: 'Its light skeleton header', tags: ['loaders'], params: Id, produces: ['text/x-c'] }, onRequest: read },
    async (req, reply) => reply.type('text/x-c; charset=utf-8').send((await load(req.params.id)).header()));
  for (const [part, what] of [['insns', 'loader instructions'], ['data', 'loader metadata blob'], ['signature', 'kernel PKCS#7 signature (DER)']] as const) {
    app.get(`/v1/loaders/:id/${part}`, { schema: { summary: `Its ${what}`, tags: ['loaders'], params: Id, produces: ['application/octet-stream'] }, onRequest: read }, async (req, reply) => {
      const { bundle } = await load(req.params.id);
      const b64 = part === 'signature' ? bundle.signature : bundle.loader[part];
      if (b64 === null) throw new ApiError(404, 'NOT_SIGNED', `loader ${req.params.id} is unsigned`);
      return reply.type('application/octet-stream').send(Buffer.from(b64, 'base64'));
    });
  }
  app.get('/v1/loaders/:id/manifest', { schema: { summary: 'Its manifest (canonical JSON, RFC 8785)', tags: ['loaders'], params: Id, produces: ['application/json'] }, onRequest: read }, async (req, reply) => {
    const manifest = (await load(req.params.id)).manifest();
    if (manifest === null) throw new ApiError(404, 'NOT_SIGNED', `loader ${req.params.id} is unsigned and has no manifest`);
    return reply.type('application/json').send(manifest);
  });

  app.get('/v1/manifests/:sha256', {
    schema: {
      summary: 'Signed manifests of loaders made from an object, or with these instructions (SHA-256 hex)', tags: ['audit'], params: z.object({ sha256: Sha256Hex }),
      response: { 200: z.object({ manifests: z.array(z.object({ id: z.string(), createdAt: z.string(), logIndex: z.string().nullable(), envelope: z.unknown() })) }), ...problems },
    },
    onRequest: app.requireScope('audit', { anonymous: true }),
  }, async (req) => {
    const rows = await app.services.store.bundlesByDigest(req.params.sha256, 100);
    return {
      manifests: await Promise.all(rows.map(async (r) => {
        const s = JSON.parse(r.bundle) as Stored | StoredV1;
        const logged = 'v' in s && s.refs && r.logIndex !== null ? await app.services.store.logEntry(r.logIndex) : null;
        return { id: r.id, createdAt: r.createdAt, logIndex: r.logIndex === null ? null : r.logIndex.toString(), envelope: logged ? JSON.parse(Buffer.from(await app.services.log.manifestOf(logged.body)).toString('utf8')) as unknown : s.bundle.manifest };
      })),
    };
  });

  /** A request the verifier answered without a verdict, as the problem the error handler gives such errors on every route. */
  const verifyFailure = (req: FastifyRequest, reply: FastifyReply, f: VerifyFailure): FastifyReply => {
    switch (f.kind) {
      case 'not-json': throw f.empty ? new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY() : new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
      case 'body-invalid': {
        // As the zod validator and the error handler report a failed schema check.
        req.log.info({ issues: f.issues }, 'request validation failed');
        const errors = f.issues.map((i) => ({ path: `/${i.path.join('/')}`, message: i.message }));
        return problem(reply, 400, 'REQUEST_INVALID', 'Bad Request', errors.map((e) => `body${e.path} ${e.message}`).join(', '), { errors });
      }
      case 'format': throw new ApiError(400, f.code, f.message, { issues: f.issues });
      case 'policy-not-found': throw new ApiError(404, 'POLICY_NOT_FOUND', `no policy named ${f.name} (configured: default)`);
      case 'thrown': {
        if (f.name === 'LoaderError') throw new LoaderError(f.code as never, f.message, f.details);
        if (f.name === 'TlogError') throw new TlogError(f.code as never, f.message, f.details);
        if (f.name === 'RangeError') throw new RangeError(f.message);
        throw Object.assign(new Error(`verification: ${f.message}`), { code: f.code });
      }
    }
  };

  /**
   * The body's bytes, read as fastify reads a body as a buffer (the same limit and problems), but
   * into segments of at most 1 MiB as the chunks arrive instead of concatenated at the end: a body
   * of some MB is copied a chunk at a time between other requests, never in one step that holds
   * the event loop (measured: 26 ms per 5.6 MB body for the concatenation, 75 ms for a grown
   * buffer's copy, on this busy machine). The worker joins the segments. Room is made as the
   * bytes come, so an announced size alone reserves nothing; with a size announced, the last
   * segment is cut to it (each segment then moves to the worker whole).
   */
  const SEGMENT = 1 << 20;
  const readBytes: FastifyContentTypeParser = (req, payload, done) => {
    const limit = app.initialConfig.bodyLimit ?? 1 << 20;
    const announced = Number(req.headers['content-length']);
    if (announced > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
    const stream = payload as typeof payload & { receivedEncodedLength?: number };
    const cap = Number.isNaN(announced) ? limit : announced;
    const segments: Buffer[] = [];
    let seg = Buffer.alloc(0), used = 0, n = 0;
    const onData = (chunk: Buffer | string) => {
      let c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (n + c.length > limit || (stream.receivedEncodedLength ?? 0) > limit) {
        stop();
        return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      }
      n += c.length;
      while (c.length > 0) {
        if (used === seg.length) {
          // Sized to what is still announced (a body longer than announced is refused at its end).
          seg = Buffer.allocUnsafeSlow(Math.min(SEGMENT, Math.max(cap - (n - c.length), c.length)));
          segments.push(seg);
          used = 0;
        }
        const k = c.copy(seg, used);
        used += k;
        c = c.subarray(k);
      }
    };
    const onEnd = (err?: Error & { statusCode?: number }) => {
      stop();
      if (err != null) {
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        return done(err, undefined);
      }
      if (!Number.isNaN(announced) && (stream.receivedEncodedLength || n) !== announced) return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), undefined);
      if (segments.length) segments[segments.length - 1] = seg.subarray(0, used);
      done(null, segments);
    };
    const stop = () => { payload.removeListener('data', onData); payload.removeListener('end', onEnd); payload.removeListener('error', onEnd); };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };

  // POST /v1/verifications takes its body as bytes; a verification worker (VerifyPool) parses,
  // checks and verifies it and sends back the verdict's JSON bytes or why there is none, which is
  // answered here with the problem the error handler gives every route (the same codes as when
  // the parse and the schema check were fastify's own). Requests waiting for a worker hold only
  // their bytes, outside the JavaScript heap.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers(); // JSON only: other media types get 415
    scope.addContentTypeParser('application/json', readBytes);
    scope.withTypeProvider<ZodTypeProvider>().post('/v1/verifications', {
      schema: {
        summary: 'Verify a bundle against a trust policy and replay its loader', tags: ['verify'], body: VerificationBody, security: [{ bearer: [] }],
        description: 'Answered 503 VERIFY_BUDGET_EXCEEDED when the verification runs past its time budget (BPFSIGN_VERIFY_BUDGET_MS), 503 VERIFY_QUEUE_FULL with Retry-After when too many wait for a worker.',
        response: { 200: VerdictSchema, ...problems, 503: Problem },
      },
      // The body is checked by the verifier; the schema above is what the API documents.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
      onRequest: app.requireScope('verify'),
    }, async (req, reply) => {
      const defaultPolicy = await app.services.signing.defaultPolicy();
      let answer: VerifyAnswer;
      try {
        answer = await app.services.verifier.verify((req.body as unknown as Buffer[] | undefined) ?? [], defaultPolicy, new Date());
      } catch (e) {
        if (!(e instanceof VerifyPoolError)) throw e;
        req.log.warn({ code: e.code, details: e.details }, e.message);
        if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
        return problem(reply, 503, e.code, 'Service Unavailable', e.message, { details: e.details });
      }
      if (!answer.ok) return verifyFailure(req, reply, answer.failure);
      app.services.metrics.verifySeconds.observe({ verdict: answer.verdict }, answer.seconds);
      // Sent as bytes (the schema above documents it; test/api checks answers against it).
      return reply.type('application/json; charset=utf-8').send(Buffer.from(answer.json.buffer, answer.json.byteOffset, answer.json.byteLength) as never);
    });
  });

  app.get('/v1/keys', {
    schema: { summary: 'Trust bundle: the CA, every signing certificate (active marked), the log verifier key', tags: ['audit'], response: { 200: z.object({ caCertificate: z.string(), keys: z.array(z.object({ id: z.string(), active: z.boolean(), certificate: z.string() })), logOrigin: z.string(), logKey: z.string() }).meta({ id: 'TrustBundle' }) } },
    onRequest: read,
  }, async () => app.services.signing.trust());
};
