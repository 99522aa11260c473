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
import { keyringModel, modelKeyring } from '../../../src/service/keyring.js';
import { parseLightSkeleton } from '../../../src/loader/gen/index.js';
import { resolveKeyringId } from '../../../src/kernel/bpf/index.js';
import { ctxOffsets } from '../../../src/loader/uapi/index.js';
import { ROOT } from '../../support/objects.js';
import { createDevelopmentCa, signDetached, signedContent, toPem } from '../../../src/signing/index.js';

const obj = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));
const base = testProfile();

describe('PROG_LOAD of a signed loader in the kernel model', () => {
  let cert = '',
    otherCert = '';
  let sign: (c: Uint8Array) => Promise<Uint8Array>;
  before(async () => {
    const ca = await createDevelopmentCa({ now: new Date() });
    const other = await createDevelopmentCa({ now: new Date() });
    cert = await toPem('CERTIFICATE', ca.signingCert);
    otherCert = await toPem('CERTIFICATE', other.signingCert);
    sign = (c) => signDetached(c, ca.signer);
  });

  for (const [scheme, sigMode] of [
    ['linux-6.18', 'insns'],
    ['linux-load-time', 'insns-and-maps'],
  ] as const) {
    describe(scheme, () => {
      const built = buildLoader(obj, 'xdp_filter.o', {
        scheme,
        name: 'xdp_filter',
        flavour: 'v1.7',
        standalone: false,
        mapExcl: false,
        host: {},
      });
      const profile = profileView({ ...base, name: `${base.name} (${sigMode})`, signature: sigMode });
      const run = (signature: Uint8Array, certs: string[], p = profile) =>
        replay(built.loader, p, {
          scheme,
          nrMaps: built.plan.nrMaps,
          nrProgs: built.plan.programs.length,
          signature,
          keyringId: -3,
          verifySignature: modelKeyring(certs),
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
        const r = run(
          await sign(signedContent(scheme, built.loader.insns, built.loader.data)),
          [cert],
          profileView({ ...base, signature: 'no-verification' }),
        );
        assert.equal(r.errno, 95);
      });
    });
  }
});

describe('keyring_id in the kernel model', () => {
  it('resolves 0-2 (system keyrings), session/user/user-session, and the serials the process can find; nothing else', () => {
    assert.deepEqual(
      [0, 1, 2].map((id) => resolveKeyringId(id)?.kind),
      ['system', 'system', 'system'],
    );
    assert.deepEqual(
      [-3, -4, -5].map((id) => resolveKeyringId(id)?.kind),
      ['process', 'process', 'process'],
    );
    // No thread or process keyring exists unless the process made one; group and request-key ones never here.
    assert.deepEqual(
      [-1, -2, -6, -7, -8, -9, 3, 2147483647].map((id) => resolveKeyringId(id)),
      Array(8).fill(null),
    );
    assert.deepEqual(resolveKeyringId(12345, [12345]), { kind: 'serial', id: 12345 });
  });
});

describe("bpftool 7.7's signed header in the kernel model", () => {
  const ref = join(ROOT, '../shared/reference/bpftool-7.7');
  let header: ReturnType<typeof parseLightSkeleton> | null = null;
  let rsa = '',
    p256 = '';
  try {
    header = parseLightSkeleton(readFileSync(join(ref, 'fixtures/xdp_filter.clang-el.rsa2048.lskel.h'), 'utf8'));
    rsa = readFileSync(join(ref, 'keys/rsa2048.cert.pem'), 'utf8');
    p256 = readFileSync(join(ref, 'keys/p256.cert.pem'), 'utf8');
  } catch {
    /* skipped below */
  }
  const skip = header ? false : `no reference headers under ${ref}`;
  const signing = profileView({ ...base, name: `${base.name} (insns)`, signature: 'insns' });
  const run = (trusted: Parameters<typeof keyringModel>[0], keyringId: number, profile = signing) =>
    replay(header!, profile, {
      scheme: 'linux-6.18',
      nrMaps: header!.maps.length,
      nrProgs: header!.progs.length,
      initialValues: Object.fromEntries(header!.initialValues),
      signature: header!.signature!,
      keyringId,
      ...keyringModel(trusted),
    });

  it('loads and runs when the keyring the load names holds its certificate', { skip }, () => {
    const r = run([{ certificate: rsa }], 0);
    assert.equal(r.stage, 'ok', `${r.stage} errno ${r.errno}`);
    assert.deepEqual(
      r.progs.map((p) => p.name),
      ['xdp_filter'],
    );
  });
  it('answers ENOKEY with another certificate, or with the right one in another keyring', { skip }, () => {
    assert.deepEqual([run([{ certificate: p256 }], 0).errno, run([{ certificate: rsa, keyring: -3 }], 0).errno], [126, 126]);
    // The secondary keyring (1) searches the builtin one (0) too; the platform keyring (2) does not.
    assert.equal(run([{ certificate: rsa, keyring: 0 }], 1).stage, 'ok');
    assert.equal(run([{ certificate: rsa, keyring: 0 }], 2).errno, 126);
  });
  it('answers EINVAL for a keyring_id that names nothing, before the signature is looked at', { skip }, () => {
    assert.deepEqual([run([{ certificate: rsa }], 2147483647).errno, run([{ certificate: rsa }], -1).errno], [22, 22]);
    assert.equal(run([{ certificate: rsa, keyring: 777 }], 777).stage, 'ok', 'a serial the keyring model was given exists');
    assert.equal(
      run([{ certificate: rsa }], 2147483647, profileView({ ...base, signature: 'no-verification' })).errno,
      22,
      'also without CONFIG_SYSTEM_DATA_VERIFICATION',
    );
  });
  it(
    'records every ctx read of the loader, deterministically, among them the max_entries and initial_value overrides of the map descs',
    { skip },
    () => {
      const a = run([{ certificate: rsa }], 0),
        b = run([{ certificate: rsa }], 0);
      assert.deepEqual(a.ctxReads, b.ctxReads);
      assert.ok(
        a.ctxReads.every((c) => c.via === 'insn' && c.offset + c.size <= ctxOffsets.size(header!.maps.length, header!.progs.length)),
      );
      const read = (off: number, size: number) => a.ctxReads.some((c) => c.offset === off && c.size === size);
      for (let i = 0; i < header!.maps.length; i++) assert.ok(read(ctxOffsets.mapMaxEntries(i), 4), `max_entries of map ${i} is read`);
      assert.ok(
        header!.maps.some((_, i) => read(ctxOffsets.mapInitialValue(i), 8)),
        'some initial_value is read',
      );
    },
  );
});
