/**
 * in-toto Statement v1 inside a DSSE envelope: what the service signs about a loader
 * (subjects with their SHA-256 digests, a predicate type, the predicate). The payload is the
 * RFC 8785 canonical JSON of the statement, so equal statements give equal bytes.
 */
import { canonicalBytes, type JsonValue } from './canonical.js';
import { signEnvelope, verifyEnvelope, type Envelope } from './dsse.js';
import { VerificationError } from './errors.js';
import type { Signer } from './keys/signer.js';
import type { Certificate, CertificateInput } from './x509/certificate.js';
import type { VerificationCaches } from './caches.js';
import { deepFreeze } from '../shared/freeze.js';
import { JsonParseError, parseJsonStrict } from '../shared/strict-json.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Subject {
  name: string;
  digest: { sha256: string } & Record<string, string>;
}

export interface Statement<P extends JsonValue = JsonValue> {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function makeStatement<P extends JsonValue>(subject: Subject[], predicateType: string, predicate: P): Statement<P> {
  const statement: Statement<P> = { _type: STATEMENT_TYPE, subject, predicateType, predicate };
  assertStatement(statement);
  return statement;
}

/** Checks the shape of a statement, collecting every bad field. */
export function assertStatement(value: unknown): asserts value is Statement {
  const fields: string[] = [];
  const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (o._type !== STATEMENT_TYPE) fields.push('_type');
  if (!Array.isArray(o.subject) || o.subject.length === 0) fields.push('subject');
  else {
    o.subject.forEach((s: unknown, i) => {
      const sub = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
      if (typeof sub.name !== 'string') fields.push(`subject[${i}].name`);
      const d = sub.digest as Record<string, unknown> | undefined;
      if (typeof d !== 'object' || d === null || typeof d.sha256 !== 'string' || !HEX64.test(d.sha256))
        fields.push(`subject[${i}].digest.sha256`);
    });
  }
  if (typeof o.predicateType !== 'string' || o.predicateType.length === 0) fields.push('predicateType');
  if (typeof o.predicate !== 'object' || o.predicate === null || Array.isArray(o.predicate)) fields.push('predicate');
  if (fields.length > 0) {
    throw new VerificationError('MALFORMED', `in-toto: bad statement fields: ${fields.join(', ')}`, { field: fields[0], fields });
  }
}

export async function signStatement(statement: Statement, signer: Signer): Promise<Envelope> {
  assertStatement(statement);
  return signEnvelope(canonicalBytes(statement), IN_TOTO_PAYLOAD_TYPE, signer);
}

export type StatementVerification = { ok: true; statement: Statement; signers: Certificate[] } | { ok: false; error: VerificationError };

function readStatement(payload: Uint8Array): Statement {
  // Strict: a statement with a member twice (two "predicate"s, two digests) would read
  // differently in a reader that keeps the first.
  const statement: unknown = parseJsonStrict(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  assertStatement(statement);
  return statement;
}

/**
 * Verifies the envelope, then that it carries an in-toto Statement v1 (the statement returned is
 * frozen). Reading the statement is a pure function of the payload (its base64 text in the
 * envelope): with a statements memo in `caches`, a CI gate verifying the same bundle again skips
 * the UTF-8 decode, JSON parse and shape check, and gets the statement the memo shares
 * (deep-frozen, recorded as such). Only statements that read cleanly are offered to the memo; the
 * envelope's signatures are verified every time before it is asked.
 */
export function verifyStatement(
  envelope: unknown,
  candidates: readonly CertificateInput[],
  caches?: VerificationCaches,
): StatementVerification {
  const v = verifyEnvelope(envelope, candidates, caches);
  if (!v.ok) return v;
  if (v.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return {
      ok: false,
      error: new VerificationError('MALFORMED', `in-toto: payloadType ${v.payloadType}`, {
        field: 'payloadType',
        got: v.payloadType,
        want: IN_TOTO_PAYLOAD_TYPE,
      }),
    };
  }
  try {
    // verifyEnvelope accepted the payload text as base64, whose decoding is a function of the text.
    const text = (envelope as Envelope).payload;
    // Recorded as deep-frozen (for memos keyed by identity) only when a memo shares it.
    const memo = caches?.statements;
    let statement = memo?.get(text);
    if (statement === undefined) {
      statement = deepFreeze(readStatement(v.payload), memo !== undefined);
      memo?.set(text, statement, text.length);
    }
    return { ok: true, statement, signers: v.signers };
  } catch (e) {
    if (e instanceof VerificationError) return { ok: false, error: e };
    if (e instanceof JsonParseError)
      return {
        ok: false,
        error: new VerificationError('MALFORMED', `in-toto: payload: ${e.message}`, {
          field: 'payload',
          code: e.code,
          path: e.path,
          offset: e.offset,
        }),
      };
    return {
      ok: false,
      error: new VerificationError('MALFORMED', `in-toto: payload is not UTF-8: ${(e as Error).message}`, { field: 'payload' }),
    };
  }
}
