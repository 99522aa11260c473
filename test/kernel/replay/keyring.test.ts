/**
 * Signed loaders in the kernel model: PROG_LOAD checks the PKCS#7 signature against a model
 * keyring (both schemes), answering the kernel's errnos; a profile without signature support
 * answers EOPNOTSUPP, as this machine's kernel does.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../support/objects.js';
import { testProfile } from '../../api/helper.js';
import { replay } from '../../../src/kernel/replay/index.js';
import { profileView } from '../../../src/kernel/bpf/index.js';
import { buildLoader } from '../../../src/service/loader.js';
import { modelKeyring } from '../../../src/service/keyring.js';
import { createDevelopmentCa, signDetached, signedContent, toPem } from '../../../src/signing/index.js';

const obj = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));
const base = testProfile();

describe('PROG_LOAD of a signed loader in the kernel model', () => {
  let cert = '', otherCert = '';
  let sign: (c: Uint8Array) => Promise<Uint8Array>;
  before(async () => {
    const ca = await createDevelopmentCa({ now: new Date() });
    const other = await createDevelopmentCa({ now: new Date() });
    cert = await toPem('CERTIFICATE', ca.signingCert);
    otherCert = await toPem('CERTIFICATE', other.signingCert);
    sign = (c) => signDetached(c, ca.signer);
  });

  for (const [scheme, sigMode] of [['linux-6.18', 'insns'], ['linux-load-time', 'insns-and-maps']] as const) {
    describe(scheme, () => {
      const built = buildLoader(obj, 'xdp_filter.o', { scheme, name: 'xdp_filter', flavour: 'v1.7', standalone: false, mapExcl: false, host: {} });
      const profile = profileView({ ...base, name: `${base.name} (${sigMode})`, signature: sigMode });
      const run = (signature: Uint8Array, certs: string[], p = profile) => replay(built.loader, p, {
        scheme, nrMaps: built.plan.nrMaps, nrProgs: built.plan.programs.length, signature, keyringId: -3, verifySignature: modelKeyring(certs),
      });
      it('loads and runs when the keyring holds the signer', async () => {
        const r = run(await sign(signedContent(scheme, built.loader.insns, built.loader.data)), [cert]);
        assert.ok(r.ok, JSON.stringify({ stage: r.stage, errno: r.errno }));
        assert.equal(r.retval, 0);
      });
      it('refuses a flipped signature with EKEYREJECTED', async () => {
        const sig = await sign(signedContent(scheme, built.loader.insns, built.loader.data));
        sig[sig.length - 5] ^= 1;
        const r = run(sig, [cert]);
        assert.equal(r.ok, false);
        assert.ok([129, 74].includes(r.errno), `errno ${r.errno}`);
      });
      it('refuses a signer the keyring does not hold with ENOKEY', async () => {
        const r = run(await sign(signedContent(scheme, built.loader.insns, built.loader.data)), [otherCert]);
        assert.equal(r.errno, 126);
      });
      it('answers EOPNOTSUPP on a kernel without signature verification, as this machine does', async () => {
        const r = run(await sign(signedContent(scheme, built.loader.insns, built.loader.data)), [cert], profileView({ ...base, signature: 'no-verification' }));
        assert.equal(r.errno, 95);
      });
    });
  }
});
