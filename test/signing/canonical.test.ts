import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalBytes, canonicalize } from '../../src/signing/index.js';

/** An IEEE-754 double from its 64-bit pattern (RFC 8785 Appendix B lists inputs this way). */
function f64(bits: string): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(`0x${bits}`));
  return b.readDoubleBE(0);
}

describe('canonicalize', () => {
  describe('with the RFC 8785 §3.2.2 example object', () => {
    it('sorts members, trims numbers and escapes strings as the RFC shows', () => {
      const input = JSON.parse(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
          ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
      );
      assert.equal(
        canonicalize(input),
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
      );
    });
  });

  describe('with the RFC 8785 §3.2.3 sorting example', () => {
    it('orders names by UTF-16 code units (so U+1F600 sorts before U+FB33)', () => {
      const input = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };
      // (not via JSON.parse: JS objects list integer-like names such as "1" first)
      assert.equal(
        canonicalize(input),
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
          '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
      );
    });
  });

  describe('with the RFC 8785 Appendix B number table', () => {
    const table: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, want] of table) {
      it(`serialises ${bits} as ${want}`, () => assert.equal(canonicalize(f64(bits)), want));
    }
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      it(`refuses ${bits} (NaN/Infinity) with CANONICAL_INVALID`, () => {
        assert.throws(() => canonicalize({ n: f64(bits) }), { code: 'CANONICAL_INVALID', details: { field: '$.n' } });
      });
    }
  });

  describe('when the value has no JSON form', () => {
    for (const [what, v] of [
      ['undefined', { a: undefined }],
      ['a function', { a: () => 1 }],
      ['a bigint', { a: 1n }],
      ['a lone high surrogate', { a: '\ud800x' }],
      ['a lone low surrogate in a key', { '\udc00': 1 }],
      ['a Date', { a: new Date(0) }],
    ] as const) {
      it(`throws CANONICAL_INVALID for ${what}`, () =>
        assert.throws(() => canonicalize(v), { name: 'SigningError', code: 'CANONICAL_INVALID' }));
    }
  });

  it('is independent of member insertion order and nests', () => {
    assert.equal(canonicalize({ b: [{ z: 1, y: 2 }], a: 'x' }), '{"a":"x","b":[{"y":2,"z":1}]}');
    assert.equal(canonicalize({ a: 'x', b: [{ y: 2, z: 1 }] }), canonicalize({ b: [{ z: 1, y: 2 }], a: 'x' }));
  });

  it('orders index-like and __proto__ member names by code units too', () => {
    assert.equal(
      canonicalize({ 9: 'nine', 10: 'ten', a: 1, '4294967296': 'big', '01': 'lead' }),
      '{"01":"lead","10":"ten","4294967296":"big","9":"nine","a":1}',
    );
    assert.equal(canonicalize(JSON.parse('{"b":1,"__proto__":{"x":[]}}')), '{"__proto__":{"x":[]},"b":1}');
  });

  it('agrees with a member-by-member reference on 2,000 random values', () => {
    // The reference: RFC 8785 §3.2 read literally (names sorted by UTF-16 code units, ES string and number forms).
    const ref = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(ref).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${ref((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const chars = ['a', 'Z', '0', '9', '"', '\\', '\n', '\u0001', '\u007f', 'é', '€', '\ud83d\ude00', '\u2028', ' '];
    const str = () => Array.from({ length: rnd(6) }, () => chars[rnd(chars.length)]).join('');
    const gen = (d: number): unknown => {
      switch (d > 3 ? rnd(4) : rnd(7)) {
        case 0:
          return str();
        case 1:
          return [0, -0, 1.5, -1e21, 1e-7, 2 ** 53, 123456789012, 0.1 + 0.2][rnd(8)];
        case 2:
          return [true, false, null][rnd(3)];
        case 3:
          return rnd(1000) - 500;
        case 4:
          return Array.from({ length: rnd(4) }, () => gen(d + 1));
        default:
          return Object.fromEntries(Array.from({ length: rnd(5) }, () => [rnd(5) === 0 ? String(rnd(20)) : str(), gen(d + 1)]));
      }
    };
    for (let i = 0; i < 2000; i++) {
      const v = gen(0);
      assert.equal(canonicalize(v), ref(v), JSON.stringify(v));
    }
  });

  it('encodes as UTF-8 bytes', () => {
    assert.deepEqual(Array.from(canonicalBytes({ '€': 1 })), [0x7b, 0x22, 0xe2, 0x82, 0xac, 0x22, 0x3a, 0x31, 0x7d]);
  });
});
