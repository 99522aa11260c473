/**
 * Trust policy: data, not code (zod-validated). It names the roots, the identities allowed to
 * sign, a level per check (Notation's strict / permissive / audit spirit: `enforce` fails the
 * verdict, `log` records a failure without failing, `skip` does not run the check), which
 * schemes are acceptable, whether unsigned loaders may pass, and what the loaded programs may
 * contain (program types, map types, helpers, sizes).
 */
import { z } from 'zod';
export const CheckLevel = z.enum(['enforce', 'log', 'skip']);
/** The checks a verification runs, in the order it runs them. */
export const CHECKS = ['signature', 'chain', 'identity', 'revocation', 'transparencyLog', 'manifest', 'replay', 'object', 'contents'];
const Identity = z
    .object({
    subject: z.string().optional(),
    subjectRegExp: z.string().optional(),
    san: z.string().optional(),
    sanRegExp: z.string().optional(),
})
    .strict()
    .refine((i) => Object.values(i).some((v) => v !== undefined), { message: 'an identity needs subject, subjectRegExp, san or sanRegExp' })
    .refine((i) => [i.subjectRegExp, i.sanRegExp].every((r) => r === undefined || isRegExp(r)), { message: 'invalid regular expression' });
function isRegExp(s) {
    try {
        new RegExp(s);
        return true;
    }
    catch {
        return false;
    }
}
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
    /** Allowed signer identities; empty means any identity that chains to a root. */
    identities: z.array(Identity).default([]),
    checks: z
        .object(Object.fromEntries(CHECKS.map((c) => [c, CheckLevel.optional()])))
        .strict()
        .default({}),
    schemes: z.array(z.enum(['linux-6.18', 'linux-load-time'])).min(1).default(['linux-6.18', 'linux-load-time']),
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
    .strict();
/** Levels of a strict policy: every check enforced. */
export const STRICT = Object.fromEntries(CHECKS.map((c) => [c, 'enforce']));
/** The level a policy gives a check (enforce unless it says otherwise). */
export function levelOf(policy, check) {
    return policy.checks[check] ?? 'enforce';
}
export class PolicyFormatError extends Error {
    issues;
    name = 'PolicyFormatError';
    code = 'POLICY_INVALID';
    constructor(issues) {
        super(`invalid trust policy: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
        this.issues = issues;
    }
}
/** Validates policy data; every bad field is reported at once. */
export function parsePolicy(data) {
    const r = TrustPolicy.safeParse(data);
    if (!r.success)
        throw new PolicyFormatError(r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    return r.data;
}
/** `--trust CERT.pem`: a strict policy rooted at one certificate, any identity under it. */
export function strictPolicyFor(rootPem, name = 'strict') {
    return parsePolicy({ version: 1, name, roots: [rootPem], checks: STRICT });
}
/** Whether a signer's subject and SANs satisfy one of the policy's identities (any, when none are listed). */
export function identityAllowed(policy, subject, sans) {
    if (policy.identities.length === 0)
        return { ok: true };
    const i = policy.identities.findIndex((id) => (id.subject === undefined || id.subject === subject) &&
        (id.subjectRegExp === undefined || new RegExp(`^(?:${id.subjectRegExp})$`).test(subject)) &&
        (id.san === undefined || sans.includes(id.san)) &&
        (id.sanRegExp === undefined || sans.some((s) => new RegExp(`^(?:${id.sanRegExp})$`).test(s))));
    return i >= 0 ? { ok: true, matched: i } : { ok: false };
}
//# sourceMappingURL=policy.js.map