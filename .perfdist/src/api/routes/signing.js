/**
 * POST /v1/sign: object in, signed bundle out (loader, kernel PKCS#7, signed manifest, log proof).
 * POST /v1/verify: bundle (+ object, + policy) in, verdict out. GET /v1/bundles/:id, GET /v1/trust.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BundleSchema, parseBundle } from '../../signing/bundle.js';
import { canonicalBytes } from '../../signing/canonical.js';
import { parsePolicy } from '../../signing/policy.js';
import { buildLoader } from '../../service/loader.js';
import { signBuilt } from '../../service/sign.js';
import { verifyBundle } from '../../service/verify.js';
import { problems } from '../schemas/common.js';
import { ApiError } from '../plugins/errors.js';
const SignQuery = z.object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('obj'),
    scheme: z.enum(['linux-6.18', 'linux-load-time']).default('linux-6.18'),
    flavour: z.enum(['v1.7', 'bpftool-7.1']).default('v1.7'),
});
const SignResponse = z.object({ id: z.string(), bundle: BundleSchema, header: z.string() }).meta({ id: 'SignResponse' });
const Check = z.object({
    check: z.string(), level: z.enum(['enforce', 'log', 'skip']), status: z.enum(['pass', 'fail', 'skipped']),
    code: z.string().optional(), message: z.string(), details: z.record(z.string(), z.unknown()).optional(),
});
export const VerdictSchema = z.object({
    verdict: z.enum(['OK', 'UNSIGNED', 'BADSIG', 'UNKNOWNKEY', 'UNTRUSTED', 'PARTIALSIG', 'MISMATCH', 'POLICY', 'FAULT']),
    ok: z.boolean(), policy: z.string(), checks: z.array(Check),
    signer: z.object({ subject: z.string(), sans: z.array(z.string()), subjectKeyIdentifier: z.string(), issuer: z.string(), serial: z.string() }).nullable(),
    scheme: z.string().nullable(),
    replay: z.unknown().nullable(),
}).meta({ id: 'Verdict', description: 'structured verification result: every check with its level and outcome' });
const VerifyBody = z.object({
    bundle: z.unknown().meta({ description: 'a bundle (see Bundle)' }),
    object: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/).optional().meta({ description: 'the BPF object, base64: the loader is re-derived from it and compared' }),
    policy: z.unknown().optional().meta({ description: 'a trust policy; default: the service\'s own roots and log key, every check enforced' }),
});
export const signingRoutes = async (app) => {
    app.post('/v1/sign', {
        schema: { summary: 'Sign a BPF object: loader, kernel signature, signed manifest and log proof', tags: ['signing'], querystring: SignQuery, consumes: ['application/octet-stream'], security: [{ bearer: [] }], response: { 200: SignResponse, ...problems } },
        onRequest: app.requireScope('sign'),
    }, async (req) => {
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0)
            throw new ApiError(400, 'REQUEST_INVALID', 'send the BPF object as the request body (Content-Type: application/octet-stream)');
        const q = req.query;
        const built = buildLoader(new Uint8Array(body), `${q.name}.o`, { scheme: q.scheme, name: q.name, flavour: q.flavour, standalone: false, mapExcl: false, host: {} });
        const key = await app.services.signing.active();
        const signed = await signBuilt(built, key.signer, key.certificates);
        const id = randomUUID();
        const { index } = await app.services.log.append('bundle', id, canonicalBytes(signed.envelope));
        const proof = await app.services.log.inclusion(index);
        const bundle = { ...signed.bundle, tlog: proof };
        const m = built.manifest;
        await app.services.store.putBundle({
            id, createdAt: new Date().toISOString(), objectSha256: m.object.sha256, insnsSha256: m.digests.insns.sha256,
            scheme: q.scheme, signer: key.id, logIndex: index, bundle: JSON.stringify(bundle),
        });
        req.log.info({ bundle: id, logIndex: index.toString(), key: key.id }, 'signed');
        return { id, bundle, header: built.header };
    });
    app.get('/v1/bundles/:id', {
        schema: { summary: 'A bundle the service signed', tags: ['signing'], params: z.object({ id: z.string().uuid() }), response: { 200: BundleSchema, ...problems } },
    }, async (req) => {
        const b = await app.services.store.getBundle(req.params.id);
        if (!b)
            throw new ApiError(404, 'BUNDLE_NOT_FOUND', `no bundle ${req.params.id}`);
        return JSON.parse(b.bundle);
    });
    app.post('/v1/verify', {
        schema: { summary: 'Verify a bundle against a trust policy and replay its loader', tags: ['signing'], body: VerifyBody, security: [{ bearer: [] }], response: { 200: VerdictSchema, ...problems } },
        onRequest: app.requireScope('verify'),
    }, async (req) => {
        let bundle, policy;
        try {
            bundle = parseBundle(req.body.bundle);
            policy = req.body.policy === undefined ? await app.services.signing.defaultPolicy() : parsePolicy(req.body.policy);
        }
        catch (e) {
            const err = e;
            throw new ApiError(400, err.code ?? 'REQUEST_INVALID', err.message, { issues: err.issues });
        }
        const object = req.body.object ? new Uint8Array(Buffer.from(req.body.object, 'base64')) : undefined;
        const verdict = verifyBundle(bundle, policy, { at: new Date(), object, profile: app.services.profile });
        return JSON.parse(JSON.stringify({ ...verdict, replay: verdict.replay ? { ...verdict.replay, report: undefined } : null }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    });
    app.get('/v1/trust', {
        schema: { summary: 'The service\'s trust material: CA certificate and log verifier key (pin these)', tags: ['signing'], response: { 200: z.object({ caCertificate: z.string(), logOrigin: z.string(), logKey: z.string() }).meta({ id: 'Trust' }) } },
    }, async () => app.services.signing.trust());
};
//# sourceMappingURL=signing.js.map