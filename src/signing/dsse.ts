/**
 * DSSE (Dead Simple Signing Envelope) v1: the signature covers
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN being the ASCII
 * decimal byte length. Signing takes a Signer; verification is synchronous against candidate
 * certificates, matched by keyid (the hex subjectKeyIdentifier) when the signature names one.
 */
import { algorithmOfKey, verifyRaw } from './algorithms.js';
import { VerificationError } from './errors.js';
import type { Signer } from './keys/signer.js';
import { parseCertificate, type Certificate, type CertificateInput } from './x509/certificate.js';
import type { VerificationCaches } from './caches.js';
import { createHash } from 'node:crypto';
import { canonicalBytes, canonicalize } from './canonical.js';
import { canonicalBase64, sha256Hex, toHex } from '../shared/bytes.js';
import { base64Text } from '../shared/json.js';

export interface EnvelopeSignature {
  keyid: string;
  sig: string;
}

export interface Envelope {
  payload: string;
  payloadType: string;
  signatures: EnvelopeSignature[];
}

const enc = new TextEncoder();

const ENVELOPE_MEMBERS = ['payload', 'payloadType', 'signatures'];

/**
 * SHA-256 (hex) of an envelope's RFC 8785 bytes, as sha256Hex(canonicalBytes(envelope)) gives
 * it. A plain object of exactly payload, payloadType and signatures whose payload is canonical
 * base64 (nothing in it JSON escapes) is hashed in three parts, the payload as it is, without
 * writing the canonical text of its tens of kilobytes first; anything else is canonicalised
 * whole.
 */
export function envelopeSha256(envelope: object): string {
  const e = envelope as Partial<Record<string, unknown>>;
  const keys = Object.keys(e);
  if (
    Object.getPrototypeOf(e) === Object.prototype &&
    keys.length === ENVELOPE_MEMBERS.length &&
    ENVELOPE_MEMBERS.every((k) => Object.hasOwn(e, k)) &&
    typeof e.payload === 'string' &&
    typeof e.payloadType === 'string' &&
    canonicalBase64(e.payload) !== null
  ) {
    let rest: string | null = null;
    try {
      // `{"payloadType":…,"signatures":…}`: the members that sort after payload.
      rest = canonicalize({ payloadType: e.payloadType, signatures: e.signatures });
    } catch {
      // not canonical JSON: canonicalBytes below says why, as for any other envelope
    }
    if (rest !== null)
      return createHash('sha256')
        .update('{"payload":"', 'latin1')
        .update(e.payload, 'latin1')
        .update(`",${rest.slice(1)}`, 'utf8')
        .digest('hex');
  }
  return sha256Hex(canonicalBytes(e));
}

/** Pre-Authentication Encoding of DSSE v1. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
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

/**
 * Canonical base64, as DSSE allows it: standard with padding, or URL-safe without. Either way the
 * text must be the one encoding of its bytes (it re-encodes to itself): no missing or extra
 * padding, no non-zero padding bits, no whitespace, no mixed alphabets.
 */
export function decodeBase64(s: string, field: string): Uint8Array {
  const canonical = canonicalBase64(s);
  if (canonical) return new Uint8Array(canonical);
  const url = Buffer.from(s, 'base64url');
  if (url.toString('base64url') === s) return new Uint8Array(url);
  throw new VerificationError('MALFORMED', `dsse: ${field} is not canonical base64 (standard padded, or URL-safe unpadded)`, { field });
}

/** A payload made ready to be signed, once for any number of signatures: its PAE bytes and its base64. */
export interface PreparedPayload {
  payloadType: string;
  pae: Uint8Array;
  /** The payload in base64, made by Node's encoder (nothing in it needs JSON escaping). */
  base64: string;
  /** That string's JSON text as UTF-8 bytes (base64Text), for answers that carry the envelope. */
  json: Buffer;
}

export function preparePayload(payload: Uint8Array, payloadType: string): PreparedPayload {
  const { base64, json } = base64Text(payload);
  return { payloadType, pae: pae(payloadType, payload), base64, json };
}

/** Signs `payload` and returns a one-signature envelope; keyid is the signer's SKI in hex. */
export async function signEnvelope(payload: Uint8Array, payloadType: string, signer: Signer): Promise<Envelope> {
  return signPrepared(preparePayload(payload, payloadType), signer);
}

/** signEnvelope for a prepared payload (the envelope's payload is the prepared base64 string itself). */
export async function signPrepared(p: PreparedPayload, signer: Signer): Promise<Envelope> {
  const sig = await signer.sign(p.pae);
  return {
    payload: p.base64,
    payloadType: p.payloadType,
    signatures: [{ keyid: toHex(signer.subjectKeyIdentifier), sig: Buffer.from(sig).toString('base64') }],
  };
}

export interface EnvelopeVerified {
  ok: true;
  payload: Uint8Array;
  payloadType: string;
  /** certificates whose key verified a signature, in signature order */
  signers: Certificate[];
}

export interface EnvelopeRejected {
  ok: false;
  error: VerificationError;
}

export type EnvelopeVerification = EnvelopeVerified | EnvelopeRejected;

function assertEnvelope(e: unknown): asserts e is Envelope {
  const bad = (field: string): never => {
    throw new VerificationError('MALFORMED', `dsse: envelope field ${field} is missing or of the wrong type`, { field });
  };
  if (typeof e !== 'object' || e === null) bad('$');
  const o = e as Record<string, unknown>;
  if (typeof o.payload !== 'string') bad('payload');
  if (typeof o.payloadType !== 'string') bad('payloadType');
  if (!Array.isArray(o.signatures) || o.signatures.length === 0) bad('signatures');
  (o.signatures as unknown[]).forEach((s, i) => {
    if (typeof s !== 'object' || s === null || typeof (s as EnvelopeSignature).sig !== 'string') bad(`signatures[${i}].sig`);
    const keyid = (s as { keyid?: unknown }).keyid;
    if (keyid !== undefined && typeof keyid !== 'string') bad(`signatures[${i}].keyid`);
  });
}

/**
 * Verifies every signature of the envelope. All must verify (a signature we cannot attribute
 * is UNKNOWNKEY; one that fails is BADSIG), with at least one signature present. `caches`: the
 * caller's memos (parsed certificates, verified signatures); absent, nothing is kept.
 */
export function verifyEnvelope(
  envelope: unknown,
  candidates: readonly CertificateInput[],
  caches?: VerificationCaches,
): EnvelopeVerification {
  try {
    assertEnvelope(envelope);
    const certs = candidates.map((c) => parseCertificate(c, caches?.certificates));
    const payload = decodeBase64(envelope.payload, 'payload');
    const signers: Certificate[] = [];
    const message = pae(envelope.payloadType, payload);
    envelope.signatures.forEach((s, i) => {
      const keyid = s.keyid ? s.keyid.toLowerCase() : '';
      const pool = keyid ? certs.filter((c) => c.subjectKeyIdentifier === keyid) : certs;
      const sig = decodeBase64(s.sig, `signatures[${i}].sig`);
      if (pool.length === 0) {
        throw new VerificationError('UNKNOWNKEY', `dsse: signatures[${i}]: no candidate with keyid ${keyid}`, {
          subjectKeyIdentifier: keyid,
        });
      }
      const match = pool.find((c) => algorithmOfKey(c.publicKey).ok && verifyRaw(c.publicKey, 'sha256', message, sig, undefined, caches));
      if (!match) {
        throw new VerificationError(keyid ? 'BADSIG' : 'UNKNOWNKEY', `dsse: signatures[${i}] does not verify`, {
          subjectKeyIdentifier: keyid || undefined,
        });
      }
      signers.push(match);
    });
    return { ok: true, payload, payloadType: envelope.payloadType, signers };
  } catch (e) {
    if (e instanceof VerificationError) return { ok: false, error: e };
    throw e;
  }
}
