/** JSON for data that holds bigints and bytes: bigints as decimal strings, bytes as lower-case hex. */
import { toHex } from './bytes.js';

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array ? toHex(value) : value;
}

/** What the direct conversion leaves to JSON itself: cycles, boxed primitives, a top level with no JSON form. */
const UNUSUAL = Symbol('unusual');

/**
 * The plain-JSON form of a value: exactly what JSON.parse(JSON.stringify(value, jsonReplacer))
 * gives back, built directly instead of through text (manifests carry tens of kilobytes of hex
 * that the text round trip would copy and scan twice). The steps follow JSON.stringify's: toJSON
 * first, then the replacer, then -0 as 0, non-finite numbers as null, undefined, functions and
 * symbols left out of objects and null in arrays; anything unusual goes through the text.
 */
export function toPlainJson<T = unknown>(value: unknown): T {
  try {
    const v = plain({ '': value }, '', value, new Set());
    if (v !== undefined) return v as T;
  } catch (e) {
    if (e !== UNUSUAL) throw e;
  }
  return JSON.parse(JSON.stringify(value, jsonReplacer) as string) as T;
}

function plain(holder: object, key: string, value: unknown, path: Set<object>): unknown {
  if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, key);
  }
  value = jsonReplacer.call(holder, key, value);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null; // -0 + 0 is 0
    case 'object': {
      if (value === null) return null;
      if (value instanceof Number || value instanceof String || value instanceof Boolean || path.has(value)) throw UNUSUAL;
      path.add(value);
      let out: unknown;
      if (Array.isArray(value)) {
        const a: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) a[i] = plain(value, String(i), value[i], path) ?? null;
        out = a;
      } else {
        const o: Record<string, unknown> = {};
        for (const k of Object.keys(value)) {
          const v = plain(value, k, (value as Record<string, unknown>)[k], path);
          if (v === undefined) continue;
          if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
          else o[k] = v;
        }
        out = o;
      }
      path.delete(value);
      return out;
    }
    default:
      return undefined; // undefined, functions, symbols; a bigint was made a string by the replacer
  }
}

/** Strings whose JSON text was written once, kept as its UTF-8 bytes (jsonTexts). */
export type JsonTexts = ReadonlyMap<string, Buffer>;

/** Bytes in base64 (Node's encoder) and that string's JSON text as UTF-8 bytes. */
export interface Base64Text {
  base64: string;
  json: Buffer;
}

/**
 * `bytes` in base64 and its JSON text. Base64 has nothing JSON escapes, so the text is the
 * string between quotes, written as it is: made here from the bytes, the string can hold
 * nothing else, and nothing is scanned.
 */
export function base64Text(bytes: Uint8Array): Base64Text {
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const json = Buffer.allocUnsafe(base64.length + 2);
  json[0] = json[json.length - 1] = 0x22;
  json.write(base64, 1, 'latin1');
  return { base64, json };
}

/**
 * The JSON texts of base64 strings, by the string, for answers that carry the same long strings
 * again and again (a signed loader's files and manifest payload, tens of kilobytes): copied into
 * each answer as bytes, they are neither scanned for escapes nor encoded again, nor copied into
 * a string of the whole answer first.
 */
export function jsonTexts(texts: readonly Base64Text[]): JsonTexts {
  return new Map(texts.map((t) => [t.base64, t.json]));
}
