/** Signing a built loader: what the log records of it is exactly the envelope's canonical JSON. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { buildLoader } from '../../src/service/loader.js';
import { signBuilt } from '../../src/service/sign.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { createDevelopmentCa, toPem, type Signer } from '../../src/signing/index.js';

describe('signBuilt', () => {
  it("gives the envelope's RFC 8785 bytes and their SHA-256 with each signature, for every scheme and for a loader signed again", async () => {
    const ca = await createDevelopmentCa({ now: new Date() });
    const leaf = await toPem('CERTIFICATE', ca.signingCert);
    for (const file of ['xdp_filter.clang-el.o', 'maps.clang-el.o']) {
      for (const scheme of ['linux-6.18', 'linux-load-time'] as const) {
        const built = buildLoader(readFileSync(join(FIXTURES, 'obj', file)), file, {
          scheme,
          name: 'x',
          flavour: 'v1.7',
          standalone: false,
          mapExcl: false,
          host: {},
        });
        const first = await signBuilt(built, ca.signer, [leaf]);
        const again = await signBuilt(built, ca.signer, [leaf]);
        for (const s of [first, again]) {
          assert.deepEqual(new Uint8Array(s.envelopeBytes), canonicalBytes(s.envelope), `${file} ${scheme}`);
          assert.equal(s.envelopeSha256, createHash('sha256').update(s.envelopeBytes).digest('hex'), 'the digest of those bytes');
        }
        assert.notEqual(again.envelopeSha256, first.envelopeSha256, 'each signature its own digest');
        assert.equal(again.envelope.payload, first.envelope.payload);
      }
    }
  });

  it('gives a loader signed again by the same signer its first signatures with reuse, and asks a signer again after it failed', async () => {
    const ca = await createDevelopmentCa({ now: new Date() });
    const other = await createDevelopmentCa({ now: new Date() });
    const leaf = await toPem('CERTIFICATE', ca.signingCert);
    const file = 'xdp_filter.clang-el.o';
    const built = buildLoader(readFileSync(join(FIXTURES, 'obj', file)), file, {
      scheme: 'linux-6.18',
      name: 'x',
      flavour: 'v1.7',
      standalone: false,
      mapExcl: false,
      host: {},
    });
    const first = await signBuilt(built, ca.signer, [leaf], true);
    const again = await signBuilt(built, ca.signer, [leaf], true);
    assert.deepEqual(again.signature, first.signature);
    assert.deepEqual(again.envelope, first.envelope);
    assert.equal(again.envelopeSha256, first.envelopeSha256);
    const fresh = await signBuilt(built, ca.signer, [leaf]);
    assert.notDeepEqual(fresh.signature, first.signature, 'without reuse, signed anew');
    const byOther = await signBuilt(built, other.signer, [leaf], true);
    assert.notDeepEqual(byOther.signature, first.signature, 'another signer signs for itself');
    let calls = 0;
    const flaky: Signer = {
      algorithm: ca.signer.algorithm,
      subjectKeyIdentifier: ca.signer.subjectKeyIdentifier,
      sign: async (data: Uint8Array) => {
        if (++calls === 1) throw new Error('token removed');
        return ca.signer.sign(data);
      },
    };
    await assert.rejects(signBuilt(built, flaky, [leaf], true), /token removed/);
    const retried = await signBuilt(built, flaky, [leaf], true);
    assert.ok(retried.signature.length > 0);
    assert.ok(calls >= 2, 'the failed signing was not kept');
  });
});
