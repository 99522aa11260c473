/**
 * `bpfsign verify` as a CI gate runs it: a gen directory verifies only as a whole (one flipped byte
 * in any of its files, a missing or an extra file exits 1 naming it); a manifest forged under a
 * copied SKI exits 1; --trust requires log inclusion unless --offline; skipped checks print
 * `skip`; input it cannot read exits 2 with one line and no stack trace; a bpftool 7.7 header
 * verifies on its own.
 */
import 'reflect-metadata';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { ed25519VerifierKey } from '../../src/signing/tlog/index.js';
import {
  X509CertificateGenerator,
  SubjectKeyIdentifierExtension,
  KeyUsagesExtension,
  KeyUsageFlags,
  ExtendedKeyUsageExtension,
} from '@peculiar/x509';
import { generateKeyPair, parseCertificate, signStatement, webCryptoSigner } from '../../src/signing/index.js';
import { canonicalBytes, type JsonValue } from '../../src/signing/canonical.js';
import { FIXTURES, ROOT } from '../support/objects.js';
import { testKeysDir } from '../support/test-keys.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const REFERENCE = join(ROOT, '../shared/reference/bpftool-7.7');
const KEYS = testKeysDir();
const CERT = join(KEYS, 'rsa2048.cert.pem');
const OBJ = join(FIXTURES, 'obj/xdp_filter.clang-el.o');
const canReplay = existsSync('/sys/kernel/btf/vmlinux');

const bpfsign = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'bpfsign-verify-'));

let dir: string;
before(() => {
  dir = tmp();
  const r = bpfsign('gen', OBJ, '-o', dir, '--scheme', 'linux-6.18', '--key', join(KEYS, 'rsa2048.key.pem'), '--cert', CERT);
  assert.equal(r.status, 0, r.stderr);
});

function copyOf(src: string): string {
  const d = tmp();
  cpSync(src, d, { recursive: true });
  return d;
}

/** One line on stderr, no stack trace. */
function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe('bpfsign verify DIR', { skip: canReplay ? false : 'no kernel BTF for the replay' }, () => {
  it('exits 0 for the directory gen wrote, every file checked', () => {
    const r = bpfsign('verify', dir, '--trust', CERT, '--offline');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^OK /);
    assert.match(r.stdout, /pass files .*every file is the signed bundle's/);
  });

  for (const file of [
    'insns.bin',
    'data.bin',
    'signature.p7s',
    'manifest.json',
    'loader.json',
    'init.3.bin',
    'xdp_filter_clang_el.lskel.h',
  ]) {
    it(`exits 1 naming ${file} after one flipped byte in it`, () => {
      const d = copyOf(dir);
      const p = join(d, file);
      const b = readFileSync(p);
      // A byte of the payload: a hex digit of the header's loader, a digest in JSON, else the middle.
      const text = b.toString('latin1');
      const i = file.endsWith('.h')
        ? text.indexOf('\\x', text.indexOf('opts_insn')) + 3
        : file.endsWith('.json')
          ? /[0-9a-f]{64}/.exec(text)!.index + 3
          : b.length >> 1;
      b[i] ^= 0x01;
      writeFileSync(p, b);
      const r = bpfsign('verify', d, '--trust', CERT, '--offline');
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`FAIL files .*${file.replace('.', '\\.')}`));
    });
  }

  it('exits 1 naming a missing file and an extra one', () => {
    const d = copyOf(dir);
    rmSync(join(d, 'data.bin'));
    writeFileSync(join(d, 'payload.o'), 'x');
    const r = bpfsign('verify', d, '--trust', CERT, '--offline');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /data\.bin is missing/);
    assert.match(r.stdout, /payload\.o is not part of this bundle/);
  });

  it('exits 1 for a manifest signed under a copied SKI by another key (PARTIALSIG)', async () => {
    const d = copyOf(dir);
    const bundle = JSON.parse(readFileSync(join(d, 'bundle.json'), 'utf8'));
    const ski = parseCertificate(readFileSync(CERT, 'utf8')).subjectKeyIdentifier!;
    const keys = await generateKeyPair('ecdsa-p256-sha256');
    const now = Date.now();
    const forged = await X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: '02',
        name: 'CN=bpftool-7.7 reference RSA-2048 (test only)',
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 86_400_000),
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        keys,
        extensions: [
          new SubjectKeyIdentifierExtension(ski),
          new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
          new ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.3']),
        ],
      },
      webcrypto as never,
    );
    const statement = JSON.parse(Buffer.from(bundle.manifest.payload, 'base64').toString());
    statement.predicate.object.name = 'evil';
    bundle.manifest = await signStatement(statement, webCryptoSigner(keys.privateKey, Buffer.from(ski, 'hex')));
    bundle.certificates = [...bundle.certificates, forged.toString('pem')];
    writeFileSync(join(d, 'bundle.json'), JSON.stringify(bundle, null, 2) + '\n');
    writeFileSync(join(d, 'manifest.json'), Buffer.concat([canonicalBytes(statement.predicate as JsonValue), Buffer.from('\n')]));
    const r = bpfsign('verify', d, '--trust', CERT, '--offline');
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /^PARTIALSIG /);
    assert.match(r.stdout, /FAIL manifest .*same SKI, different key/);
  });
});

describe('bpfsign verify --trust and the log', () => {
  it('refuses --trust without --log-key or --offline, in one line, exit 2', () => {
    const r = bpfsign('verify', dir, '--trust', CERT);
    assert.equal(r.status, 2);
    oneLine(r.stderr);
    assert.match(r.stderr, /requires log inclusion.*--log-key.*--offline/);
  });

  it(
    "with --log-key requires the bundle's inclusion proof (a gen bundle has none: exit 1)",
    { skip: canReplay ? false : 'no kernel BTF' },
    () => {
      const keyFile = join(tmp(), 'log.vkey');
      // A well-formed Ed25519 note verifier key of a log that never saw this bundle.
      const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
      writeFileSync(keyFile, `example.log+${ed25519VerifierKey('example.log', new Uint8Array(raw)).split('+').slice(1).join('+')}\n`);
      for (const key of [keyFile, readFileSync(keyFile, 'utf8').trim()]) {
        const r = bpfsign('verify', dir, '--trust', CERT, '--log-key', key);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stdout, /FAIL transparencyLog .*no transparency-log proof/);
      }
    },
  );

  it('prints skip, never pass, for checks it did not run', { skip: canReplay ? false : 'no kernel BTF' }, () => {
    const r = bpfsign('verify', dir, '--trust', CERT, '--offline');
    assert.match(r.stdout, /skip transparencyLog/);
    assert.match(r.stdout, /skip object .*no object given/);
    assert.match(r.stdout, /skip revocation .*no CRLs/);
  });
});

describe('bpfsign verify of input it cannot read', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['a file that is not a bundle', () => ['verify', join(ROOT, 'README.md'), '--trust', CERT, '--offline'], /INPUT_INVALID/],
    [
      'a bundle with a duplicate key',
      () => {
        const f = join(tmp(), 'b.json');
        writeFileSync(f, '{"scheme":"unsigned","scheme":"linux-6.18"}');
        return ['verify', f, '--trust', CERT, '--offline'];
      },
      /JSON_DUPLICATE_KEY.*\$\.scheme/,
    ],
    [
      'a bundle that is not one',
      () => {
        const f = join(tmp(), 'b.json');
        writeFileSync(f, '{"mediaType":"x"}');
        return ['verify', f, '--trust', CERT, '--offline'];
      },
      /BUNDLE_INVALID/,
    ],
    ['a missing file', () => ['verify', '/nonexistent/bundle.json', '--trust', CERT, '--offline'], /no such file/],
    ['a policy that is not JSON', () => ['verify', dir, '--policy', join(ROOT, 'README.md')], /JSON_INVALID/],
    ['a --log-key that is not a key', () => ['verify', dir, '--trust', CERT, '--log-key', 'junk'], /LOG_KEY_INVALID/],
    [
      'a header that is not a light skeleton',
      () => {
        const f = join(tmp(), 'x.h');
        writeFileSync(f, 'int x;\n');
        return ['verify', f, '--trust', CERT, '--offline'];
      },
      /HEADER_INVALID/,
    ],
  ];
  for (const [what, args, code] of cases) {
    it(`exits 2 with one line for ${what}`, () => {
      const r = bpfsign(...args());
      assert.equal(r.status, 2, r.stdout + r.stderr);
      oneLine(r.stderr);
      assert.match(r.stderr, code);
    });
  }
});

describe(
  'bpfsign verify FILE.lskel.h',
  { skip: canReplay && existsSync(REFERENCE) ? false : 'no reference headers or no kernel BTF' },
  () => {
    const header = join(REFERENCE, 'fixtures/xdp_filter.clang-el.rsa2048.lskel.h');
    const policy = () => {
      const f = join(tmp(), 'policy.json');
      writeFileSync(
        f,
        JSON.stringify({
          version: 1,
          name: 'bpftool',
          roots: [readFileSync(CERT, 'utf8')],
          checks: { hardening: 'log', transparencyLog: 'skip' },
        }),
      );
      return f;
    };

    it("verifies bpftool's signed header with its object, naming the flavour that re-derives it", () => {
      const r = bpfsign('verify', header, '--policy', policy(), '--object', OBJ);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /re-derived with flavour libbpf-1\.7/);
      assert.match(r.stdout, /FAIL hardening +log +\[POLICY\] .*CTX_OVERRIDES_MAP/);
    });

    it('refuses it under --trust, whose strict policy enforces hardening', () => {
      const r = bpfsign('verify', header, '--trust', CERT, '--offline');
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^POLICY /);
    });

    it('prints the whole verdict as JSON with --json', () => {
      const r = bpfsign('verify', header, '--policy', policy(), '--json');
      const v = JSON.parse(r.stdout);
      assert.equal(v.verdict, 'OK');
      assert.deepEqual(
        v.checks.map((c: { check: string }) => c.check),
        [
          'signature',
          'chain',
          'identity',
          'revocation',
          'manifest',
          'files',
          'transparencyLog',
          'replay',
          'object',
          'hardening',
          'contents',
        ],
      );
    });

    it('keeps every file of a directory as it was (verification writes nothing)', () => {
      const before = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('base64'));
      bpfsign('verify', dir, '--trust', CERT, '--offline');
      assert.deepEqual(
        readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('base64')),
        before,
      );
    });
  },
);
