/**
 * One POST /v1/verifications request from its body's bytes to its answer: the JSON parse, the
 * body's schema check, the bundle and inline policy checks, the verification and the verdict's
 * JSON bytes. It runs in a verification worker (verify-worker.ts), or on the event loop when the
 * service runs without workers; either way the answer is plain data (structured-cloneable), and
 * a failure is a typed VerifyFailure the API maps to its problem, never a thrown error.
 */
import { isAscii } from 'node:buffer';
import { z } from 'zod';
import { parseBundle } from '../signing/bundle.js';
import { parsePolicy, type TrustPolicy } from '../signing/policy.js';
import type { KernelProfile } from '../kernel/profile/index.js';
import { toPlainJson } from '../shared/json.js';
import { JsonParseError, parseJsonStrict } from '../shared/strict-json.js';
import { verifyHeader } from './verify-header.js';
import type { LoaderCache } from './loader.js';
import { VERIFICATION_MEMOS, type VerificationMemos, type CacheCounters, type VerificationMemoName } from './verification-caches.js';
import { verdictJson, verifyBundle, withHelperIds, type ParsedBodies, type ReplayCache, type VerificationRequest } from './verify.js';

/** The body's schema (the route documents it in the OpenAPI description). */
export const VerificationBody = z.object({
  bundle: z.unknown().optional().meta({ description: 'a bundle (see Bundle); exactly one of bundle and header' }),
  header: z
    .string()
    .min(1)
    .max(64 << 20)
    .optional()
    .meta({
      description:
        'a light skeleton header (NAME.lskel.h text), ours or one bpftool gen skeleton -L -S wrote; exactly one of bundle and header',
    }),
  certificates: z
    .array(z.string().max(16384))
    .max(8)
    .optional()
    .meta({ description: 'PEM certificates given beside a header (its PKCS#7 may carry none): signer, then intermediates' }),
  object: z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .optional()
    .meta({ description: 'the BPF object, base64: the loader is re-derived from it and compared' }),
  policy: z
    .union([z.string().max(128, 'at most 128 characters'), z.record(z.string(), z.unknown())])
    .optional()
    .meta({ description: 'a trust policy inline, or the name of a configured one ("default"; at most 128 characters)' }),
});

/** Why a request got no verdict; each kind is one problem of the API. */
export type VerifyFailure =
  /** The body is empty, or not JSON (a prototype-poisoning member counts as not JSON, as fastify's parser has it). */
  | { kind: 'not-json'; empty: boolean }
  /** The body's shape is not VerificationBody: zod's issues, as the schema check gives them. */
  | { kind: 'body-invalid'; issues: { path: (string | number)[]; message: string }[] }
  /** The bundle or the inline policy is malformed: its parser's code and every issue. */
  | { kind: 'format'; code: string; message: string; issues: unknown }
  /** A named policy that is not configured. */
  | { kind: 'policy-not-found'; name: string }
  /** Verification threw (not a failed check: those are in the verdict): the error's class, code, message and details. */
  | { kind: 'thrown'; name: string; code?: string; message: string; details?: Record<string, unknown> };

/** An answer: the verdict's JSON text (verdictJson), or why there is none. */
export type VerifyAnswer = { ok: true; json: string; verdict: string; seconds: number } | { ok: false; failure: VerifyFailure };

/** What a verification runs against: the kernel profile and the content-addressed caches of one thread. */
export interface VerifyContext {
  profile: KernelProfile | null;
  replays: ReplayCache;
  loaders: LoaderCache;
  bodies: ParsedBodies<VerificationRequest>;
  /** The verification memos (signatures, certificates, statements…); absent: verifications keep nothing between them. */
  memos?: VerificationMemos;
}

/** The counters of a context's caches, by the names the metrics give them. */
export function cacheStats(ctx: VerifyContext): Record<'loaders' | 'replays' | 'bodies' | VerificationMemoName, CacheCounters> {
  const memos =
    ctx.memos?.stats ??
    (Object.fromEntries(VERIFICATION_MEMOS.map((k) => [k, { hits: 0, misses: 0, evictions: 0, entries: 0 }])) as Record<
      VerificationMemoName,
      CacheCounters
    >);
  return { loaders: ctx.loaders.stats, replays: ctx.replays.stats, bodies: ctx.bodies.stats, ...memos };
}

/** Every cache's name, as cacheStats and the metrics have them. */
export const CACHE_NAMES = ['loaders', 'replays', 'bodies', ...VERIFICATION_MEMOS] as const;

class Failed extends Error {
  constructor(readonly failure: VerifyFailure) {
    super(failure.kind);
  }
}

/**
 * JSON.parse, refusing what fastify's default parser refuses with its prototype-poisoning
 * options at 'error': an own `__proto__` member anywhere, or a `constructor` member that is an
 * object with its own `prototype`. A leading byte-order mark is dropped, as that parser does.
 * The walk runs only when the text could hold such a name (written out or with \u escapes).
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new Failed({ kind: 'not-json', empty: true });
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = parseJsonStrict(text);
  } catch (e) {
    // A duplicate member name is a readable body that says two things: named, with its path.
    if (e instanceof JsonParseError && e.code === 'JSON_DUPLICATE_KEY')
      throw new Failed({ kind: 'format', code: e.code, message: e.message, issues: [{ path: e.path, offset: e.offset }] });
    throw new Failed({ kind: 'not-json', empty: false });
  }
  if (value === null || typeof value !== 'object') return value;
  if (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u')) return value;
  const stack: object[] = [value];
  while (stack.length) {
    const node = stack.pop() as Record<string, unknown>;
    if (Object.hasOwn(node, '__proto__')) throw new Failed({ kind: 'not-json', empty: false });
    const c = Object.hasOwn(node, 'constructor') ? node.constructor : undefined;
    if (c !== null && typeof c === 'object' && Object.hasOwn(c, 'prototype')) throw new Failed({ kind: 'not-json', empty: false });
    for (const k in node) {
      const v = node[k];
      if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
  return value;
}

/** The body's bytes → a checked request: JSON (ASCII, as every bundle is, decoded as Latin-1 without UTF-8's checks), its schema, the bundle. */
function readBody(raw: Uint8Array): VerificationRequest {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const json = parseJsonBody(buf.toString(isAscii(buf) ? 'latin1' : 'utf8'));
  const r = VerificationBody.safeParse(json);
  if (!r.success)
    throw new Failed({
      kind: 'body-invalid',
      issues: r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message })),
    });
  const { bundle, header, ...rest } = r.data;
  if ((bundle === undefined) === (header === undefined)) {
    throw new Failed({ kind: 'body-invalid', issues: [{ path: [], message: 'exactly one of bundle and header is required' }] });
  }
  if (header !== undefined) return { ...rest, header };
  return { ...rest, bundle: formatChecked(() => parseBundle(bundle)) };
}

function formatChecked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    const err = e as Error & { code?: string; issues?: unknown };
    throw new Failed({ kind: 'format', code: err.code ?? 'REQUEST_INVALID', message: err.message, issues: err.issues });
  }
}

/**
 * Answers one verification request: `raw` is the body, `defaultPolicy` the service's policy named
 * "default" (and used when the body names none), `at` the time the chain is checked at. The same
 * bytes parse to the same request (ParsedBodies: parsed once, then shared).
 */
export function answerVerification(raw: Uint8Array, defaultPolicy: TrustPolicy, at: Date, ctx: VerifyContext): VerifyAnswer {
  try {
    const body = ctx.bodies.parse(raw, readBody);
    const p = body.policy;
    const policy =
      p === undefined || p === 'default' ? defaultPolicy : typeof p === 'string' ? undefined : formatChecked(() => parsePolicy(p));
    if (!policy) return { ok: false, failure: { kind: 'policy-not-found', name: String(p) } };
    const object = body.object ? new Uint8Array(Buffer.from(body.object, 'base64')) : undefined;
    const t0 = performance.now();
    formatChecked(() => withHelperIds(policy)); // a helper name the table does not know is the policy's format error
    const v =
      body.header !== undefined
        ? formatChecked(() =>
            verifyHeader(body.header!, policy, {
              at,
              object,
              profile: ctx.profile,
              replays: ctx.replays,
              loaders: ctx.loaders,
              caches: ctx.memos,
              certificates: body.certificates,
            }),
          ).verdict
        : verifyBundle(body.bundle!, policy, {
            at,
            object,
            profile: ctx.profile,
            replays: ctx.replays,
            loaders: ctx.loaders,
            caches: ctx.memos,
          });
    const seconds = (performance.now() - t0) / 1000;
    return { ok: true, json: verdictJson(v, ctx.replays), verdict: v.verdict, seconds };
  } catch (e) {
    if (e instanceof Failed) return { ok: false, failure: e.failure };
    const err = e as Error & { code?: unknown; details?: unknown };
    let details: Record<string, unknown> | undefined;
    try {
      details = err.details && typeof err.details === 'object' ? toPlainJson<Record<string, unknown>>(err.details) : undefined;
    } catch {
      details = undefined;
    }
    return {
      ok: false,
      failure: {
        kind: 'thrown',
        name: err?.name ?? 'Error',
        code: typeof err?.code === 'string' ? err.code : undefined,
        message: String(err?.message ?? e),
        details,
      },
    };
  }
}
