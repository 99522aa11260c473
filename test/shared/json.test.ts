import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { jsonReplacer, jsonTexts, toPlainJson } from '../../src/shared/json.js';
import { buildLoader } from '../../src/service/loader.js';
import { isLoaderError, type LoaderErrorCode } from '../../src/loader/errors.js';

/** The definition toPlainJson must agree with. */
const viaText = (v: unknown) => JSON.parse(JSON.stringify(v, jsonReplacer) as string) as unknown;

/** deepStrictEqual, plus the same key order and the same own "__proto__" members. */
function same(v: unknown, what: string): void {
  const a = toPlainJson(v),
    b = viaText(v);
  assert.deepStrictEqual(a, b, what);
  assert.equal(JSON.stringify(a), JSON.stringify(b), what);
}

class Point {
  constructor(
    public x: number,
    public y = -0,
  ) {}
  get norm(): number {
    return 1;
  }
}

describe('toPlainJson', () => {
  it('gives what the JSON text round trip gives, for every kind of value JSON.stringify treats specially', () => {
    const sparse: unknown[] = [1];
    sparse[2] = 3; // a hole at index 1
    const poisoned = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as unknown;
    const cases: [string, unknown][] = [
      ['scalars', [0, -0, 1.5, -1e21, 1e-7, NaN, Infinity, -Infinity, true, false, null, '', 'é\u2028\ud800x']],
      [
        'bigints and bytes',
        { a: 1n, b: -(2n ** 70n), c: new Uint8Array([0, 1, 255]), d: Buffer.from('hi'), e: new Uint8Array(new ArrayBuffer(8), 2, 3) },
      ],
      ['left out of objects, null in arrays', { u: undefined, f: () => 1, s: Symbol('x'), arr: [undefined, () => 1, Symbol('y')], sparse }],
      [
        'toJSON, dates, classes, maps',
        { d: new Date(0), p: new Point(2), m: new Map([[1, 2]]), set: new Set([1]), t: { toJSON: (k: string) => `key ${k}` } },
      ],
      ['other typed arrays as index objects', { u32: new Uint32Array([1, 2]), f64: new Float64Array([-0, NaN]) }],
      ['integer-like keys', { b: 1, 2: 'two', a: 3, 1: 'one', '-1': 'neg' }],
      ['own __proto__ members', poisoned],
      ['boxed primitives (through the text)', { n: Object(1), s: Object('s'), b: Object(false) }],
      ['nesting', { a: [{ b: [{ c: [1n, new Uint8Array([7])] }] }] }],
    ];
    for (const [what, v] of cases) same(v, what);
    assert.equal((toPlainJson(poisoned) as { polluted?: boolean }).polluted, undefined, 'an own member, not the prototype');
  });

  it('gives what the text round trip gives for the plan and manifest of every fixture object, and the loader refuses only the known ones', () => {
    // Objects the loader refuses, with the code it refuses them with (the reasons are tested under test/loader).
    const refusedWith: Record<string, LoaderErrorCode> = {
      'ksyms.clang-el.o': 'OBJECT_UNSUPPORTED', // a typeless ksym with no address given
      'struct_ops.clang-el.o': 'OBJECT_UNSUPPORTED', // struct_ops maps
      'struct_ops.gcc-el.o': 'OBJECT_UNSUPPORTED',
      'subprogs.gcc-el.o': 'OBJECT_MALFORMED', // a call target GCC emits between functions
    };
    const files = readdirSync(join(FIXTURES, 'obj'))
      .filter((f) => f.endsWith('-el.o'))
      .sort();
    assert.deepEqual(
      Object.keys(refusedWith).filter((f) => !files.includes(f)),
      [],
      'every expected refusal names a fixture',
    );
    const options = { scheme: 'linux-6.18', name: 'x', flavour: 'v1.7', standalone: false, mapExcl: false, host: {} } as const;
    let compared = 0;
    for (const file of files) {
      const build = () => buildLoader(readFileSync(join(FIXTURES, 'obj', file)), file, options);
      const code = refusedWith[file];
      if (code) {
        assert.throws(build, (e) => isLoaderError(e) && e.code === code, `${file}: refused with ${code}`);
        continue;
      }
      const built = build();
      same(built.plan, `${file} plan`);
      same(built.manifest, `${file} manifest`);
      compared++;
    }
    assert.equal(compared, files.length - Object.keys(refusedWith).length);
    assert.ok(compared > 0, 'at least one fixture object was compared');
  });

  it('fails as JSON.stringify does: a cycle, or nothing JSON can carry at the top', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => toPlainJson(cyclic), TypeError);
    assert.throws(() => toPlainJson(undefined), SyntaxError);
    const shared = { x: 1 };
    same({ a: shared, b: [shared, shared] }, 'a value seen twice is not a cycle');
  });
});

describe('jsonTexts', () => {
  it('keeps the bytes JSON.stringify gives each string, escapes and non-ASCII included', () => {
    const b64 = Buffer.from(Array.from({ length: 3000 }, (_, i) => i * 7)).toString('base64');
    const strings = [b64, 'a"b', 'back\\slash', 'line\nbreak', '\u0001', '\ud800', 'é—', ''];
    const texts = jsonTexts(strings);
    assert.equal(texts.size, strings.length);
    for (const s of strings) assert.deepEqual(texts.get(s), Buffer.from(JSON.stringify(s), 'utf8'), JSON.stringify(s));
    assert.deepEqual(texts.get(b64.slice(0, -4) + b64.slice(-4)), Buffer.from(`"${b64}"`), 'found by an equal string made apart');
    assert.equal(texts.get('QUJD'), undefined);
  });
});
