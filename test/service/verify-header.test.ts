/**
 * A light skeleton verified on its own: every header bpftool 7.7 signed (RSA-2048 and P-256, the
 * project's fixtures and libxdp1's objects) verifies against its certificate, with the object and
 * without it, and is refused after one flipped byte in its instructions, its metadata or its
 * signature; their loaders' ctx overrides are hardening findings a strict policy refuses; our own
 * signed headers have none.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyHeader, HeaderFormatError } from '../../src/service/verify-header.js';
import { loadProfile } from '../../src/service/verify.js';
import { buildLoader, signedHeader } from '../../src/service/loader.js';
import { signBuilt } from '../../src/service/sign.js';
import { signerFromPem } from '../../src/signing/index.js';
import { parsePolicy, STRICT, type TrustPolicy } from '../../src/signing/policy.js';
import { printHex } from '../../src/loader/gen/index.js';
import { FIXTURES, ROOT, XDP_TOOLS_DIR } from '../support/objects.js';
import { bpftoolStyleHeader, testKeysDir } from '../support/test-keys.js';

const REFERENCE = join(ROOT, '../shared/reference/bpftool-7.7');
const KEYS = testKeysDir();
const at = new Date('2027-01-01T00:00:00Z');
const profile = existsSync('/sys/kernel/btf/vmlinux') ? loadProfile('host') : null;

function policyFor(key: 'rsa2048' | 'p256', hardening: 'enforce' | 'log' = 'log'): TrustPolicy {
  return parsePolicy({
    version: 1,
    name: key,
    roots: [readFileSync(join(KEYS, `${key}.cert.pem`), 'utf8')],
    checks: { ...STRICT, transparencyLog: 'skip', hardening },
  });
}

interface Ref {
  file: string;
  key: 'rsa2048' | 'p256';
  object: string;
}

function references(): Ref[] {
  const out: Ref[] = [];
  for (const [sub, objDir] of [
    ['fixtures', join(FIXTURES, 'obj')],
    ['libxdp1', XDP_TOOLS_DIR],
  ] as const) {
    const dir = join(REFERENCE, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      const m = /^(.*)\.(rsa2048|p256)\.lskel\.h$/.exec(f);
      if (m) out.push({ file: join(dir, f), key: m[2] as Ref['key'], object: join(objDir, `${m[1]}.o`) });
    }
  }
  return out;
}

/** The header with the first byte of one embedded literal (`opts_insn`, `opts_data`, `opts_sig`) changed. */
function flipLiteral(text: string, literal: string): string {
  const at = text.indexOf(`${literal}[]`);
  assert.ok(at >= 0, literal);
  const body = text.indexOf('"\\\n', at) + 3;
  const end = text.indexOf('";', body);
  // Change one escape to another byte value: \xNN → \xMM (or \0 → \x01), inside the literal.
  const esc = text.slice(body, end).search(/\\x[0-9a-f]{2}/);
  assert.ok(esc >= 0);
  const i = body + esc + 2;
  const flipped = (parseInt(text.slice(i, i + 2), 16) ^ 0x01).toString(16).padStart(2, '0');
  return text.slice(0, i) + (flipped === '00' ? '02' : flipped) + text.slice(i + 2);
}

const failed = (v: { checks: { check: string; status: string; level: string }[] }) =>
  v.checks.filter((c) => c.status === 'fail' && c.level === 'enforce').map((c) => c.check);

describe(
  'verifyHeader on bpftool 7.7 signed headers',
  { skip: references().length ? (profile ? false : 'no kernel BTF for the replay') : `no reference headers under ${REFERENCE}` },
  () => {
    for (const r of references()) {
      const name = r.file.slice(REFERENCE.length + 1);
      const text = readFileSync(r.file, 'utf8');
      const hasObject = existsSync(r.object);

      it(`verifies ${name} against its certificate, with its object, and replays it as its unsigned twin`, () => {
        const object = hasObject ? new Uint8Array(readFileSync(r.object)) : undefined;
        const v = verifyHeader(text, policyFor(r.key), { at, profile, object });
        // Some of these loaders fail to load on this kernel (CO-RE, fentry, bpftool's 136-byte stack
        // for big): the replay predicts that, as it does for bpftool's unsigned header of the object.
        const twin = verifyHeader(
          readFileSync(r.file.replace(/\.(rsa2048|p256)\.lskel\.h$/, '.lskel.h'), 'utf8'),
          { ...policyFor(r.key), allowUnsigned: true },
          { at, profile, object },
        );
        const twinReplay = twin.verdict.checks.find((c) => c.check === 'replay')!;
        assert.deepEqual(failed(v.verdict), twinReplay.status === 'pass' ? [] : ['replay']);
        assert.equal(v.verdict.verdict, twinReplay.status === 'pass' ? 'OK' : 'FAULT');
        assert.equal(v.verdict.checks.find((c) => c.check === 'replay')!.message, twinReplay.message);
        assert.equal(v.header.scheme, 'linux-6.18');
        if (object) assert.equal(v.header.flavour, 'libbpf-1.7');
        // What the loader lets its caller change after the hash check is named.
        const hardening = v.verdict.checks.find((c) => c.check === 'hardening')!;
        assert.equal(hardening.status, 'fail');
        assert.match(hardening.message, /CTX_OVERRIDES_MAP/);
      });

      it(`refuses ${name} under a policy that enforces hardening`, () => {
        const v = verifyHeader(text, policyFor(r.key, 'enforce'), { at, profile }).verdict;
        assert.ok(failed(v).includes('hardening'));
        assert.notEqual(v.verdict, 'OK');
      });

      it(`refuses ${name} after a flipped byte in its instructions, its metadata or its signature`, () => {
        const object = hasObject ? new Uint8Array(readFileSync(r.object)) : undefined;
        const got: Record<string, [string, string[]]> = {};
        for (const literal of ['opts_insn', 'opts_data', 'opts_sig']) {
          const v = verifyHeader(flipLiteral(text, literal), policyFor(r.key), { at, profile, object }).verdict;
          got[literal] = [v.verdict, failed(v)];
          assert.notEqual(v.verdict, 'OK', `${literal} flipped: OK`);
        }
        // Instructions and signature: the signature fails; metadata: the loader's own hash check
        // faults in the replay (the signature covers only the instructions in this scheme).
        assert.equal(got.opts_insn[0], 'BADSIG');
        assert.equal(got.opts_sig[0], 'BADSIG');
        assert.ok(got.opts_data[1].includes('replay'), JSON.stringify(got.opts_data));
      });

      it(`refuses ${name} under the other test key`, () => {
        const other = r.key === 'rsa2048' ? 'p256' : 'rsa2048';
        assert.notEqual(verifyHeader(text, policyFor(other), { at, profile }).verdict.verdict, 'OK');
      });
    }
  },
);

describe('verifyHeader on our own headers', { skip: profile ? false : 'no kernel BTF for the replay' }, () => {
  const obj = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));

  for (const scheme of ['linux-6.18', 'linux-load-time'] as const) {
    it(`verifies a signed ${scheme} header with no hardening finding, and names its scheme`, async () => {
      const built = buildLoader(obj, 'xdp_filter.clang-el.o', {
        scheme,
        name: 'xdp_filter',
        flavour: 'v1.7',
        standalone: false,
        mapExcl: false,
        host: {},
      });
      const signer = await signerFromPem({
        privateKey: readFileSync(join(KEYS, 'p256.key.pem')),
        certificate: readFileSync(join(KEYS, 'p256.cert.pem'), 'utf8'),
      });
      const signed = await signBuilt(built, signer, [readFileSync(join(KEYS, 'p256.cert.pem'), 'utf8')]);
      const text = signedHeader(built, signed.signature);
      const v = verifyHeader(text, policyFor('p256', 'enforce'), { at, profile, object: obj, objectFile: 'xdp_filter.clang-el.o' });
      assert.equal(v.verdict.verdict, 'OK', JSON.stringify(v.verdict.checks.filter((c) => c.status !== 'pass')));
      assert.equal(v.header.scheme, scheme);
      assert.equal(v.header.flavour, 'v1.7');
      assert.equal(v.verdict.checks.find((c) => c.check === 'hardening')!.status, 'pass');
      // An extra statement in the C code fails the files check, naming the line.
      const edited = text.replace('\terr = bpf_load_and_run(&opts);\n', '\terr = bpf_load_and_run(&opts);\n\terr = 0;\n');
      const e = verifyHeader(edited, policyFor('p256', 'enforce'), { at, profile }).verdict;
      assert.equal(e.verdict, 'MISMATCH');
      assert.match(e.checks.find((c) => c.check === 'files')!.message, /line \d+/);
      // An excl_prog_hash that is not the loader's digest is named too.
      const sig = text.indexOf('opts_excl_hash[]');
      const badHash = text.slice(0, sig) + text.slice(sig).replace(/"\\\n[^"]*"/, `"\\\n${printHex(new Uint8Array(32))}"`);
      assert.equal(verifyHeader(badHash, policyFor('p256', 'enforce'), { at, profile }).verdict.verdict, 'MISMATCH');
    });
  }

  it('allows helpers by name or id and refuses the rest, and refuses a helper name it does not know', async () => {
    const text = await bpftoolStyleHeader(join(FIXTURES, 'obj/xdp_filter.clang-el.o'), 'rsa2048');
    const withHelpers = (helpers: (string | number)[]) => ({ ...policyFor('rsa2048'), allowed: { helpers } });
    for (const ok of [['bpf_map_lookup_elem'], ['map_lookup_elem'], [1]])
      assert.equal(verifyHeader(text, withHelpers(ok), { at, profile }).verdict.verdict, 'OK', JSON.stringify(ok));
    const v = verifyHeader(text, withHelpers(['bpf_ktime_get_ns']), { at, profile }).verdict;
    assert.equal(v.verdict, 'POLICY');
    assert.match(v.checks.find((c) => c.check === 'contents')!.message, /helper 1 not allowed/);
    assert.throws(
      () => verifyHeader(text, withHelpers(['bpf_no_such_helper']), { at, profile }),
      /allowed\.helpers\.0: unknown helper bpf_no_such_helper/,
    );
  });

  it('refuses a text that is not a light skeleton with a typed error', () => {
    assert.throws(
      () => verifyHeader('int x;\n', policyFor('p256'), { at, profile }),
      (e: unknown) => e instanceof HeaderFormatError && e.code === 'HEADER_INVALID',
    );
  });
});
