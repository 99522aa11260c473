/** Signing a built loader: what the log records of it is exactly the envelope's canonical JSON. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { buildLoader } from '../../src/service/loader.js';
import { signBuilt } from '../../src/service/sign.js';
import { canonicalBytes } from '../../src/signing/canonical.js';
import { createDevelopmentCa, toPem } from '../../src/signing/index.js';

describe('signBuilt', () => {
  it("gives the envelope's RFC 8785 bytes with each signature, for every scheme and for a loader signed again", async () => {
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
        for (const s of [first, again]) assert.deepEqual(new Uint8Array(s.envelopeBytes), canonicalBytes(s.envelope), `${file} ${scheme}`);
        assert.equal(again.envelope.payload, first.envelope.payload);
      }
    }
  });
});
