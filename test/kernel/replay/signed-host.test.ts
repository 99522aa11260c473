/**
 * Signed loaders against this kernel: the same signed BPF_PROG_LOAD goes to the kernel
 * (test/kernel-runner/signed-load.c: the certificate in a fresh session keyring, then loads with
 * several keyring_ids and a corrupted signature) and to the model with the host profile and a
 * keyring model holding the certificate where the kernel holds it; the errno of every case must
 * be the kernel's (here, without CONFIG_SYSTEM_DATA_VERIFICATION: EOPNOTSUPP, and EINVAL for a
 * keyring_id that names nothing). Our generator's loader and bpftool 7.7's signed header both.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replay, type ReplayScheme } from '../../../src/kernel/replay/index.js';
import { KEY_SPEC } from '../../../src/kernel/bpf/index.js';
import { parseLightSkeleton } from '../../../src/loader/gen/index.js';
import { buildLoader } from '../../../src/service/loader.js';
import { keyringModel } from '../../../src/service/keyring.js';
import { createDevelopmentCa, signDetached, signedContent, toPem } from '../../../src/signing/index.js';
import { runSignedLoad } from '../../kernel-runner/signed-load.js';
import { runnerSkipReason } from '../../kernel-runner/harness.js';
import { FIXTURES, ROOT } from '../../support/objects.js';
import { hostProfile } from './support.js';

const REFERENCE = join(ROOT, '../shared/reference/bpftool-7.7');

interface SignedInput {
  name: string;
  certPem: string;
  insns: Uint8Array;
  data: Uint8Array;
  signature: Uint8Array;
  nrMaps: number;
  nrProgs: number;
}

describe('a signed loader in the model with the host profile, against this kernel', () => {
  const why = runnerSkipReason();
  const inputs: SignedInput[] = [];
  before(async () => {
    const ca = await createDevelopmentCa({ now: new Date() });
    const obj = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));
    const built = buildLoader(obj, 'xdp_filter.o', {
      scheme: 'linux-6.18',
      name: 'xdp_filter',
      flavour: 'v1.7',
      standalone: false,
      mapExcl: false,
      host: {},
    });
    inputs.push({
      name: 'our linux-6.18 loader for xdp_filter',
      certPem: await toPem('CERTIFICATE', ca.signingCert),
      insns: built.loader.insns,
      data: built.loader.data,
      signature: await signDetached(signedContent('linux-6.18', built.loader.insns, built.loader.data), ca.signer),
      nrMaps: built.plan.nrMaps,
      nrProgs: built.plan.programs.length,
    });
    try {
      const h = parseLightSkeleton(readFileSync(join(REFERENCE, 'fixtures/xdp_filter.clang-el.rsa2048.lskel.h'), 'utf8'));
      inputs.push({
        name: "bpftool 7.7's signed header for xdp_filter",
        certPem: readFileSync(join(REFERENCE, 'keys/rsa2048.cert.pem'), 'utf8'),
        insns: h.insns,
        data: h.data,
        signature: h.signature!,
        nrMaps: h.maps.length,
        nrProgs: h.progs.length,
      });
    } catch {
      /* the reference headers are not here: the case below says so */
    }
  });

  for (const which of [0, 1]) {
    it(`${which === 0 ? 'our loader' : "bpftool 7.7's header"}: every signed-load case gets the kernel's errno`, (t) => {
      if (why) return t.skip(why);
      const input = inputs[which];
      if (!input) return t.skip(`no ${REFERENCE}/fixtures/xdp_filter.clang-el.rsa2048.lskel.h`);
      const certDer = new Uint8Array(new X509Certificate(input.certPem).raw);
      const k = runSignedLoad(`signed-host-${which}`, {
        certDer,
        insns: input.insns,
        data: input.data,
        signature: input.signature,
        exclProgHash: new Uint8Array(createHash('sha256').update(input.insns).digest()),
        nrMaps: input.nrMaps,
        nrProgs: input.nrProgs,
      });
      assert.equal(k.stage, undefined, `the kernel's metadata map: ${k.stage} errno ${k.errno}`);
      // The model's keyring holds the certificate where signed-load.c put it: the session keyring, as key k.key.serial.
      const keyring = keyringModel([
        { certificate: input.certPem, keyring: KEY_SPEC.SESSION_KEYRING },
        ...(k.key.serial > 0 ? [{ certificate: input.certPem, keyring: k.key.serial }] : []),
      ]);
      const corrupted = input.signature.slice();
      corrupted[corrupted.length - 1] ^= 0x01;
      let compared = 0;
      for (const c of k.signed_loads ?? []) {
        if (c.attr_size !== 168 || !c.with_signature) continue; // attr-size cases: test/signing/kernel.test.ts
        const r = replay({ insns: input.insns, data: input.data }, hostProfile(), {
          scheme: 'linux-6.18' as ReplayScheme,
          nrMaps: input.nrMaps,
          nrProgs: input.nrProgs,
          signature: c.case === 'corrupted_signature' ? corrupted : input.signature,
          keyringId: c.keyring_id,
          ...keyring,
        });
        t.diagnostic(
          `${c.case} (keyring_id ${c.keyring_id}): kernel ${c.fd_ok ? 'loaded' : `errno ${c.errno}`}, model ${r.stage} errno ${r.errno}`,
        );
        if (c.fd_ok) assert.notEqual(r.stage, 'loader_load', `${c.case}: the kernel loaded it`);
        else assert.deepEqual([r.stage, r.errno], ['loader_load', c.errno], c.case);
        compared++;
      }
      assert.ok(compared >= 4, `compared ${compared} cases`);
    });
  }
});
