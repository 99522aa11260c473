/**
 * Signed loaders from the CLI against the real kernel, openssl and `bpfsign verify`.
 *
 * 1. A linux-6.18 signed loader goes through the exact bpftool/libbpf v1.7 sequence on this
 *    kernel (test/kernel-runner/signed-load.c): the certificate becomes an asymmetric key in a
 *    fresh session keyring, the metadata map is created exclusive to SHA-256(insns), updated,
 *    frozen and hashed, and BPF_PROG_LOAD carries signature / signature_size / keyring_id. What
 *    the kernel answers follows from its config (/proc/config.gz) and its BTF `union bpf_attr`:
 *    without CONFIG_SYSTEM_DATA_VERIFICATION the signed load is EOPNOTSUPP, the same loader
 *    without the signature fields loads and returns 0, and one changed byte of data.bin makes
 *    the loader itself return -EINVAL (its signed hash immediates no longer match map->sha).
 * 2. openssl cms -verify accepts the CLI's detached PKCS#7 over insns (linux-6.18) or
 *    insns ‖ data (linux-load-time) and rejects it after one byte of insns changes.
 * 3. `bpfsign verify` gives OK, keeps old bundles valid over `keys rotate`, and names tampering.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { bpfPermitted } from '../support/bpf-permitted.js';
import { ROOT } from '../support/objects.js';
import { runSignedLoad, type SignedLoadReport } from '../kernel-runner/signed-load.js';
import { parseBtf } from '../../src/loader/btf/index.js';
import { hasTool, openssl, OPENSSL_MISSING, tempDir } from './helpers.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const E = osConstants.errno;
const OBJECTS = ['xdp_filter', 'globals'] as const;
const objPath = (name: string) => join(ROOT, 'test/fixtures/obj', `${name}.clang-el.o`);

function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface KeyDir {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}
/** The active key of a `bpfsign keys` directory, as keys.json lists it. */
function activeKey(dir: string): KeyDir {
  const j = JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as {
    ca: string;
    keys: { certificate: string; privateKey: string; active: boolean }[];
  };
  const k = j.keys.find((x) => x.active);
  if (!k) throw new Error(`no active key in ${dir}`);
  return { dir, ca: join(dir, j.ca), cert: join(dir, k.certificate), key: join(dir, k.privateKey) };
}

function gen(obj: string, out: string, scheme: string, k: KeyDir): void {
  const r = cli('gen', objPath(obj), '-o', out, '--scheme', scheme, '--key', k.key, '--cert', k.cert);
  assert.equal(r.status, 0, `bpfsign gen ${obj} --scheme ${scheme}: ${r.stderr}`);
}

interface VerifyResult {
  status: number;
  verdict: string;
  ski?: string;
  json: { verdict: string; signer?: { subjectKeyIdentifier: string }; checks: { check: string; status: string; code?: string }[] };
}
function verify(target: string, ...args: string[]): VerifyResult {
  // These bundles carry no log proof (gen signs offline): --trust verifies them --offline.
  const offline = args.includes('--trust') && !args.includes('--log-key') ? ['--offline'] : [];
  const r = cli('verify', target, ...args, ...offline, '--json');
  const json = JSON.parse(r.stdout) as VerifyResult['json'];
  return { status: r.status, verdict: json.verdict, ski: json.signer?.subjectKeyIdentifier, json };
}

/** Write bundle.json of `src` with one byte of loader.insns or loader.data flipped into a new directory. */
function tamperBundle(src: string, dst: string, field: 'insns' | 'data'): void {
  const b = JSON.parse(readFileSync(join(src, 'bundle.json'), 'utf8')) as { loader: Record<string, string> };
  const bytes = Buffer.from(b.loader[field], 'base64');
  bytes[bytes.length >> 1] ^= 0x01;
  b.loader[field] = bytes.toString('base64');
  mkdirSync(dst, { recursive: true });
  writeFileSync(join(dst, 'bundle.json'), JSON.stringify(b));
}

/** Kernel config symbols that are `=y` (null when /proc/config.gz cannot be read). */
function kernelConfig(): Set<string> | null {
  try {
    const text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    return new Set([...text.matchAll(/^(CONFIG_[A-Z0-9_]+)=y$/gm)].map((m) => m[1]));
  } catch {
    return null;
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const loaderCounts = (dir: string) => {
  const j = JSON.parse(readFileSync(join(dir, 'loader.json'), 'utf8')) as { ctx: { maps: { name: string }[]; progs: { name: string }[] } };
  return { maps: j.ctx.maps.map((m) => m.name), progs: j.ctx.progs.map((p) => p.name) };
};

let work: ReturnType<typeof tempDir>;
let keys: KeyDir;
const out = (name: string, scheme = 'linux-6.18') => join(work.dir, `${name}.${scheme}`);

before(() => {
  work = tempDir('kernel-sign');
  const r = cli('keys', 'create', '--dir', join(work.dir, 'keys'));
  assert.equal(r.status, 0, r.stderr);
  keys = activeKey(join(work.dir, 'keys'));
  for (const o of OBJECTS) gen(o, out(o), 'linux-6.18', keys);
  gen('xdp_filter', out('xdp_filter', 'linux-load-time'), 'linux-load-time', keys);
});
after(() => work?.cleanup());

const bpf = bpfPermitted();
describe('a linux-6.18 signed loader on this kernel', { skip: bpf.ok ? false : bpf.reason }, () => {
  const config = kernelConfig();
  const reports = new Map<string, SignedLoadReport>();
  const input = (o: string, data?: Uint8Array) => {
    const dir = out(o);
    const insns = new Uint8Array(readFileSync(join(dir, 'insns.bin')));
    const c = loaderCounts(dir);
    return {
      certDer: new Uint8Array(new X509Certificate(readFileSync(keys.cert)).raw),
      insns,
      data: data ?? new Uint8Array(readFileSync(join(dir, 'data.bin'))),
      signature: new Uint8Array(readFileSync(join(dir, 'signature.p7s'))),
      exclProgHash: new Uint8Array(sha256(insns)),
      nrMaps: c.maps.length,
      nrProgs: c.progs.length,
    };
  };
  const report = (o: string): SignedLoadReport => {
    let r = reports.get(o);
    if (!r) {
      r = runSignedLoad(`${o}-signed`, input(o));
      reports.set(o, r);
    }
    return r;
  };
  const loadCase = (r: SignedLoadReport, name: string) => {
    const c = r.signed_loads?.find((x) => x.case === name);
    assert.ok(c, `no "${name}" case in ${JSON.stringify(r)}`);
    return c;
  };

  for (const o of OBJECTS) {
    describe(`for ${o}`, () => {
      it('registers the certificate with add_key("asymmetric") in a fresh session keyring', (t) => {
        const r = report(o);
        t.diagnostic(`add_key: serial ${r.key.serial}, errno ${r.key.errno} (${r.key.note})`);
        assert.equal(r.key.join_errno, 0);
        if (config && !config.has('CONFIG_ASYMMETRIC_KEY_TYPE')) {
          assert.equal(r.key.errno, E.ENODEV, 'without CONFIG_ASYMMETRIC_KEY_TYPE the key type does not exist');
          return;
        }
        assert.equal(r.key.errno, 0, r.key.strerror);
        assert.ok(r.key.serial > 0);
      });

      it('prepares the metadata map as libbpf v1.7 does: exclusive to SHA-256(insns), frozen, map->sha = SHA-256(data)', () => {
        const r = report(o);
        assert.equal(r.stage, undefined, `metadata map: ${r.stage} errno ${r.errno}`);
        assert.deepEqual([r.signed.excl_errno, r.signed.freeze_errno, r.signed.hash_errno], [0, 0, 0]);
        assert.equal(r.signed.hash, sha256(readFileSync(join(out(o), 'data.bin'))).toString('hex'));
      });

      it('answers the signed BPF_PROG_LOAD as its config says (EOPNOTSUPP without CONFIG_SYSTEM_DATA_VERIFICATION)', (t) => {
        const r = report(o);
        for (const c of r.signed_loads ?? [])
          t.diagnostic(
            `${c.case}: attr_size ${c.attr_size} keyring_id ${c.keyring_id} → ${c.fd_ok ? 'loaded' : `errno ${c.errno} (${c.strerror})`}`,
          );
        const signedCases = ['session_keyring', 'builtin_trusted_keys', 'corrupted_signature', ...(r.key.serial > 0 ? ['key_serial'] : [])];
        if (config && !config.has('CONFIG_SYSTEM_DATA_VERIFICATION')) {
          // bpf_verify_pkcs7_signature() is a stub returning -EOPNOTSUPP: the kernel cannot even
          // parse the PKCS#7, so a corrupted signature gets the same answer as a good one.
          for (const name of signedCases) assert.equal(loadCase(r, name).errno, E.EOPNOTSUPP, name);
        } else {
          t.diagnostic(
            'CONFIG_SYSTEM_DATA_VERIFICATION is set (or the config is unreadable): recording, not asserting, the good-signature answers',
          );
          assert.equal(loadCase(r, 'corrupted_signature').fd_ok, false, 'a corrupted signature must never load');
        }
        // The keyring is resolved before verification: an id that names no keyring is EINVAL.
        assert.equal(loadCase(r, 'no_such_keyring').errno, E.EINVAL);
      });

      it('takes the signature fields inside its BTF union bpf_attr and refuses non-zero bytes past it with E2BIG', (t) => {
        const btf = parseBtf(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
        const attr = btf.getByName('bpf_attr', 'UNION');
        const size = btf.sizeOf(attr);
        const off = (f: string) => btf.memberOffset(attr, f).byteOffset;
        t.diagnostic(
          `kernel BTF: sizeof(union bpf_attr) = ${size}; signature @${off('signature')}, signature_size @${off('signature_size')}, keyring_id @${off('keyring_id')}`,
        );
        if (hasTool('bpftool')) {
          const raw = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], {
            encoding: 'utf8',
            maxBuffer: 256 << 20,
          });
          const m = /UNION 'bpf_attr' size=(\d+)/.exec(raw.stdout);
          assert.ok(m, 'bpftool shows union bpf_attr');
          assert.equal(Number(m[1]), size, 'parseBtf and bpftool agree on sizeof(union bpf_attr)');
        }
        // The UAPI layout (libbpf v1.7 include/uapi/linux/bpf.h) that signed-load.c uses.
        assert.deepEqual([off('fd_array_cnt'), off('signature'), off('signature_size'), off('keyring_id')], [148, 152, 160, 164]);
        assert.ok(size >= off('keyring_id') + 4, 'the signature fields lie inside the kernel attr, so a signed load cannot be E2BIG');
        const r = report(o);
        const longer = loadCase(r, 'longer_attr_nonzero_tail');
        assert.ok(longer.attr_size > size);
        assert.equal(longer.errno, E.E2BIG, 'a non-zero byte past the kernel attr is E2BIG, checked before the signature');
        assert.equal(loadCase(r, 'unsigned_longer_attr_nonzero_tail').errno, E.E2BIG);
        // Zero bytes past it are fine; the load then goes on to the signature.
        assert.equal(loadCase(r, 'longer_attr_zero_tail').errno, loadCase(r, 'session_keyring').errno);
        // An attr size that ends before `signature` hides the fields: the kernel loads unsigned.
        const cut = loadCase(r, 'signature_cut_off');
        assert.equal(cut.attr_size, off('signature'));
        assert.equal(cut.fd_ok, true, `attr size ${cut.attr_size}: errno ${cut.errno}`);
      });

      it('loads the same loader without the signature fields, and the loader returns 0 with every map and program created', () => {
        const u = report(o).unsigned;
        assert.ok(u);
        assert.deepEqual([u.load_errno, u.run_errno, u.retval], [0, 0, 0]);
        const want = loaderCounts(out(o));
        assert.deepEqual(
          u.maps.map((m) => m.fd_ok && m.id !== undefined && m.id > 0),
          want.maps.map(() => true),
        );
        assert.deepEqual(
          u.maps.map((m) => m.name),
          want.maps.map((n) => n.slice(0, 15)),
        );
        assert.deepEqual(
          u.progs.map((p) => p.fd_ok && p.type),
          want.progs.map(() => 6 /* BPF_PROG_TYPE_XDP */),
        );
        assert.deepEqual(
          u.progs.map((p) => p.name),
          want.progs.map((n) => n.slice(0, 15)),
        );
      });

      it('makes the loader return -EINVAL, before it creates anything, when one byte of data.bin changes', () => {
        const data = new Uint8Array(readFileSync(join(out(o), 'data.bin')));
        data[data.length >> 1] ^= 0x01;
        const r = runSignedLoad(`${o}-tampered`, input(o, data));
        assert.equal(r.signed.hash, sha256(data).toString('hex'), 'the kernel hashed the changed blob');
        assert.ok(r.unsigned);
        assert.deepEqual([r.unsigned.load_errno, r.unsigned.run_errno, r.unsigned.retval], [0, 0, -E.EINVAL]);
        assert.ok(r.unsigned.maps.every((m) => !m.fd_ok) && r.unsigned.progs.every((p) => !p.fd_ok), JSON.stringify(r.unsigned));
      });
    });
  }
});

describe('openssl cms -verify on the CLI signature', { skip: OPENSSL_MISSING }, () => {
  const cmsVerify = (content: string, sig: string, ca = keys.ca) =>
    openssl([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-content',
      content,
      '-in',
      sig,
      '-certfile',
      keys.cert,
      '-CAfile',
      ca,
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
  const flipped = (file: string, name: string, extra?: string) => {
    const b = readFileSync(file);
    b[b.length >> 1] ^= 0x01;
    const p = join(work.dir, name);
    writeFileSync(p, extra ? Buffer.concat([b, readFileSync(extra)]) : b);
    return p;
  };

  it('accepts linux-6.18: the content is insns.bin', () => {
    const d = out('xdp_filter');
    const r = cmsVerify(join(d, 'insns.bin'), join(d, 'signature.p7s'));
    assert.equal(r.status, 0, r.stderr);
  });

  it('rejects linux-6.18 after one byte of insns changes', () => {
    const d = out('xdp_filter');
    const r = cmsVerify(flipped(join(d, 'insns.bin'), 'insns-flipped.bin'), join(d, 'signature.p7s'));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /verification failure|content verify error/);
  });

  it('accepts linux-load-time over insns ‖ data, not over insns alone', () => {
    const d = out('xdp_filter', 'linux-load-time');
    const both = join(work.dir, 'insns+data.bin');
    writeFileSync(both, Buffer.concat([readFileSync(join(d, 'insns.bin')), readFileSync(join(d, 'data.bin'))]));
    const r = cmsVerify(both, join(d, 'signature.p7s'));
    assert.equal(r.status, 0, r.stderr);
    assert.notEqual(cmsVerify(join(d, 'insns.bin'), join(d, 'signature.p7s')).status, 0);
  });

  it('rejects linux-load-time after one byte of insns changes', () => {
    const d = out('xdp_filter', 'linux-load-time');
    const r = cmsVerify(flipped(join(d, 'insns.bin'), 'lt-flipped.bin', join(d, 'data.bin')), join(d, 'signature.p7s'));
    assert.notEqual(r.status, 0);
  });

  it('rejects it under a different CA', () => {
    const other = join(work.dir, 'other-ca');
    assert.equal(cli('keys', 'create', '--dir', other).status, 0);
    const d = out('xdp_filter');
    assert.notEqual(cmsVerify(join(d, 'insns.bin'), join(d, 'signature.p7s'), activeKey(other).ca).status, 0);
  });
});

describe('bpfsign verify on the CLI bundles', () => {
  const obj = objPath('xdp_filter');

  it('exits 0 with verdict OK for every scheme and object', () => {
    for (const [o, s] of [
      ['xdp_filter', 'linux-6.18'],
      ['globals', 'linux-6.18'],
      ['xdp_filter', 'linux-load-time'],
    ] as const) {
      const v = verify(out(o, s), '--trust', keys.ca, '--object', objPath(o));
      assert.deepEqual([v.status, v.verdict], [0, 'OK'], `${o} ${s}: ${JSON.stringify(v.json.checks)}`);
    }
  });

  it('keeps old bundles valid after keys rotate, and signs new ones with the new key', () => {
    const dir = join(work.dir, 'rotating');
    assert.equal(cli('keys', 'create', '--dir', dir).status, 0);
    const k1 = activeKey(dir);
    const before = join(work.dir, 'before-rotate');
    gen('xdp_filter', before, 'linux-6.18', k1);
    const r = cli('keys', 'rotate', '--dir', dir);
    assert.equal(r.status, 0, r.stderr);
    const k2 = activeKey(dir);
    assert.notEqual(k2.cert, k1.cert);
    assert.equal(k2.ca, k1.ca);
    const afterDir = join(work.dir, 'after-rotate');
    gen('xdp_filter', afterDir, 'linux-6.18', k2);
    const v1 = verify(before, '--trust', k1.ca, '--object', obj);
    const v2 = verify(afterDir, '--trust', k2.ca, '--object', obj);
    assert.deepEqual([v1.status, v1.verdict, v2.status, v2.verdict], [0, 'OK', 0, 'OK']);
    // The SKI each bundle names is the SKI openssl reads from the certificate that signed it.
    const ski = (p: string) => {
      const o = openssl(['x509', '-in', p, '-noout', '-ext', 'subjectKeyIdentifier']);
      return /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(o.stdout)?.[1].replace(/:/g, '').toLowerCase();
    };
    assert.ok(v1.ski && v2.ski);
    assert.notEqual(v1.ski, v2.ski);
    if (!OPENSSL_MISSING) assert.deepEqual([v1.ski, v2.ski], [ski(k1.cert), ski(k2.cert)]);
  });

  it('says BADSIG when one byte of insns in bundle.json changes', () => {
    const d = join(work.dir, 'tampered-insns');
    tamperBundle(out('xdp_filter'), d, 'insns');
    const v = verify(d, '--trust', keys.ca, '--object', obj);
    assert.deepEqual([v.status, v.verdict], [1, 'BADSIG']);
    assert.equal(v.json.checks.find((c) => c.check === 'signature')?.code, 'BADSIG');
  });

  it('says MISMATCH when one byte of data changes: the signature over insns holds, the signed manifest does not', () => {
    const d = join(work.dir, 'tampered-data');
    tamperBundle(out('xdp_filter'), d, 'data');
    const v = verify(d, '--trust', keys.ca, '--object', obj);
    assert.equal(v.status, 1);
    assert.equal(v.verdict, 'MISMATCH');
    const status = Object.fromEntries(v.json.checks.map((c) => [c.check, c.status]));
    assert.equal(status.signature, 'pass', 'linux-6.18 signs the instructions only');
    assert.equal(status.manifest, 'fail', 'the signed manifest records SHA-256 of the data');
  });

  it('says UNTRUSTED under a different CA', () => {
    const other = join(work.dir, 'untrusted-ca');
    assert.equal(cli('keys', 'create', '--dir', other).status, 0);
    const v = verify(out('xdp_filter'), '--trust', activeKey(other).ca, '--object', obj);
    assert.deepEqual([v.status, v.verdict], [1, 'UNTRUSTED']);
  });

  it('says UNTRUSTED when the policy names identities the signer does not match', () => {
    const policy = join(work.dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        version: 1,
        name: 'other signers only',
        roots: [readFileSync(keys.ca, 'utf8')],
        identities: [{ subject: 'CN=somebody else' }],
      }),
    );
    const v = verify(out('xdp_filter'), '--policy', policy, '--object', obj);
    assert.deepEqual([v.status, v.verdict], [1, 'UNTRUSTED']);
    assert.equal(v.json.checks.find((c) => c.check === 'identity')?.status, 'fail');
    // The same policy naming the signer's own subject (as node reads it from the certificate) passes.
    const subject = new X509Certificate(readFileSync(keys.cert)).subject.split('\n').join(', ');
    writeFileSync(
      policy,
      JSON.stringify({ version: 1, name: 'our signer', roots: [readFileSync(keys.ca, 'utf8')], identities: [{ subject }] }),
    );
    assert.equal(verify(out('xdp_filter'), '--policy', policy, '--object', obj).verdict, 'OK', subject);
  });
});
