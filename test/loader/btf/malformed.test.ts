import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BtfBuilder, parseBtf, type Btf } from '../../../src/loader/btf/index.js';
import { LoaderError } from '../../../src/loader/errors.js';

/** A small valid BTF: [1] int, [2] ptr -> 1, [3] struct s { int a; int *p; }, [4] typedef t -> 3. */
function sample(order: 'little' | 'big' = 'little'): Uint8Array {
  const b = new BtfBuilder();
  const int = b.add({ kind: 'INT', name: 'int', size: 4, encoding: 1 });
  const ptr = b.add({ kind: 'PTR', type: int });
  const st = b.add({
    kind: 'STRUCT',
    name: 's',
    size: 16,
    members: [
      { name: 'a', type: int, bitOffset: 0 },
      { name: 'p', type: ptr, bitOffset: 64 },
    ],
  });
  b.add({ kind: 'TYPEDEF', name: 't', type: st });
  return b.toBytes({ byteOrder: order });
}

// Offsets inside sample(): header 24 bytes; [1] INT at 24 (16 bytes), [2] PTR at 40 (12),
// [3] STRUCT at 52 (12 + 2*12), [4] TYPEDEF at 88 (12); types end at 100.
const T1 = 24,
  T2 = 40,
  T3 = 52,
  T4 = 88;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function expectMalformed(bytes: Uint8Array, want: { field: string; typeId?: number }): LoaderError {
  let err: unknown;
  try {
    parseBtf(bytes);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof LoaderError, `expected LoaderError, got ${String(err)}`);
  assert.equal(err.code, 'BTF_MALFORMED', err.message);
  assert.equal(err.details.field, want.field, err.message);
  if (want.typeId !== undefined) {
    assert.equal(err.details.typeId, want.typeId, err.message);
    assert.match(err.message, new RegExp(`\\[${want.typeId}\\]`));
  }
  return err;
}

describe('parseBtf', () => {
  it('accepts the unmodified sample in both byte orders', () => {
    for (const order of ['little', 'big'] as const) {
      const btf = parseBtf(sample(order));
      assert.equal(btf.typeCount, 4);
      assert.equal(btf.byteOrder, order);
      assert.equal(btf.sizeOf(4), 16);
    }
  });

  describe('when the magic is wrong', () => {
    it('throws BTF_MALFORMED naming the magic', () => {
      const b = sample();
      b[0] = 0x12;
      expectMalformed(b, { field: 'magic' });
    });
  });

  describe('when hdr_len is past the end of the data', () => {
    it('throws BTF_MALFORMED naming hdr_len', () => {
      const b = sample();
      dv(b).setUint32(4, b.length + 1, true);
      expectMalformed(b, { field: 'hdr_len' });
    });
  });

  describe('when hdr_len is longer than known and the extra bytes are not zero', () => {
    it('accepts zero extra bytes but rejects non-zero ones', () => {
      const base = sample();
      const grown = new Uint8Array(base.length + 8);
      grown.set(base.subarray(0, 24));
      grown.set(base.subarray(24), 32);
      dv(grown).setUint32(4, 32, true);
      const btf = parseBtf(grown);
      assert.equal(btf.typeCount, 4);
      assert.deepEqual(btf.toBytes(), grown);
      grown[29] = 1;
      expectMalformed(grown, { field: 'hdr_len' });
    });
  });

  describe('when the version is not 1', () => {
    it('throws BTF_MALFORMED naming the version', () => {
      const b = sample();
      b[2] = 2;
      expectMalformed(b, { field: 'version' });
    });
  });

  describe('when the data is shorter than a header', () => {
    it('throws BTF_MALFORMED for every prefix', () => {
      const b = sample();
      for (let n = 0; n < 24; n++) expectMalformed(b.subarray(0, n), { field: 'header' });
    });
  });

  describe('when a name offset is past the end of the string section', () => {
    it('throws BTF_MALFORMED naming the type id and field', () => {
      const b = sample();
      dv(b).setUint32(T4, 0x100000, true);
      expectMalformed(b, { field: 'name_off', typeId: 4 });
    });
    it('names the member field for a member name', () => {
      const b = sample();
      dv(b).setUint32(T3 + 12 + 12, 0x100000, true);
      expectMalformed(b, { field: 'member.name_off', typeId: 3 });
    });
  });

  describe('when the type section is truncated mid-type', () => {
    it('throws BTF_MALFORMED naming the last type', () => {
      const b = sample();
      // Drop the last 4 bytes of the type section: shrink type_len, move the string section down.
      const typeLen = dv(b).getUint32(12, true);
      const strOff = dv(b).getUint32(16, true);
      const cut = new Uint8Array(b.length - 4);
      cut.set(b.subarray(0, 24 + typeLen - 4));
      cut.set(b.subarray(24 + strOff), 24 + typeLen - 4);
      dv(cut).setUint32(12, typeLen - 4, true);
      dv(cut).setUint32(16, strOff - 4, true);
      expectMalformed(cut, { field: 'type', typeId: 4 });
    });
  });

  describe('when a vlen is huge', () => {
    it('throws BTF_MALFORMED naming the type and vlen', () => {
      const b = sample();
      const info = dv(b).getUint32(T3 + 4, true);
      dv(b).setUint32(T3 + 4, (info & 0xffff0000) | 0xffff, true);
      const e = expectMalformed(b, { field: 'vlen', typeId: 3 });
      assert.match(e.message, /65535/);
    });
  });

  describe('when a type id reference is out of range', () => {
    it('throws BTF_MALFORMED naming the type id and field for a pointer', () => {
      const b = sample();
      dv(b).setUint32(T2 + 8, 5, true);
      expectMalformed(b, { field: 'type', typeId: 2 });
    });
    it('names member.type for a struct member', () => {
      const b = sample();
      dv(b).setUint32(T3 + 12 + 4, 1000, true);
      expectMalformed(b, { field: 'member.type', typeId: 3 });
    });
  });

  describe('when the string section is not NUL-terminated', () => {
    it('throws BTF_MALFORMED naming str_len', () => {
      const b = sample();
      b[b.length - 1] = 0x41;
      expectMalformed(b, { field: 'str_len' });
    });
  });

  describe('when the string section does not start with NUL', () => {
    it('throws BTF_MALFORMED naming str_off', () => {
      const b = sample();
      b[24 + dv(b).getUint32(16, true)] = 0x41;
      expectMalformed(b, { field: 'str_off' });
    });
  });

  describe('when a kind is unknown', () => {
    it('throws BTF_MALFORMED naming the kind and type', () => {
      const b = sample();
      dv(b).setUint32(T2 + 4, 25 << 24, true);
      expectMalformed(b, { field: 'kind', typeId: 2 });
    });
  });

  describe('when sections overlap or leave a gap', () => {
    it('throws BTF_MALFORMED for an overlap', () => {
      const b = sample();
      dv(b).setUint32(16, 4, true);
      expectMalformed(b, { field: 'str_off' });
    });
    it('throws BTF_MALFORMED for a section past the end', () => {
      const b = sample();
      dv(b).setUint32(20, 0x1000, true);
      expectMalformed(b, { field: 'str_len' });
    });
  });

  describe('when INT encoding data is invalid', () => {
    it('throws BTF_MALFORMED naming int_data', () => {
      const b = sample();
      dv(b).setUint32(T1 + 12, 0x21, true); // 33 bits in a 4-byte int
      expectMalformed(b, { field: 'int_data', typeId: 1 });
    });
  });

  describe('for random corruptions and truncations', () => {
    it('either parses (and then dumps, sizes and re-encodes) or throws LoaderError, never anything else', () => {
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed % n;
      };
      const exercise = (btf: Btf) => {
        btf.rawDump();
        btf.toBytes();
        for (let id = 0; id < btf.totalCount; id++) {
          try {
            btf.sizeOf(id);
          } catch (e) {
            if (!(e instanceof LoaderError)) throw e;
          }
          try {
            btf.resolve(id);
          } catch (e) {
            if (!(e instanceof LoaderError)) throw e;
          }
        }
      };
      for (const order of ['little', 'big'] as const) {
        const orig = sample(order);
        for (let i = 0; i < 3000; i++) {
          const b = orig.slice(0, i % 7 === 0 ? rnd(orig.length + 1) : orig.length);
          const flips = 1 + rnd(3);
          for (let f = 0; f < flips && b.length > 0; f++) b[rnd(b.length)] = rnd(256);
          try {
            exercise(parseBtf(b));
          } catch (e) {
            assert.ok(e instanceof LoaderError, `iteration ${i}: ${String(e)}`);
          }
        }
      }
    });
  });
});
