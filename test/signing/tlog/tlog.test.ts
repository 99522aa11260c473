/**
 * Transparency-log proofs: the generator (RFC 6962's recursive definitions) and the verifier
 * (RFC 9162's iterative algorithms) are separate code, so each checks the other over every
 * tree up to 70 leaves; mutated proofs must all fail.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  consistencyProof,
  emptyRoot,
  formatCheckpoint,
  hashLeaf,
  inclusionProof,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  rootHash,
  signNote,
  ed25519Signer,
  ed25519VerifierKey,
  verifyConsistency,
  verifyInclusion,
  TlogError,
} from '../../../src/signing/tlog/index.js';
import { toHex } from '../../../src/shared/bytes.js';

const leaves = Array.from({ length: 70 }, (_, i) => hashLeaf(new TextEncoder().encode(`entry ${i}`)));
const src = (i: bigint) => leaves[Number(i)];
const flip = (b: Uint8Array, bit: number) => {
  const c = b.slice();
  c[bit >> 3] ^= 1 << (bit & 7);
  return c;
};

describe('RFC 6962 hashing', () => {
  it('hashes the empty tree to SHA-256 of the empty string', () => {
    assert.equal(toHex(emptyRoot()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
  it('hashes a tree of one empty leaf to SHA-256(0x00)', () => {
    assert.equal(toHex(rootHash(() => hashLeaf(new Uint8Array()), 1n)), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });
});

describe('verifyInclusion', () => {
  it('accepts every generated proof for every leaf of trees of 1..70 leaves', () => {
    for (let n = 1n; n <= 70n; n++) {
      const root = rootHash(src, n);
      for (let i = 0n; i < n; i++) verifyInclusion(i, n, leaves[Number(i)], inclusionProof(src, i, n), root);
    }
  });
  describe('when the proof is mutated', () => {
    const n = 37n,
      i = 12n,
      root = rootHash(src, n),
      proof = inclusionProof(src, i, n);
    const fails = (fn: () => void) => assert.throws(fn, (e: unknown) => e instanceof TlogError && e.code === 'TLOG_INCLUSION_PROOF_ERROR');
    it('rejects a wrong leaf', () => fails(() => verifyInclusion(i, n, leaves[13], proof, root)));
    it('rejects a wrong index', () => fails(() => verifyInclusion(i + 1n, n, leaves[12], proof, root)));
    it('rejects an index beyond the tree', () => fails(() => verifyInclusion(n, n, leaves[12], proof, root)));
    it('rejects a flipped bit in any proof element', () => {
      for (let k = 0; k < proof.length; k++)
        fails(() =>
          verifyInclusion(
            i,
            n,
            leaves[12],
            proof.map((p, j) => (j === k ? flip(p, 77) : p)),
            root,
          ),
        );
    });
    it('rejects a truncated proof and trailing garbage', () => {
      fails(() => verifyInclusion(i, n, leaves[12], proof.slice(0, -1), root));
      fails(() => verifyInclusion(i, n, leaves[12], [...proof, leaves[0]], root));
    });
    it('rejects a proof element of the wrong length', () =>
      fails(() => verifyInclusion(i, n, leaves[12], [proof[0].subarray(1), ...proof.slice(1)], root)));
  });
});

describe('verifyConsistency', () => {
  it('accepts every generated proof between all sizes 1 <= m <= n <= 70', () => {
    for (let n = 1n; n <= 70n; n++) {
      const rn = rootHash(src, n);
      for (let m = 1n; m <= n; m++) verifyConsistency(m, n, rootHash(src, m), rn, consistencyProof(src, m, n));
    }
  });
  describe('when the proof is mutated', () => {
    const m = 21n,
      n = 50n,
      r1 = rootHash(src, m),
      r2 = rootHash(src, n),
      proof = consistencyProof(src, m, n);
    const fails = (fn: () => void) =>
      assert.throws(fn, (e: unknown) => e instanceof TlogError && e.code === 'TLOG_CONSISTENCY_PROOF_ERROR');
    it('rejects swapped roots', () => fails(() => verifyConsistency(m, n, r2, r1, proof)));
    it('rejects a flipped bit in any element', () => {
      for (let k = 0; k < proof.length; k++)
        fails(() =>
          verifyConsistency(
            m,
            n,
            r1,
            r2,
            proof.map((p, j) => (j === k ? flip(p, 3) : p)),
          ),
        );
    });
    it('rejects truncation, extra elements and sizes that do not match', () => {
      fails(() => verifyConsistency(m, n, r1, r2, proof.slice(1)));
      fails(() => verifyConsistency(m, n, r1, r2, [...proof, r1]));
      fails(() => verifyConsistency(m + 1n, n, r1, r2, proof));
      fails(() => verifyConsistency(n, m, r2, r1, proof));
    });
  });
});

describe('checkpoints as signed notes', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(12);
  const signer = ed25519Signer('bpfsign.test/log', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const verifier = parseVerifierKey(ed25519VerifierKey('bpfsign.test/log', raw));
  const cp = { origin: 'bpfsign.test/log', size: 70n, root: rootHash(src, 70n) };

  it('round-trips through format, sign, open and parse', () => {
    const note = signNote(formatCheckpoint(cp), [signer]);
    assert.match(note, /^bpfsign\.test\/log\n70\n[A-Za-z0-9+/]{43}=\n\n\u2014 bpfsign\.test\/log [A-Za-z0-9+/=]+\n$/);
    const { text, signedBy } = openNote(note, [verifier]);
    assert.deepEqual(signedBy, ['bpfsign.test/log']);
    const back = parseCheckpoint(text);
    assert.equal(back.size, 70n);
    assert.equal(toHex(back.root), toHex(cp.root));
  });
  it('rejects a note whose text was changed after signing', () => {
    const note = signNote(formatCheckpoint(cp), [signer]).replace('\n70\n', '\n71\n');
    assert.throws(
      () => openNote(note, [verifier]),
      (e: any) => e.code === 'TLOG_CHECKPOINT_SIGNATURE',
    );
  });
  it('rejects a note signed only by unknown keys', () => {
    const other = ed25519Signer(
      'someone.else',
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    );
    assert.throws(
      () => openNote(signNote(formatCheckpoint(cp), [other]), [verifier]),
      (e: any) => e.code === 'TLOG_CHECKPOINT_SIGNATURE',
    );
  });
  it('reads back verifier keys whose base64 contains "+" or "/"', () => {
    let seen = 0;
    for (let i = 0; i < 40; i++) {
      const pub = new Uint8Array(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' })).subarray(12);
      const vkey = ed25519VerifierKey('k', pub);
      if (/[+/]/.test(vkey.slice(vkey.lastIndexOf('+', vkey.length) + 1)) || vkey.split('+').length > 3) seen++;
      assert.equal(parseVerifierKey(vkey).name, 'k');
    }
    assert.ok(seen > 0, 'no key exercised the case');
  });
  it('rejects malformed checkpoint text', () => {
    for (const t of [
      'origin\n12\n',
      'origin\n-1\nAAAA\n',
      'origin\n1\nnot base64!\n',
      'origin\n1\n' + Buffer.alloc(31).toString('base64') + '\n',
    ]) {
      assert.throws(
        () => parseCheckpoint(t),
        (e: any) => e.code === 'TLOG_CHECKPOINT_MALFORMED',
        t,
      );
    }
  });
});
