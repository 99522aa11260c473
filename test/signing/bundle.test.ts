import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isBase64Text, parseBundle } from '../../src/signing/bundle.js';

const PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

describe('isBase64Text', () => {
  it('accepts exactly what the documented pattern accepts (canonical, unpadded, odd lengths, stray characters)', () => {
    const cases = ['', 'QQ==', 'QQ', 'Q', 'QUJD', 'QUJD=', 'QUJD===', 'QU=JD', 'QUJ-', 'QUJ_', ' QUJD', 'QUJD\n', 'ü', '====', 'QQ==QQ=='];
    const alphabet = 'AB+/=\n-_z9';
    for (let i = 0; i < 5000; i++) {
      const n = i % 13;
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[(i * 7 + j * 13 + (i >> 3)) % alphabet.length];
      cases.push(s, randomBytes(i % 40).toString('base64'), randomBytes(i % 40).toString('base64').replace(/=+$/, ''));
    }
    for (const s of cases) assert.equal(isBase64Text(s), PATTERN.test(s), JSON.stringify(s));
  });

  it('is what parseBundle checks the loader with, naming the field it refuses', () => {
    const bundle = { mediaType: 'application/vnd.bpfsign.bundle.v1+json', scheme: 'unsigned', loader: { insns: 'AAAA', data: 'AA-A' }, signature: null, certificates: [], manifest: null, tlog: null };
    assert.throws(() => parseBundle(bundle), (e: Error & { issues: { path: string; message: string }[] }) => {
      assert.deepEqual(e.issues, [{ path: 'loader.data', message: 'base64' }]);
      return true;
    });
    assert.equal(parseBundle({ ...bundle, loader: { insns: 'AAAA', data: 'AA' } }).loader.data, 'AA');
  });
});
