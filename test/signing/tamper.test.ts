/**
 * The tamper matrix: every way a bundle can be altered or mis-signed, each a named case with the
 * verdict it must get. The bundles are real (xdp_filter.bpf.c, signed by a development CA), and
 * verification runs the full pipeline: CMS, chain, manifest, replay in the kernel model, object.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/objects.js';
import { testProfile } from '../api/helper.js';
import { buildLoader, type BuiltLoader } from '../../src/service/loader.js';
import { signBuilt } from '../../src/service/sign.js';
import { verifyBundle } from '../../src/service/verify.js';
import { deepFreeze } from '../../src/shared/freeze.js';
import {
  createDevelopmentCa,
  issueCertificate,
  generateKeyPair,
  toPem,
  webCryptoSigner,
  parseCertificate,
} from '../../src/signing/index.js';
import { parsePolicy, type TrustPolicy } from '../../src/signing/policy.js';
import type { Bundle } from '../../src/signing/bundle.js';
import { replay } from '../../src/kernel/replay/index.js';
import { planFromJson } from '../../src/loader/plan/index.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const DAY = 86_400_000;
const obj = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));
const other = new Uint8Array(readFileSync(join(FIXTURES, 'obj/globals.clang-el.o')));
const profile = testProfile();

const build = (bytes: Uint8Array, scheme: 'linux-6.18' | 'linux-load-time', name = 'xdp_filter'): BuiltLoader =>
  buildLoader(bytes, `${name}.o`, { scheme, name, flavour: 'v1.7', standalone: false, mapExcl: false, host: {} });

function flip(b64: string, at: number): string {
  const b = Buffer.from(b64, 'base64');
  b[at % b.length] ^= 0x01;
  return b.toString('base64');
}

// Twice: with bundles as a caller builds them, and shared (deep-frozen, as the service's parsed
// bodies are), whose facts (decoded loader, signature and manifest checks) are derived once and
// reused: each case is then verified twice, and both verdicts must be the same.
for (const shared of [false, true])
  describe(shared ? 'the tamper matrix on shared bundles' : 'the tamper matrix', () => {
    let ca: Awaited<ReturnType<typeof createDevelopmentCa>>;
    let caPem: string;
    let leafPem: string;
    let policy: TrustPolicy;
    let good: Bundle;
    let goodLoadTime: Bundle;
    let otherBundle: Bundle;
    const run = (b: Bundle, opts: { object?: Uint8Array; at?: Date; policy?: TrustPolicy } = {}) => {
      const once = (x: Bundle) => verifyBundle(x, opts.policy ?? policy, { at: opts.at ?? NOW, object: opts.object ?? obj, profile });
      if (!shared) return once(b);
      const frozen = deepFreeze(structuredClone(b));
      const first = once(frozen);
      const again = once(frozen);
      assert.deepEqual(again, first, 'a shared bundle verified again gets the same verdict');
      return again;
    };

    before(async () => {
      ca = await createDevelopmentCa({ now: new Date(NOW.getTime() - 10 * DAY) });
      caPem = await toPem('CERTIFICATE', ca.caCert);
      leafPem = await toPem('CERTIFICATE', ca.signingCert);
      policy = parsePolicy({ version: 1, name: 'matrix', roots: [caPem] });
      good = (await signBuilt(build(obj, 'linux-6.18'), ca.signer, [leafPem])).bundle;
      goodLoadTime = (await signBuilt(build(obj, 'linux-load-time'), ca.signer, [leafPem])).bundle;
      otherBundle = (await signBuilt(build(other, 'linux-6.18', 'globals'), ca.signer, [leafPem])).bundle;
    });

    /** A certificate for a fresh key under the same CA, with the given validity and EKU. */
    async function issued(opts: { notBefore: Date; notAfter: Date; eku?: string[] }) {
      const k = await generateKeyPair('ecdsa-p256-sha256');
      const der = await issueCertificate({
        subject: 'CN=matrix leaf',
        publicKey: k.publicKey,
        issuerCert: ca.caCert,
        issuerKey: ca.caKey,
        notBefore: opts.notBefore,
        notAfter: opts.notAfter,
        ca: false,
        extendedKeyUsage: opts.eku,
      });
      const ski = parseCertificate(der).subjectKeyIdentifier!;
      return { pem: await toPem('CERTIFICATE', der), signer: webCryptoSigner(k.privateKey, Buffer.from(ski, 'hex')) };
    }

    const expect = (verdict: string, check: string) => (v: ReturnType<typeof run>) => {
      assert.equal(
        v.verdict,
        verdict,
        JSON.stringify(
          v.checks.filter((c) => c.status === 'fail'),
          null,
          1,
        ),
      );
      assert.ok(
        v.checks.some((c) => c.check === check && c.status === 'fail'),
        `check ${check} failed`,
      );
    };

    it('accepts the untouched bundles of both schemes (the baseline)', () => {
      assert.equal(run(good).verdict, 'OK');
      assert.equal(run(goodLoadTime).verdict, 'OK');
    });
    it('bit flip in the instructions → BADSIG', () =>
      expect('BADSIG', 'signature')(run({ ...good, loader: { ...good.loader, insns: flip(good.loader.insns, 333) } })));
    it('bit flip in the data (linux-6.18, data not signed) → MISMATCH by the signed manifest', () =>
      expect('MISMATCH', 'manifest')(run({ ...good, loader: { ...good.loader, data: flip(good.loader.data, 777) } })));
    it('bit flip in the data (linux-load-time, data signed) → BADSIG', () =>
      expect(
        'BADSIG',
        'signature',
      )(run({ ...goodLoadTime, loader: { ...goodLoadTime.loader, data: flip(goodLoadTime.loader.data, 777) } })));
    it('bit flip in the signature → BADSIG', () => expect('BADSIG', 'signature')(run({ ...good, signature: flip(good.signature!, 100) })));
    it('bit flip in the certificate → UNKNOWNKEY or BADSIG, never OK', () => {
      const der = Buffer.from(leafPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 20] ^= 1; // inside the certificate's own signature: it parses, but no longer chains
      const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
      const v = run({ ...good, certificates: [pem] });
      assert.notEqual(v.verdict, 'OK');
      assert.ok(['UNTRUSTED', 'UNKNOWNKEY', 'BADSIG'].includes(v.verdict), v.verdict);
    });
    it('signed with another key than the certificate names → UNKNOWNKEY', async () => {
      const x = await issued({ notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + DAY) });
      const b = (await signBuilt(build(obj, 'linux-6.18'), x.signer, [x.pem])).bundle;
      expect('UNKNOWNKEY', 'signature')(run({ ...b, certificates: [leafPem] }));
    });
    it('expired certificate → UNTRUSTED', async () => {
      const x = await issued({ notBefore: new Date(NOW.getTime() - 5 * DAY), notAfter: new Date(NOW.getTime() - DAY) });
      expect('UNTRUSTED', 'chain')(run((await signBuilt(build(obj, 'linux-6.18'), x.signer, [x.pem])).bundle));
    });
    it('not-yet-valid certificate → UNTRUSTED', async () => {
      const x = await issued({ notBefore: new Date(NOW.getTime() + DAY), notAfter: new Date(NOW.getTime() + 5 * DAY) });
      expect('UNTRUSTED', 'chain')(run((await signBuilt(build(obj, 'linux-6.18'), x.signer, [x.pem])).bundle));
    });
    it('certificate without the codeSigning EKU → UNTRUSTED', async () => {
      const x = await issued({
        notBefore: new Date(NOW.getTime() - DAY),
        notAfter: new Date(NOW.getTime() + DAY),
        eku: ['1.3.6.1.5.5.7.3.1'],
      });
      expect('UNTRUSTED', 'chain')(run((await signBuilt(build(obj, 'linux-6.18'), x.signer, [x.pem])).bundle));
    });
    it('untrusted root → UNTRUSTED', async () => {
      const otherCa = await createDevelopmentCa({ now: NOW });
      expect(
        'UNTRUSTED',
        'chain',
      )(run(good, { policy: parsePolicy({ version: 1, name: 'other', roots: [await toPem('CERTIFICATE', otherCa.caCert)] }) }));
    });
    it('checks a bundle against the clock and the policy every time, shared or not', async () => {
      const b = shared ? deepFreeze(structuredClone(good)) : good;
      const otherCa = await createDevelopmentCa({ now: NOW });
      const otherPolicy = parsePolicy({ version: 1, name: 'other', roots: [await toPem('CERTIFICATE', otherCa.caCert)] });
      const at = (when: Date, p = policy) => verifyBundle(b, p, { at: when, profile });
      assert.equal(at(NOW).verdict, 'OK');
      expect('UNTRUSTED', 'chain')(at(new Date(NOW.getTime() + 20 * 365 * DAY)));
      expect('UNTRUSTED', 'chain')(at(NOW, otherPolicy));
      assert.equal(at(NOW).verdict, 'OK');
    });
    it('scheme swapped (6.18 signature presented as load-time) → BADSIG', () =>
      expect('BADSIG', 'signature')(run({ ...good, scheme: 'linux-load-time' })));
    it('scheme swapped (load-time presented as 6.18) → BADSIG', () =>
      expect('BADSIG', 'signature')(run({ ...goodLoadTime, scheme: 'linux-6.18' })));
    it('signature replayed from another object → BADSIG', () =>
      expect('BADSIG', 'signature')(run({ ...good, signature: otherBundle.signature })));
    it('whole bundle of another object presented for this object → MISMATCH', () => expect('MISMATCH', 'object')(run(otherBundle)));
    it('manifest altered → PARTIALSIG (the loader signature holds, the manifest one does not)', () => {
      const env = good.manifest!;
      const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString());
      payload.predicate.object.name = 'evil';
      expect(
        'PARTIALSIG',
        'manifest',
      )(run({ ...good, manifest: { ...env, payload: Buffer.from(JSON.stringify(payload)).toString('base64') } }));
    });
    it("manifest swapped for another object's (validly signed) → MISMATCH", () =>
      expect('MISMATCH', 'manifest')(run({ ...good, manifest: otherBundle.manifest })));
    it('manifest removed → PARTIALSIG', () => expect('PARTIALSIG', 'manifest')(run({ ...good, manifest: null })));
    it('signature removed → UNSIGNED', () => expect('UNSIGNED', 'signature')(run({ ...good, signature: null })));

    it("ctx overrides of max_entries and initial values do not reach a signed loader's maps", () => {
      const manifest = JSON.parse(Buffer.from(good.manifest!.payload, 'base64').toString()).predicate;
      const plan = planFromJson(manifest.plan);
      const loader = { insns: Buffer.from(good.loader.insns, 'base64'), data: Buffer.from(good.loader.data, 'base64') };
      const idx = plan.maps.findIndex((m) => !m.internal);
      const rodata = plan.maps.findIndex((m) => m.internal);
      const opts = {
        nrMaps: plan.nrMaps,
        nrProgs: plan.programs.length,
        maxEntries: { [idx]: 7 },
        initialValues: { [rodata]: new Uint8Array(plan.maps[rodata].valueSize).fill(0xee) },
      };
      const signedRun = replay(loader, profile, { ...opts, scheme: 'linux-6.18' });
      assert.ok(signedRun.ok, JSON.stringify(signedRun.fault ?? signedRun.errno));
      assert.equal(
        signedRun.maps.find((m) => m.name === plan.maps[idx].name)!.maxEntries,
        plan.maps[idx].maxEntries,
        'max_entries from the blob, not the ctx',
      );
      assert.ok(
        !(signedRun.maps.find((m) => m.name === plan.maps[rodata].name)!.contents ?? '').startsWith('eeee'),
        'initial value from the blob, not the ctx',
      );
      // The same overrides do reach an unsigned loader: the test can tell the difference.
      const unsignedLoader = buildLoader(obj, 'xdp_filter.o', {
        scheme: 'unsigned',
        name: 'xdp_filter',
        flavour: 'v1.7',
        standalone: false,
        mapExcl: false,
        host: {},
      }).loader;
      const unsignedRun = replay(unsignedLoader, profile, { ...opts, scheme: 'unsigned' });
      assert.equal(unsignedRun.maps.find((m) => m.name === plan.maps[idx].name)!.maxEntries, 7);
    });
  });
