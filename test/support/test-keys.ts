/**
 * Test signing keys: the bpftool 7.7 reference keys when that folder is beside the project (their
 * headers are signed with them), else keys of the same names and kinds made here with openssl —
 * RSA-2048 and P-256, self-signed, keyUsage digitalSignature, extendedKeyUsage codeSigning, a
 * subjectKeyIdentifier — so tests that need some signing key run on any clone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './objects.js';

export const REFERENCE_KEYS = join(ROOT, '../shared/reference/bpftool-7.7/keys');

let made: string | null = null;

function makeKeys(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-test-keys-'));
  const cert = (name: string, keyArgs: string[], cn: string) => {
    execFileSync('openssl', ['genpkey', ...keyArgs, '-out', join(dir, `${name}.key.pem`)], { stdio: 'ignore' });
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        join(dir, `${name}.key.pem`),
        '-out',
        join(dir, `${name}.cert.pem`),
        '-days',
        '3650',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'keyUsage=critical,digitalSignature',
        '-addext',
        'extendedKeyUsage=codeSigning',
        '-addext',
        'subjectKeyIdentifier=hash',
        '-addext',
        'basicConstraints=critical,CA:FALSE',
      ],
      { stdio: 'ignore' },
    );
  };
  cert('rsa2048', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'bpfsign test RSA-2048');
  cert('p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'bpfsign test P-256');
  return dir;
}

/** A folder with rsa2048.{key,cert}.pem and p256.{key,cert}.pem. */
export function testKeysDir(): string {
  if (existsSync(join(REFERENCE_KEYS, 'p256.cert.pem'))) return REFERENCE_KEYS;
  return (made ??= makeKeys());
}

/**
 * A light skeleton as `bpftool gen skeleton -L -S` 7.7 writes it for an object, signed with one of
 * the test keys: the reference header when the reference folder is here, else the same text made
 * with the libbpf-1.7 flavour (byte for byte bpftool's: test/loader/gen/bpftool-7.7.test.ts).
 */
export async function bpftoolStyleHeader(objectPath: string, key: 'rsa2048' | 'p256'): Promise<string> {
  const base = objectPath.slice(objectPath.lastIndexOf('/') + 1).replace(/\.o$/, '');
  const ref = join(ROOT, '../shared/reference/bpftool-7.7/fixtures', `${base}.${key}.lskel.h`);
  if (existsSync(ref)) return readFileSync(ref, 'utf8');
  const { buildLoader, signedHeader } = await import('../../src/service/loader.js');
  const { signBuilt } = await import('../../src/service/sign.js');
  const { signerFromPem } = await import('../../src/signing/index.js');
  const dir = testKeysDir();
  const certificate = readFileSync(join(dir, `${key}.cert.pem`), 'utf8');
  const built = buildLoader(new Uint8Array(readFileSync(objectPath)), `${base}.o`, {
    scheme: 'linux-6.18',
    name: base.replace(/[^A-Za-z0-9_]/g, '_'),
    flavour: 'libbpf-1.7',
    standalone: false,
    mapExcl: false,
    host: {},
  });
  const signed = await signBuilt(built, await signerFromPem({ privateKey: readFileSync(join(dir, `${key}.key.pem`)), certificate }), [
    certificate,
  ]);
  return signedHeader(built, signed.signature);
}
