/**
 * in-toto Statement v1 inside a DSSE envelope: what the service signs about a loader
 * (subjects with their SHA-256 digests, a predicate type, the predicate). The payload is the
 * RFC 8785 canonical JSON of the statement, so equal statements give equal bytes.
 */
import { canonicalBytes } from './canonical.js';
import { signEnvelope, verifyEnvelope } from './dsse.js';
import { VerificationError } from './errors.js';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const HEX64 = /^[0-9a-f]{64}$/;
export function makeStatement(subject, predicateType, predicate) {
    const statement = { _type: STATEMENT_TYPE, subject, predicateType, predicate };
    assertStatement(statement);
    return statement;
}
/** Checks the shape of a statement, collecting every bad field. */
export function assertStatement(value) {
    const fields = [];
    const o = (typeof value === 'object' && value !== null ? value : {});
    if (o._type !== STATEMENT_TYPE)
        fields.push('_type');
    if (!Array.isArray(o.subject) || o.subject.length === 0)
        fields.push('subject');
    else {
        o.subject.forEach((s, i) => {
            const sub = (typeof s === 'object' && s !== null ? s : {});
            if (typeof sub.name !== 'string')
                fields.push(`subject[${i}].name`);
            const d = sub.digest;
            if (typeof d !== 'object' || d === null || typeof d.sha256 !== 'string' || !HEX64.test(d.sha256))
                fields.push(`subject[${i}].digest.sha256`);
        });
    }
    if (typeof o.predicateType !== 'string' || o.predicateType.length === 0)
        fields.push('predicateType');
    if (typeof o.predicate !== 'object' || o.predicate === null || Array.isArray(o.predicate))
        fields.push('predicate');
    if (fields.length > 0) {
        throw new VerificationError('MALFORMED', `in-toto: bad statement fields: ${fields.join(', ')}`, { field: fields[0], fields });
    }
}
export async function signStatement(statement, signer) {
    assertStatement(statement);
    return signEnvelope(canonicalBytes(statement), IN_TOTO_PAYLOAD_TYPE, signer);
}
/** Verifies the envelope, then that it carries an in-toto Statement v1. */
export function verifyStatement(envelope, candidates) {
    const v = verifyEnvelope(envelope, candidates);
    if (!v.ok)
        return v;
    if (v.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
        return { ok: false, error: new VerificationError('MALFORMED', `in-toto: payloadType ${v.payloadType}`, { field: 'payloadType', got: v.payloadType, want: IN_TOTO_PAYLOAD_TYPE }) };
    }
    try {
        const statement = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(v.payload));
        assertStatement(statement);
        return { ok: true, statement, signers: v.signers };
    }
    catch (e) {
        if (e instanceof VerificationError)
            return { ok: false, error: e };
        return { ok: false, error: new VerificationError('MALFORMED', `in-toto: payload is not JSON: ${e.message}`, { field: 'payload' }) };
    }
}
//# sourceMappingURL=statement.js.map