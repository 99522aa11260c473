import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKS, PolicyFormatError, fullMatch, identityAllowed, levelOf, parsePolicy } from '../../src/signing/policy.js';

const ROOT = '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n';
const policyWith = (identities: unknown[]) => parsePolicy({ version: 1, name: 'p', roots: [ROOT], identities });

describe('identity patterns', () => {
  it('answers promptly on the pattern that froze the event loop (RE2: linear in the subject)', () => {
    const p = policyWith([{ subjectRegExp: 'CN=b(.|.)*Z' }, { sanRegExp: '(a|aa)*c' }]);
    assert.deepEqual(identityAllowed(p, `CN=${'b'.repeat(100_000)}`, ['a'.repeat(100_000)]), { ok: false });
    assert.deepEqual(identityAllowed(p, `CN=${'b'.repeat(1000)}Z`, []), { ok: true, matched: 0 });
  });

  it('agrees with a JavaScript RegExp anchored at both ends on ordinary patterns', () => {
    const patterns = [
      'CN=build-[0-9]+',
      'CN=.*,O=Example',
      '(CN|OU)=signer',
      'CN=[a-z]{3,5}',
      'CN=a\\.b',
      '.*@example\\.com',
      'spiffe://[^/]+/ci/.*',
      'CN=x?y+',
      '[[:alpha:]]+'.replace('[[:alpha:]]', '[A-Za-z]'),
      '\\w+\\s\\d*',
      'a|ab',
      '',
    ];
    const subjects = [
      'CN=build-12',
      'CN=build-',
      'xCN=build-1',
      'CN=build-1 ',
      'CN=me,O=Example',
      'OU=signer',
      'CN=signer',
      'CN=abcd',
      'CN=abcdef',
      'CN=a.b',
      'CN=aXb',
      'ci@example.com',
      'ci@example.comx',
      'spiffe://td/ci/job',
      'spiffe://td/x/ci/job',
      'CN=y',
      'CN=xyy',
      'Hello',
      'ab c12',
      'a',
      'ab',
      '',
      'line\nbreak',
    ];
    for (const p of patterns)
      for (const s of subjects) assert.equal(fullMatch(p, s), new RegExp(`^(?:${p})$`).test(s), `${p} on ${JSON.stringify(s)}`);
  });

  it('matches SANs as before: any SAN, whole', () => {
    const p = policyWith([{ sanRegExp: '.*@ci\\.example' }]);
    assert.equal(identityAllowed(p, 'CN=x', ['a@b', 'bot@ci.example']).ok, true);
    assert.equal(identityAllowed(p, 'CN=x', ['bot@ci.example.org']).ok, false);
  });

  it('refuses patterns RE2 cannot run (backreferences, lookarounds, bad syntax), naming the field', () => {
    for (const [identity, path] of [
      [{ subjectRegExp: '(a)\\1' }, 'identities.0.subjectRegExp'],
      [{ sanRegExp: '(?=a)a' }, 'identities.0.sanRegExp'],
      [{ subjectRegExp: '(a' }, 'identities.0.subjectRegExp'],
      [{ subjectRegExp: 'x'.repeat(2000) }, 'identities.0.subjectRegExp'],
    ] as const) {
      assert.throws(
        () => policyWith([identity]),
        (e: unknown) => {
          assert.ok(e instanceof PolicyFormatError);
          assert.deepEqual(
            e.issues.map((i) => i.path),
            [path],
          );
          return true;
        },
        JSON.stringify(identity),
      );
    }
  });
});

describe('the checks', () => {
  it('run the manifest before the files and the log proof, and the hardening findings between the object and the contents', () => {
    assert.deepEqual(
      [...CHECKS],
      ['signature', 'chain', 'identity', 'revocation', 'manifest', 'files', 'transparencyLog', 'replay', 'object', 'hardening', 'contents'],
    );
  });
  it('enforce hardening unless the policy says otherwise', () => {
    assert.equal(levelOf(policyWith([]), 'hardening'), 'enforce');
    assert.equal(levelOf(parsePolicy({ version: 1, name: 'p', roots: [ROOT], checks: { hardening: 'log' } }), 'hardening'), 'log');
  });
});
