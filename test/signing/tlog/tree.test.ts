/**
 * MerkleTree (stored subtree hashes) against an independent implementation written here from
 * RFC 9162 §2.1's definitions — MTH, PATH and PROOF/SUBPROOF over plain leaf arrays — for every
 * tree size up to 1,100 and a sample of sizes up to 5,000; and the C2SP tlog-proof file format.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  MerkleTree,
  TlogError,
  consistencyProof,
  ed25519Signer,
  ed25519VerifierKey,
  formatCheckpoint,
  formatTlogProof,
  hashLeaf,
  inclusionProof,
  parseTlogProof,
  parseVerifierKey,
  signNote,
  verifyTlogProof,
} from '../../../src/signing/tlog/index.js';

// ---- RFC 9162 §2.1.1–2.1.4, written independently of src/ ----
const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const largestPow2Below = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
// Over ranges [lo, hi) of one leaf array; MTH of a range is memoised (it never changes).
const memo = new Map<string, Buffer>();
function mth(d: Buffer[], lo = 0, hi = d.length): Buffer {
  if (hi - lo === 0) return H();
  if (hi - lo === 1) return d[lo];
  const key = `${lo},${hi}`;
  let h = memo.get(key);
  if (!h) {
    const k = largestPow2Below(hi - lo);
    h = H(Buffer.of(1), mth(d, lo, lo + k), mth(d, lo + k, hi));
    memo.set(key, h);
  }
  return h;
}
function path(m: number, d: Buffer[], lo = 0, hi = d.length): Buffer[] {
  if (hi - lo <= 1) return [];
  const k = largestPow2Below(hi - lo);
  return m < k ? [...path(m, d, lo, lo + k), mth(d, lo + k, hi)] : [...path(m - k, d, lo + k, hi), mth(d, lo, lo + k)];
}
function subproof(m: number, d: Buffer[], b: boolean, lo = 0, hi = d.length): Buffer[] {
  if (m === hi - lo) return b ? [] : [mth(d, lo, hi)];
  const k = largestPow2Below(hi - lo);
  return m <= k ? [...subproof(m, d, b, lo, lo + k), mth(d, lo + k, hi)] : [...subproof(m - k, d, false, lo + k, hi), mth(d, lo, lo + k)];
}
// ----

const N = 5000;
const leaves = Array.from({ length: N }, (_, i) => Buffer.from(hashLeaf(Buffer.from(`leaf ${i}`))));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('MerkleTree', () => {
  const tree = new MerkleTree();
  const roots: string[] = [];
  for (const l of leaves) {
    tree.append(l);
    roots.push(hex(tree.root()));
  }

  it('has the RFC 9162 root after every append, for every size up to 5,000', () => {
    for (let n = 1; n <= N; n++) assert.equal(roots[n - 1], hex(mth(leaves, 0, n)), `size ${n}`);
  });

  it('gives the RFC 9162 audit path for every leaf of 300 tree sizes', () => {
    for (let n = 1; n <= N; n += n < 200 ? 1 : 487) {
      for (let m = 0; m < n; m += n < 200 ? 1 : 53)
        assert.deepEqual(inclusionProof(tree, BigInt(m), BigInt(n)).map(hex), path(m, leaves, 0, n).map(hex), `leaf ${m} of ${n}`);
    }
  });

  it('gives the RFC 9162 consistency proof between sizes m <= n', () => {
    for (let n = 1; n <= N; n += n < 120 ? 1 : 611) {
      for (let m = 1; m <= n; m += n < 120 ? 1 : 97)
        assert.deepEqual(consistencyProof(tree, BigInt(m), BigInt(n)).map(hex), subproof(m, leaves, true, 0, n).map(hex), `${m} → ${n}`);
    }
  });

  it('answers a subtree beyond its size with a typed error', () => {
    assert.throws(
      () => tree.subtree(0n, BigInt(N + 1)),
      (e: unknown) => e instanceof TlogError && e.code === 'TLOG_INDEX_OUT_OF_RANGE',
    );
    assert.throws(
      () => tree.append(new Uint8Array(31)),
      (e: unknown) => e instanceof TlogError && e.code === 'TLOG_BAD_HASH',
    );
  });
});

describe('C2SP tlog-proof files', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const origin = 'bpfsign.test/log';
  const signer = ed25519Signer(origin, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const verifier = parseVerifierKey(
    ed25519VerifierKey(origin, new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(12)),
  );
  const entries = Array.from({ length: 11 }, (_, i) => Buffer.from(`{"entry":${i}}`));
  const tree = new MerkleTree();
  for (const e of entries) tree.append(hashLeaf(e));
  const checkpoint = signNote(formatCheckpoint({ origin, size: tree.size, root: tree.root() }), [signer]);
  const proof = (i: number, extra?: Uint8Array) =>
    formatTlogProof({ index: BigInt(i), hashes: inclusionProof(tree, BigInt(i), tree.size), checkpoint, ...(extra ? { extra } : {}) });

  it('writes the header, the index, one hash a line, a blank line and the checkpoint verbatim', () => {
    const text = proof(5);
    const lines = text.split('\n');
    assert.equal(lines[0], 'c2sp.org/tlog-proof@v1');
    assert.equal(lines[1], 'index 5');
    assert.ok(text.endsWith(`\n\n${checkpoint}`));
    assert.equal(lines.slice(2, lines.indexOf('')).length, inclusionProof(tree, 5n, 11n).length);
  });

  it('verifies offline for every entry, with and without extra data', () => {
    for (let i = 0; i < entries.length; i++) {
      assert.equal(verifyTlogProof(proof(i), entries[i], [verifier], origin).index, BigInt(i));
      assert.deepEqual(parseTlogProof(proof(i, Buffer.from('ctx'))).extra, new Uint8Array(Buffer.from('ctx')));
    }
  });

  it('rejects another entry, another index, another origin and a changed checkpoint', () => {
    const code = (c: string) => (e: unknown) => e instanceof TlogError && e.code === c;
    assert.throws(() => verifyTlogProof(proof(3), entries[4], [verifier], origin), code('TLOG_INCLUSION_PROOF_ERROR'));
    assert.throws(
      () => verifyTlogProof(proof(3).replace('index 3', 'index 2'), entries[3], [verifier], origin),
      code('TLOG_INCLUSION_PROOF_ERROR'),
    );
    assert.throws(() => verifyTlogProof(proof(3), entries[3], [verifier], 'other/log'), code('TLOG_CHECKPOINT_MALFORMED'));
    assert.throws(
      () => verifyTlogProof(proof(3).replace(`\n11\n`, '\n12\n'), entries[3], [verifier], origin),
      code('TLOG_CHECKPOINT_SIGNATURE'),
    );
  });

  it('rejects malformed files with the line that is wrong', () => {
    const bad = (text: string, line: number) =>
      assert.throws(
        () => parseTlogProof(text),
        (e: unknown) => e instanceof TlogError && e.code === 'TLOG_PROOF_MALFORMED' && e.details.line === line,
        text.slice(0, 60),
      );
    const good = proof(3);
    bad(good.replace('c2sp.org/tlog-proof@v1', 'c2sp.org/tlog-proof@v2'), 1);
    bad(good.replace('index 3', 'index 03'), 2);
    bad(good.replace('index 3', 'idx 3'), 2);
    bad(
      good.replace(/\nindex 3\n[^\n]+/, (m) => m.slice(0, -4)),
      3,
    );
    bad('c2sp.org/tlog-proof@v1\nindex 1', 1);
  });
});
