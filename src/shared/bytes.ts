/** Byte helpers shared by every layer; nothing domain-specific. */
import { hash } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  // Node's encoder for anything but a few bytes (its call costs more than the table only for short input).
  if (bytes.length > 48) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) throw new TypeError(`invalid hex string of length ${hex.length}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** SHA-256 of bytes (one-shot, as sha256Hex). */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha256', bytes, 'buffer'));
}

/**
 * The bytes of `s` when it is canonical padded base64 (it re-encodes to itself), else null. A
 * decode and an encode in C++: several times faster than a pattern over tens of kilobytes, so
 * base64 checks try it first and fall back to their own pattern.
 */
export function canonicalBase64(s: string): Buffer | null {
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

/** SHA-256 of bytes, lower-case hex. */
export function sha256Hex(bytes: Uint8Array): string {
  // One-shot: no Hash object, which the scavenger would have to track (measured: 1/15 of the GC time).
  return hash('sha256', bytes, 'hex');
}
