/**
 * Trust policy: data, not code (zod-validated). It names the roots, the identities allowed to
 * sign, a level per check (Notation's strict / permissive / audit spirit: `enforce` fails the
 * verdict, `log` records a failure without failing, `skip` does not run the check), which
 * schemes are acceptable, whether unsigned loaders may pass, and what the loaded programs may
 * contain (program types, map types, helpers, sizes).
 */
import { z } from 'zod';
import { RE2JS } from 're2js';
import type { Memo } from './caches.js';

export const CheckLevel = z.enum(['enforce', 'log', 'skip']);
export type CheckLevel = z.infer<typeof CheckLevel>;

/**
 * The checks a verification runs, in the order it runs them; the verdict is the code of the first
 * enforced failure in this order. The manifest comes before the log proof, whose leaf is the
 * manifest's hash: a tampered manifest is then reported as what it is (the manifest's BADSIG,
 * PARTIALSIG or MISMATCH), not as a leaf the log does not hold. `files` holds what ships beside
 * the loader (a gen directory's files, a header's text) to it; the service runs it, as the input
 * comes with such files or not. The hardening findings about the
 * loader (weaknesses of its code, found by the service) come after the object's re-derivation.
 */
export const CHECKS = [
  'signature',
  'chain',
  'identity',
  'revocation',
  'manifest',
  'files',
  'transparencyLog',
  'replay',
  'object',
  'hardening',
  'contents',
] as const;
export type CheckName = (typeof CHECKS)[number];

/**
 * Identity patterns are RE2 expressions (re2js): matching takes time linear in the subject, where
 * a JavaScript RegExp backtracks (CN=b(.|.)*Z held the event loop for minutes on a long subject). RE2
 * has no backreferences or lookarounds; a pattern using them is refused when the policy is read.
 */
const MAX_PATTERN = 1024;

/**
 * The RE2 matcher of `pattern`, matching whole strings; throws re2js's syntax error. Compiling is
 * a pure function of the text: `cache` (the caller's) keeps the compiled patterns.
 */
function re2(pattern: string, cache?: Memo<string, RE2JS>): RE2JS {
  let r = cache?.get(pattern);
  if (r === undefined) {
    r = RE2JS.compile(pattern);
    cache?.set(pattern, r, pattern.length);
  }
  return r;
}

/** Whether `value` matches the whole of RE2 `pattern` (as /^(?:pattern)$/ would, in linear time). */
export function fullMatch(pattern: string, value: string, cache?: Memo<string, RE2JS>): boolean {
  return re2(pattern, cache).matches(value);
}

const Pattern = z
  .string()
  .max(MAX_PATTERN)
  .superRefine((s, ctx) => {
    try {
      re2(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not an RE2 expression: ${(e as Error).message}` });
    }
  });

const Identity = z
  .object({
    subject: z.string().max(4096).optional(),
    subjectRegExp: Pattern.optional(),
    san: z.string().max(4096).optional(),
    sanRegExp: Pattern.optional(),
  })
  .strict()
  .refine((i) => Object.values(i).some((v) => v !== undefined), { message: 'an identity needs subject, subjectRegExp, san or sanRegExp' });

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export const TrustPolicy = z
  .object({
    version: z.literal(1),
    name: z.string().min(1),
    /** Root certificates (PEM). Signer chains must end at one of them. */
    roots: z.array(z.string().regex(PEM_CERT, 'a PEM certificate')).min(1),
    /** Intermediate certificates available for chain building (PEM). */
    intermediates: z.array(z.string().regex(PEM_CERT, 'a PEM certificate')).default([]),
    /** CRLs (PEM or base64 DER) consulted by the revocation check. */
    crls: z.array(z.string()).default([]),
    /** Transparency-log verifier keys (C2SP `name+hash+base64`); without any, the log check is not run. */
    logKeys: z.array(z.string()).default([]),
    /**
     * Witnesses whose cosignatures (c2sp.org/tlog-cosignature, Ed25519: `key` is
     * `name+hash+base64(0x04 ‖ key)`) a log checkpoint must carry, checked offline wherever the
     * log keys are; `witnessQuorum` of them (default: all).
     */
    witnesses: z
      .array(
        z
          .object({ name: z.string().min(1), key: z.string().min(1) })
          .strict()
          .refine((w) => w.key.startsWith(`${w.name}+`), { message: 'the witness key must be named after the witness (name+hash+key)' }),
      )
      .default([]),
    witnessQuorum: z.number().int().positive().optional(),
    /** Allowed signer identities; empty means any identity that chains to a root. */
    identities: z.array(Identity).default([]),
    checks: z
      .object(Object.fromEntries(CHECKS.map((c) => [c, CheckLevel.optional()])) as Record<CheckName, z.ZodOptional<typeof CheckLevel>>)
      .strict()
      .default({}),
    schemes: z
      .array(z.enum(['linux-6.18', 'linux-load-time']))
      .min(1)
      .default(['linux-6.18', 'linux-load-time']),
    allowUnsigned: z.boolean().default(false),
    allowed: z
      .object({
        programTypes: z.array(z.string()).optional(),
        mapTypes: z.array(z.string()).optional(),
        /** Helper names or ids. */
        helpers: z.array(z.union([z.string(), z.number().int().nonnegative()])).optional(),
      })
      .strict()
      .default({}),
    limits: z
      .object({
        maxPrograms: z.number().int().positive().optional(),
        maxMaps: z.number().int().positive().optional(),
        maxInsnsPerProgram: z.number().int().positive().optional(),
        maxLoaderInsns: z.number().int().positive().optional(),
        maxDataBytes: z.number().int().positive().optional(),
        maxMapEntries: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .refine((p) => p.witnessQuorum === undefined || p.witnessQuorum <= p.witnesses.length, {
    message: 'witnessQuorum is more than the witnesses listed',
    path: ['witnessQuorum'],
  });

export type TrustPolicy = z.infer<typeof TrustPolicy>;
export type TrustPolicyInput = z.input<typeof TrustPolicy>;

/** Levels of a strict policy: every check enforced. */
export const STRICT: Record<CheckName, CheckLevel> = Object.fromEntries(CHECKS.map((c) => [c, 'enforce'])) as Record<CheckName, CheckLevel>;

/** The level a policy gives a check (enforce unless it says otherwise; hardening included). */
export function levelOf(policy: TrustPolicy, check: CheckName): CheckLevel {
  return policy.checks[check] ?? 'enforce';
}

export class PolicyFormatError extends Error {
  override readonly name = 'PolicyFormatError';
  readonly code = 'POLICY_INVALID' as const;
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid trust policy: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

/** Validates policy data; every bad field is reported at once. */
export function parsePolicy(data: unknown): TrustPolicy {
  const r = TrustPolicy.safeParse(data);
  if (!r.success) throw new PolicyFormatError(r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return r.data;
}

/** `--trust CERT.pem`: a strict policy rooted at one certificate, any identity under it. */
export function strictPolicyFor(rootPem: string, name = 'strict'): TrustPolicy {
  return parsePolicy({ version: 1, name, roots: [rootPem], checks: STRICT });
}

/** Whether a signer's subject and SANs satisfy one of the policy's identities (any, when none are listed). */
export function identityAllowed(
  policy: TrustPolicy,
  subject: string,
  sans: string[],
  patterns?: Memo<string, RE2JS>,
): { ok: boolean; matched?: number } {
  if (policy.identities.length === 0) return { ok: true };
  const i = policy.identities.findIndex(
    (id) =>
      (id.subject === undefined || id.subject === subject) &&
      (id.subjectRegExp === undefined || fullMatch(id.subjectRegExp, subject, patterns)) &&
      (id.san === undefined || sans.includes(id.san)) &&
      (id.sanRegExp === undefined || sans.some((s) => fullMatch(id.sanRegExp!, s, patterns))),
  );
  return i >= 0 ? { ok: true, matched: i } : { ok: false };
}
