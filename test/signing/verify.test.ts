import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { manifestLeafHash } from '../../src/signing/verify.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { hashLeaf } from '../../src/signing/tlog/index.js';

const fresh = (e: unknown) => hashLeaf(canonicalBytes(e as never));
const env = { payload: 'eyJhIjoxfQ==', payloadType: 'application/vnd.in-toto+json', signatures: [{ keyid: 'ab', sig: 'MEUC' }] };

describe('manifestLeafHash', () => {
  it('is the leaf hash of the envelope\'s canonical JSON, asked once or again', () => {
    assert.deepEqual(manifestLeafHash(env), fresh(env));
    assert.deepEqual(manifestLeafHash(structuredClone(env)), fresh(env));
  });

  it('gives every distinct envelope its own leaf, however the texts are split between fields', () => {
    const variants: unknown[] = [
      env,
      { ...env, signatures: [{ sig: 'MEUC' }] },
      { ...env, signatures: [{ keyid: '', sig: 'MEUC' }] },
      { ...env, signatures: [{ keyid: 'a', sig: 'bMEUC' }] },
      { ...env, payloadType: 'application/vnd.in-toto+jso', payload: `n${env.payload}` },
      { ...env, signatures: [{ keyid: 'ab', sig: 'MEUC' }, { keyid: 'ab', sig: 'MEUC' }] },
      { ...env, signatures: [] },
      { ...env, payload: 'eyJhIjoyfQ==' },
    ];
    const seen = new Set<string>();
    for (const v of variants) {
      const h = manifestLeafHash(v);
      assert.deepEqual(h, fresh(v), JSON.stringify(v));
      seen.add(Buffer.from(h).toString('hex'));
    }
    assert.equal(seen.size, variants.length);
  });

  it('hashes other shapes every time, extra members included, and refuses what has no canonical form', () => {
    const extra = { ...env, note: 'x' };
    assert.deepEqual(manifestLeafHash(extra), fresh(extra));
    assert.notDeepEqual(manifestLeafHash(extra), fresh(env));
    const extraSig = { ...env, signatures: [{ keyid: 'ab', sig: 'MEUC', x: 1 }] };
    assert.deepEqual(manifestLeafHash(extraSig), fresh(extraSig));
    assert.throws(() => manifestLeafHash({ ...env, signatures: [{ keyid: undefined, sig: 'MEUC' }] }), /canonical/);
  });

  it('hands out a copy: changing one answer does not change the next', () => {
    const a = manifestLeafHash(env);
    a.fill(0);
    assert.deepEqual(manifestLeafHash(env), fresh(env));
  });
});
