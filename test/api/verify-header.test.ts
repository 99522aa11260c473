/**
 * POST /v1/verifications takes a light skeleton as well as a bundle: bpftool 7.7's signed header
 * with its certificate in an inline policy verifies, a flipped signature byte does not, a body
 * with both or neither is a 400, a duplicate member name is a 400 naming its path, and a helper
 * name the table does not know is the policy's 400.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, buildTestApp, TOKENS } from './helper.js';
import { ROOT } from '../support/objects.js';

const REFERENCE = join(ROOT, '../shared/reference/bpftool-7.7');
const HEADER = join(REFERENCE, 'fixtures/xdp_filter.clang-el.p256.lskel.h');

describe('POST /v1/verifications with a header', { skip: existsSync(HEADER) ? false : `no reference header at ${HEADER}` }, () => {
  const header = () => readFileSync(HEADER, 'utf8');
  const policy = (extra: Record<string, unknown> = {}) => ({
    version: 1,
    name: 'bpftool',
    roots: [readFileSync(join(REFERENCE, 'keys/p256.cert.pem'), 'utf8')],
    checks: { transparencyLog: 'skip', hardening: 'log' },
    ...extra,
  });
  const post = async (payload: string) => {
    const { app } = await buildTestApp();
    return app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { ...bearer(TOKENS.verifyOnly), 'content-type': 'application/json' },
      payload,
    });
  };

  it("verifies bpftool's signed header against the certificate an inline policy names", async () => {
    const r = await post(JSON.stringify({ header: header(), policy: policy() }));
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json();
    assert.equal(v.verdict, 'OK', JSON.stringify(v.checks.filter((c: { status: string }) => c.status === 'fail')));
    assert.equal(v.checks.find((c: { check: string }) => c.check === 'files').status, 'pass');
    assert.match(v.checks.find((c: { check: string }) => c.check === 'hardening').message, /CTX_OVERRIDES_MAP/);
  });

  it('refuses the header after one flipped byte of its signature (BADSIG)', async () => {
    const text = header();
    const at = text.indexOf('\\x', text.indexOf('opts_sig[]')) + 40;
    const esc = text.indexOf('\\x', at) + 2;
    const flipped = text.slice(0, esc) + (text[esc] === 'f' ? 'e' : 'f') + text.slice(esc + 1);
    const r = await post(JSON.stringify({ header: flipped, policy: policy() }));
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().verdict, 'BADSIG');
  });

  it('answers 400 for a body with both a bundle and a header, or neither', async () => {
    for (const body of [{ header: header(), bundle: {}, policy: policy() }, { policy: policy() }]) {
      const r = await post(JSON.stringify(body));
      assert.equal(r.statusCode, 400, r.body);
      assert.match(r.body, /exactly one of bundle and header/);
    }
  });

  it('answers 400 for a text that is not a light skeleton (HEADER_INVALID)', async () => {
    const r = await post(JSON.stringify({ header: 'int main(void) { return 0; }\n', policy: policy() }));
    assert.equal(r.statusCode, 400, r.body);
    assert.equal(r.json().code, 'HEADER_INVALID');
  });

  it('answers 400 for a duplicate member name, naming its path', async () => {
    const r = await post(`{"header":${JSON.stringify(header())},"policy":"default","policy":${JSON.stringify(policy())}}`);
    assert.equal(r.statusCode, 400, r.body);
    assert.equal(r.json().code, 'JSON_DUPLICATE_KEY');
    assert.match(r.body, /\$\.policy/);
  });

  it('answers 400 for an allowed helper the table does not know', async () => {
    const r = await post(JSON.stringify({ header: header(), policy: policy({ allowed: { helpers: ['bpf_no_such_helper'] } }) }));
    assert.equal(r.statusCode, 400, r.body);
    assert.equal(r.json().code, 'POLICY_INVALID');
  });
});
