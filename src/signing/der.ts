/**
 * A minimal, bounds-checked DER reader: just enough to take the raw bytes of a
 * `tbsCertificate`/`tbsCertList` and to convert ECDSA signatures. Everything else is parsed by
 * @peculiar/asn1-schema. Throws VerificationError('MALFORMED') on any inconsistency.
 */
import { VerificationError } from './errors.js';

export interface Tlv {
  tag: number;
  /** offset of the tag byte */
  start: number;
  /** offset of the first content byte */
  contentStart: number;
  /** offset one past the last content byte */
  end: number;
}

/** Reads one TLV at `offset`, requiring it to lie within `limit` (default: end of `bytes`). Single-byte tags only. */
export function readTlv(bytes: Uint8Array, offset: number, limit = bytes.length): Tlv {
  const fail = (why: string): never => {
    throw new VerificationError('MALFORMED', `der: ${why} at offset ${offset}`, { offset });
  };
  if (offset + 2 > limit) fail('truncated header');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) fail('multi-byte tag');
  let p = offset + 1;
  let len = bytes[p++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) fail(`unsupported length of length ${n}`);
    if (p + n > limit) fail('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[p++];
  }
  if (p + len > limit) fail(`length ${len} past end`);
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** Children of a constructed TLV. */
export function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const t = readTlv(bytes, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** For `SEQUENCE { tbs, algorithm, BIT STRING }` (certificate, CRL): the raw DER of `tbs` and the signature bits. */
export function signedStructure(der: Uint8Array): { tbs: Uint8Array; signature: Uint8Array } {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) {
    throw new VerificationError('MALFORMED', 'der: signed structure is not a single SEQUENCE');
  }
  const parts = children(der, outer);
  if (parts.length !== 3 || parts[0].tag !== 0x30 || parts[2].tag !== 0x03 || parts[2].end - parts[2].contentStart < 2) {
    throw new VerificationError('MALFORMED', 'der: signed structure must be SEQUENCE { tbs, algorithm, BIT STRING }');
  }
  if (der[parts[2].contentStart] !== 0) throw new VerificationError('MALFORMED', 'der: signature BIT STRING has unused bits');
  return { tbs: der.subarray(parts[0].start, parts[0].end), signature: der.subarray(parts[2].contentStart + 1, parts[2].end) };
}

function encodeLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | bytes.length, ...bytes];
}

function derInteger(unsigned: Uint8Array): number[] {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = Array.from(unsigned.subarray(i));
  if (v[0] & 0x80) v.unshift(0);
  return [0x02, ...encodeLength(v.length), ...v];
}

/** IEEE P1363 `r ‖ s` (WebCrypto, PKCS#11) → DER `Ecdsa-Sig-Value` (CMS, X.509, the kernel's x962 encoding). */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0)
    throw new VerificationError('MALFORMED', `ecdsa: raw signature of odd length ${raw.length}`);
  const half = raw.length / 2;
  const body = [...derInteger(raw.subarray(0, half)), ...derInteger(raw.subarray(half))];
  return Uint8Array.from([0x30, ...encodeLength(body.length), ...body]);
}

/** DER `Ecdsa-Sig-Value` → `r ‖ s`, each left-padded to `size` bytes. */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array {
  const seq = readTlv(der, 0);
  if (seq.tag !== 0x30 || seq.end !== der.length) throw new VerificationError('MALFORMED', 'ecdsa: signature is not a SEQUENCE');
  const ints = children(der, seq);
  if (ints.length !== 2 || ints.some((t) => t.tag !== 0x02))
    throw new VerificationError('MALFORMED', 'ecdsa: signature must hold two INTEGERs');
  const out = new Uint8Array(2 * size);
  ints.forEach((t, k) => {
    let v = der.subarray(t.contentStart, t.end);
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new VerificationError('MALFORMED', `ecdsa: integer longer than ${size} bytes`);
    out.set(v, k * size + size - v.length);
  });
  return out;
}
