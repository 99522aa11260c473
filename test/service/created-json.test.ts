/** The answer to a signing request written by hand: always the bytes JSON.stringify gives. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createdJson, type Created } from '../../src/service/created-json.js';
import { base64Text, jsonTexts } from '../../src/shared/json.js';
import { loaderService, OBJECT, OPTIONS } from '../support/loader-service.js';

/** A signed and logged loader's answer, as a client reads it. */
async function created(): Promise<Created> {
  const { svc } = await loaderService();
  return JSON.parse((await svc.sign(OBJECT, OPTIONS)).json.toString('utf8')) as Created;
}

describe('createdJson', () => {
  it("writes a signed and logged answer as JSON.stringify does, the checkpoint's em dash included", async () => {
    const res = await created();
    assert.match(res.bundle.tlog?.checkpoint ?? '', /\n\u2014 /);
    assert.equal(createdJson(res).toString('utf8'), JSON.stringify(res));
    const b = res.bundle;
    const texts = jsonTexts([b.loader.insns, b.loader.data, b.manifest?.payload ?? ''].map((s) => base64Text(Buffer.from(s, 'base64'))));
    assert.equal(createdJson(res, texts).toString('utf8'), JSON.stringify(res), 'with the JSON text of its base64 strings kept as bytes');
    const odd = new Map([['a"\u2028é', Buffer.from(JSON.stringify('a"\u2028é'), 'utf8')]]);
    const escaped = { ...res, bundle: { ...b, loader: { insns: 'a"\u2028é', data: b.loader.data } } };
    assert.equal(createdJson(escaped, odd).toString('utf8'), JSON.stringify(escaped), 'a kept text of a string that needs escaping');
    const unlogged = { ...res, bundle: { ...res.bundle, tlog: null } };
    assert.equal(createdJson(unlogged).toString('utf8'), JSON.stringify(unlogged));
  });

  it('writes answers of any other shape whole, still as JSON.stringify writes them', async () => {
    const res = await created();
    const { scheme, ...noScheme } = res.bundle;
    const odd: unknown[] = [
      { ...res, bundle: { ...noScheme, scheme } }, // members in another order
      { ...res, bundle: { ...res.bundle, extra: 'x"\\' } },
      { ...res, bundle: { ...res.bundle, manifest: null, signature: null } },
      { ...res, bundle: { ...res.bundle, loader: { insns: 'not "base64"\n', data: '\u2028' } } },
      { ...res, bundle: { ...res.bundle, signature: undefined } },
      { ...res, links: { ...res.links, toJSON: () => 'x' } },
    ];
    for (const o of odd) assert.equal(createdJson(o as Created).toString('utf8'), JSON.stringify(o));
  });
});
