/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by the UTF-16 code units of
 * their names, no whitespace, strings escaped as ECMAScript JSON.stringify does, numbers
 * serialised as ECMAScript Number-to-String does (so -0 → "0", 1e21 → "1e+21"). Values JSON cannot
 * carry (NaN, ±Infinity, undefined, functions, symbols, bigint, lone surrogates) are refused.
 */
import { SigningError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** String.prototype.isWellFormed (ES2024): false when the string holds a lone surrogate. */
const wellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

function fail(path: string, what: string): never {
  throw new SigningError('CANONICAL_INVALID', `canonical: ${path}: ${what}`, { field: path });
}

function str(s: string, path: string): string {
  if (!wellFormed(s)) fail(path, 'string contains a lone surrogate');
  return JSON.stringify(s);
}

function serialize(v: unknown, path: string, depth: number): string {
  if (depth > 512) fail(path, 'nesting deeper than 512');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) fail(path, `number ${v} has no JSON form`);
      return JSON.stringify(v);
    case 'string':
      return str(v, path);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => serialize(x, `${path}[${i}]`, depth + 1)).join(',')}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) fail(path, `${proto?.constructor?.name ?? 'object'} is not a plain object`);
      const keys = Object.keys(v).sort(); // Array.prototype.sort compares UTF-16 code units
      return `{${keys.map((k) => `${str(k, path)}:${serialize((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1)}`).join(',')}}`;
    }
    default:
      return fail(path, `${typeof v} has no JSON form`);
  }
}

/** Thrown by sortedCopy at what only serialize() handles; serialize() then writes it or says where it fails. */
const REFUSED = Symbol('refused');

/** Array indices: JavaScript orders such keys numerically whatever the insertion order, RFC 8785 by code units. */
const INDEX_KEY = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * A copy of `v` whose objects have their members inserted in RFC 8785 order, for one
 * JSON.stringify over the whole value (its output then is the canonical text: same escaping, same
 * number form). Refuses what only the member-by-member serializers handle: index-like keys,
 * which objects would reorder, "__proto__", which a plain object cannot hold as a member, and
 * everything JSON.stringify would drop or change silently.
 */
function sortedCopy(v: unknown, depth: number): unknown {
  if (depth > 512) throw REFUSED;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw REFUSED;
      return v;
    case 'string':
      if (!wellFormed(v)) throw REFUSED;
      return v;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) {
        const a = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) a[i] = sortedCopy(v[i], depth + 1);
        return a;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw REFUSED;
      const keys = sortKeys(Object.keys(v));
      const o: Record<string, unknown> = {};
      for (const k of keys) {
        if (INDEX_KEY.test(k) || k === '__proto__' || !wellFormed(k)) throw REFUSED;
        o[k] = sortedCopy((v as Record<string, unknown>)[k], depth + 1);
      }
      return o;
    }
    default:
      throw REFUSED;
  }
}

/**
 * Sorts member names in place by UTF-16 code units (what Array.prototype.sort does with no
 * comparator, and what `<` compares). By insertion: objects have a handful of members, and the
 * built-in sort allocated a work copy per object (a third of canonicalize's garbage).
 */
function sortKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** The canonical JSON text of `value`. */
export function canonicalize(value: unknown): string {
  try {
    return JSON.stringify(sortedCopy(value, 0));
  } catch (e) {
    if (e !== REFUSED) throw e;
    return serialize(value, '$', 0); // index-like or __proto__ names; or throws CANONICAL_INVALID naming the path
  }
}

/** The canonical JSON of `value` as UTF-8 bytes (what gets hashed and signed). */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}
