/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by the UTF-16 code units of
 * their names, no whitespace, strings escaped as ECMAScript JSON.stringify does, numbers
 * serialised as ECMAScript Number-to-String does (so -0 → "0", 1e21 → "1e+21"). Values JSON cannot
 * carry (NaN, ±Infinity, undefined, functions, symbols, bigint, lone surrogates) are refused.
 */
import { SigningError } from './errors.js';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function fail(path, what) {
    throw new SigningError('CANONICAL_INVALID', `canonical: ${path}: ${what}`, { field: path });
}
function str(s, path) {
    if (LONE_SURROGATE.test(s))
        fail(path, 'string contains a lone surrogate');
    return JSON.stringify(s);
}
function serialize(v, path, depth) {
    if (depth > 512)
        fail(path, 'nesting deeper than 512');
    if (v === null)
        return 'null';
    switch (typeof v) {
        case 'boolean':
            return v ? 'true' : 'false';
        case 'number':
            if (!Number.isFinite(v))
                fail(path, `number ${v} has no JSON form`);
            return JSON.stringify(v);
        case 'string':
            return str(v, path);
        case 'object': {
            if (Array.isArray(v))
                return `[${v.map((x, i) => serialize(x, `${path}[${i}]`, depth + 1)).join(',')}]`;
            const proto = Object.getPrototypeOf(v);
            if (proto !== Object.prototype && proto !== null)
                fail(path, `${proto?.constructor?.name ?? 'object'} is not a plain object`);
            const keys = Object.keys(v).sort(); // Array.prototype.sort compares UTF-16 code units
            return `{${keys.map((k) => `${str(k, path)}:${serialize(v[k], `${path}.${k}`, depth + 1)}`).join(',')}}`;
        }
        default:
            return fail(path, `${typeof v} has no JSON form`);
    }
}
/** The canonical JSON text of `value`. */
export function canonicalize(value) {
    return serialize(value, '$', 0);
}
/** The canonical JSON of `value` as UTF-8 bytes (what gets hashed and signed). */
export function canonicalBytes(value) {
    return new TextEncoder().encode(canonicalize(value));
}
//# sourceMappingURL=canonical.js.map