/** The rate limit over HTTP: counted before auth, keyed by the token's identity, else by the client's address. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bearer, buildTestApp, TOKENS } from '../helper.js';

/** A listening app whose reads need the audit scope (so a request without a token is a 401), limited to `max` a minute. */
async function serve(max: number) {
  const t = await buildTestApp({ rateLimitPerMinute: max, anonymousReads: false });
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const get = async (headers: Record<string, string> = {}) => (await fetch(`${base}/v1/keys`, { headers })).status;
  return { ...t, get };
}

describe('rate limit', () => {
  it('counts requests refused with 401, so guessing tokens is limited too', async () => {
    const { get } = await serve(3);
    const codes = [await get(), await get(), await get(), await get()];
    assert.deepEqual(codes, [401, 401, 401, 429]);
  });

  it('counts a different junk Authorization header per request against the address', async () => {
    const { get } = await serve(3);
    const codes = [];
    for (const h of ['Bearer junk-1', 'Bearer junk-2', 'Basic anVuazoz', 'Bearer junk-4']) codes.push(await get({ authorization: h }));
    assert.deepEqual(codes, [401, 401, 401, 429]);
  });

  it('gives a known token its own budget, apart from the address and from other tokens', async () => {
    const { get } = await serve(2);
    assert.deepEqual([await get(), await get(), await get()], [401, 401, 429], 'the address is spent');
    assert.deepEqual([await get(bearer(TOKENS.all)), await get(bearer(TOKENS.all)), await get(bearer(TOKENS.all))], [200, 200, 429]);
    assert.deepEqual(
      [await get(bearer(TOKENS.verifyOnly)), await get(bearer(TOKENS.verifyOnly))],
      [403, 403],
      'another token still has its budget',
    );
  });

  it('keys a token made with `bpfsign tokens create` by its id in the store', async () => {
    const { get, store } = await serve(1);
    const token = 's'.repeat(40);
    await store.putToken({
      id: 'tok-1',
      name: 'ci',
      tokenSha256: createHash('sha256').update(token).digest('hex'),
      scopes: ['audit'],
      createdAt: '2026-12-07T00:00:00Z',
      revokedAt: null,
    });
    assert.equal(await get({ authorization: 'Bearer junk' }), 401);
    assert.equal(await get({ authorization: 'Bearer junk' }), 429, 'the address is spent');
    assert.deepEqual([await get(bearer(token)), await get(bearer(token))], [200, 429]);
  });
});
