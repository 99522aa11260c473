import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { base64Text, jsonReplacer, jsonTexts, toPlainJson } from '../../src/shared/json.js';
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

describe('base64Text and jsonTexts', () => {
  it('write the base64 Node gives and the JSON text JSON.stringify gives of it, for every length and byte', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 0xff);
      const t = base64Text(bytes);
      assert.equal(t.base64, Buffer.from(bytes).toString('base64'));
      assert.deepEqual(t.json, Buffer.from(JSON.stringify(t.base64), 'utf8'), `${n} bytes`);
    }
    const all = new Uint8Array(Array.from({ length: 256 * 3 }, (_, i) => i & 0xff));
    assert.equal(
      base64Text(all.subarray(5, 700)).base64,
      Buffer.from(all.subarray(5, 700)).toString('base64'),
      'a view of a larger buffer',
    );
  });

  it('keep each text by its string, found by an equal string made apart', () => {
    const a = base64Text(Buffer.from('some bytes')),
      b = base64Text(new Uint8Array(3000).fill(0xfb));
    const texts = jsonTexts([a, b]);
    assert.equal(texts.size, 2);
    assert.equal(texts.get(Buffer.from('some bytes').toString('base64')), a.json);
    assert.equal(texts.get(b.base64.slice(0, -4) + b.base64.slice(-4)), b.json);
    assert.equal(texts.get('QUJD'), undefined);
  });
});
