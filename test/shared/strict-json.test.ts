import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { JsonParseError, locateError, parseJsonStrict } from '../../src/shared/strict-json.js';

/** A small deterministic generator of JSON values (and texts with odd spacing and escapes). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const NAMES = ['a', 'b', 'scheme', '', 'a b', 'é', '\u0000', '"', '\\', '__proto__', 'constructor', 'x'.repeat(40), '\ud800', '😀'];

function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 5 : 8));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -0, 1.5, -1e-7, 1e21, 123456789012, -3][Math.floor(r() * 7)];
    case 3:
      return NAMES[Math.floor(r() * NAMES.length)] + String.fromCharCode(Math.floor(r() * 0x80));
    case 4:
      return Buffer.from(Array.from({ length: Math.floor(r() * 60) }, () => Math.floor(r() * 256))).toString('base64');
    case 5:
    case 6: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 16);
      for (let i = 0; i < n; i++) {
        const name = r() < 0.5 ? NAMES[Math.floor(r() * NAMES.length)] : `k${Math.floor(r() * 30)}`;
        Object.defineProperty(o, name, { value: value(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    default:
      return Array.from({ length: Math.floor(r() * 5) }, () => value(r, depth + 1));
  }
}

/** JSON text of v with random whitespace and, in member names, random \u escapes. */
function text(v: unknown, r: () => number): string {
  const sp = () => [' ', '', '\n', '\t ', '\r\n'][Math.floor(r() * 5)];
  const str = (s: string) =>
    r() < 0.3 ? `"${[...s].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"` : JSON.stringify(s);
  if (Array.isArray(v)) return `[${sp()}${v.map((x) => text(x, r)).join(`${sp()},${sp()}`)}${sp()}]`;
  if (v !== null && typeof v === 'object')
    return `{${sp()}${Object.keys(v)
      .map((k) => `${str(k)}${sp()}:${sp()}${text((v as Record<string, unknown>)[k], r)}`)
      .join(`,${sp()}`)}${sp()}}`;
  return JSON.stringify(v);
}

const rejects = (t: string, code: string, path?: string, offset?: number) =>
  assert.throws(
    () => parseJsonStrict(t),
    (e: unknown) => {
      assert.ok(e instanceof JsonParseError, String(e));
      assert.equal(e.code, code, e.message);
      if (path !== undefined) assert.equal(e.path, path, e.message);
      if (offset !== undefined) assert.equal(e.offset, offset, e.message);
      return true;
    },
    t,
  );

describe('parseJsonStrict', () => {
  it("gives JSON.parse's value for thousands of generated documents", () => {
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const t = text(value(r, 0), r);
      const want = JSON.parse(t);
      assert.deepStrictEqual(parseJsonStrict(t), want, t);
      assert.equal(JSON.stringify(parseJsonStrict(t)), JSON.stringify(want), t);
    }
  });

  it("gives JSON.parse's value for the project's own JSON files", () => {
    for (const f of ['catalog.json']) {
      const t = readFileSync(join(FIXTURES, f), 'utf8');
      assert.deepStrictEqual(parseJsonStrict(t), JSON.parse(t));
    }
    for (const t of [
      '0',
      '-0',
      '"x"',
      ' true ',
      'null',
      '[]',
      '{}',
      '[{}]',
      '{"a":{"a":{"a":1}}}',
      '{"a":[{"b":1},{"b":2}]}',
      '"\\\\"',
      '{"\\\\":1,"\\"":2}',
    ]) {
      assert.deepStrictEqual(parseJsonStrict(t), JSON.parse(t), t);
    }
  });

  it('refuses a duplicate member name at the top, naming it, its path and its offset', () => {
    rejects('{"a":1,"a":2}', 'JSON_DUPLICATE_KEY', '$.a', 7);
  });

  it('refuses duplicates at every depth, inside arrays too, with the path to them', () => {
    rejects('{"bundle":{"scheme":"x","loader":{},"scheme":"y"}}', 'JSON_DUPLICATE_KEY', '$.bundle.scheme');
    rejects('{"a":[1,{"b":[{},{"c":1,"c":1}]}]}', 'JSON_DUPLICATE_KEY', '$.a[1].b[1].c');
    rejects('[[],[0,{"x y":0,"x y":1}]]', 'JSON_DUPLICATE_KEY', '$[1][1]["x y"]');
    rejects(`{${Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',')},"k39":0}`, 'JSON_DUPLICATE_KEY', '$.k39');
  });

  it('compares names decoded: an escaped spelling is the same name', () => {
    rejects('{"a":1,"\\u0061":2}', 'JSON_DUPLICATE_KEY', '$.a');
    rejects('{"\\"":1,"\\u0022":2}', 'JSON_DUPLICATE_KEY', '$["\\""]');
    rejects('{"__proto__":1,"__proto__":2}', 'JSON_DUPLICATE_KEY', '$.__proto__');
  });

  it('accepts the same name in sibling and nested objects, and as a string value', () => {
    assert.deepStrictEqual(parseJsonStrict('{"a":{"a":"a"},"b":[{"a":1},{"a":2}],"c":"\\"a\\":"}'), {
      a: { a: 'a' },
      b: [{ a: 1 }, { a: 2 }],
      c: '"a":',
    });
  });

  it('refuses what JSON.parse refuses, with JSON_INVALID and where', () => {
    const bad = [
      '',
      ' ',
      '{',
      '}',
      '[1,]',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      "{'a':1}",
      '[01]',
      '[1.]',
      '[.5]',
      '[+1]',
      '[1e]',
      '"\\x"',
      '"\u0001"',
      '"abc',
      'tru',
      'nul',
      '[1 2]',
      '{"a":1}x',
      '\ufeff{}',
      '[NaN]',
      '"\\u12G4"',
      '{"a":[}',
      '[[[[[[',
    ];
    for (const t of bad) {
      assert.throws(() => JSON.parse(t), SyntaxError, t);
      rejects(t, 'JSON_INVALID');
    }
    rejects('{"a":[1,2,}', 'JSON_INVALID', '$.a[2]', 10);
    rejects('{"a":{"b":tru}}', 'JSON_INVALID', '$.a.b', 10);
    rejects('{"a":1,"b":"\u0002"}', 'JSON_INVALID', '$.b', 12);
  });

  it('agrees with JSON.parse on thousands of mutated documents: both accept (the same value) or both refuse', () => {
    const r = rng(11);
    const alphabet = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '1', 'e', '-', '.', 'u', 'a', 'n'];
    for (let i = 0; i < 5000; i++) {
      let t = text(value(r, 3), r);
      const at = Math.floor(r() * (t.length + 1));
      const op = Math.floor(r() * 3);
      const ch = alphabet[Math.floor(r() * alphabet.length)];
      t =
        op === 0 ? t.slice(0, at) + ch + t.slice(at) : op === 1 ? t.slice(0, at) + t.slice(at + 1) : t.slice(0, at) + ch + t.slice(at + 1);
      let want: unknown,
        ok = true;
      try {
        want = JSON.parse(t);
      } catch {
        ok = false;
      }
      if (ok) {
        try {
          assert.deepStrictEqual(parseJsonStrict(t), want, t);
        } catch (e) {
          assert.equal((e as JsonParseError).code, 'JSON_DUPLICATE_KEY', t);
        }
      } else {
        rejects(t, 'JSON_INVALID');
        assert.notEqual(locateError(t), null, `the validating scan finds the error in ${JSON.stringify(t)}`);
      }
    }
  });

  it('reads deeply nested documents without running out of stack', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.ok(Array.isArray(parseJsonStrict(deep)));
    rejects('['.repeat(100_000), 'JSON_INVALID');
  });
});
