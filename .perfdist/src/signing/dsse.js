/**
 * DSSE (Dead Simple Signing Envelope) v1: the signature covers
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN being the ASCII
 * decimal byte length. Signing takes a Signer; verification is synchronous against candidate
 * certificates, matched by keyid (the hex subjectKeyIdentifier) when the signature names one.
 */
import { algorithmOfKey, verifyRaw } from './algorithms.js';
import { VerificationError } from './errors.js';
import { parseCertificate } from './x509/certificate.js';
import { toHex } from '../shared/bytes.js';
const enc = new TextEncoder();
/** Pre-Authentication Encoding of DSSE v1. */
export function pae(payloadType, payload) {
    const type = enc.encode(payloadType);
    const head = enc.encode(`DSSEv1 ${type.length} `);
    const mid = enc.encode(` ${payload.length} `);
    const out = new Uint8Array(head.length + type.length + mid.length + payload.length);
    out.set(head, 0);
    out.set(type, head.length);
    out.set(mid, head.length + type.length);
    out.set(payload, head.length + type.length + mid.length);
    return out;
}
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Strict base64 (standard with padding, or URL-safe without), as DSSE allows either. */
export function decodeBase64(s, field) {
    if (BASE64.test(s))
        return new Uint8Array(Buffer.from(s, 'base64'));
    if (BASE64URL.test(s) && s.length % 4 !== 1)
        return new Uint8Array(Buffer.from(s, 'base64url'));
    throw new VerificationError('MALFORMED', `dsse: ${field} is not base64`, { field });
}
/** Signs `payload` and returns a one-signature envelope; keyid is the signer's SKI in hex. */
export async function signEnvelope(payload, payloadType, signer) {
    const sig = await signer.sign(pae(payloadType, payload));
    return {
        payload: Buffer.from(payload).toString('base64'),
        payloadType,
        signatures: [{ keyid: toHex(signer.subjectKeyIdentifier), sig: Buffer.from(sig).toString('base64') }],
    };
}
function assertEnvelope(e) {
    const bad = (field) => {
        throw new VerificationError('MALFORMED', `dsse: envelope field ${field} is missing or of the wrong type`, { field });
    };
    if (typeof e !== 'object' || e === null)
        bad('$');
    const o = e;
    if (typeof o.payload !== 'string')
        bad('payload');
    if (typeof o.payloadType !== 'string')
        bad('payloadType');
    if (!Array.isArray(o.signatures) || o.signatures.length === 0)
        bad('signatures');
    o.signatures.forEach((s, i) => {
        if (typeof s !== 'object' || s === null || typeof s.sig !== 'string')
            bad(`signatures[${i}].sig`);
        const keyid = s.keyid;
        if (keyid !== undefined && typeof keyid !== 'string')
            bad(`signatures[${i}].keyid`);
    });
}
/**
 * Verifies every signature of the envelope. All must verify (a signature we cannot attribute
 * is UNKNOWNKEY; one that fails is BADSIG), with at least one signature present.
 */
export function verifyEnvelope(envelope, candidates) {
    try {
        assertEnvelope(envelope);
        const certs = candidates.map((c) => parseCertificate(c));
        const payload = decodeBase64(envelope.payload, 'payload');
        const message = pae(envelope.payloadType, payload);
        const signers = [];
        envelope.signatures.forEach((s, i) => {
            const sig = decodeBase64(s.sig, `signatures[${i}].sig`);
            const keyid = s.keyid ? s.keyid.toLowerCase() : '';
            const pool = keyid ? certs.filter((c) => c.subjectKeyIdentifier === keyid) : certs;
            if (pool.length === 0) {
                throw new VerificationError('UNKNOWNKEY', `dsse: signatures[${i}]: no candidate with keyid ${keyid}`, { subjectKeyIdentifier: keyid });
            }
            const match = pool.find((c) => algorithmOfKey(c.publicKey).ok && verifyRaw(c.publicKey, 'sha256', message, sig));
            if (!match) {
                throw new VerificationError(keyid ? 'BADSIG' : 'UNKNOWNKEY', `dsse: signatures[${i}] does not verify`, { subjectKeyIdentifier: keyid || undefined });
            }
            signers.push(match);
        });
        return { ok: true, payload, payloadType: envelope.payloadType, signers };
    }
    catch (e) {
        if (e instanceof VerificationError)
            return { ok: false, error: e };
        throw e;
    }
}
//# sourceMappingURL=dsse.js.map