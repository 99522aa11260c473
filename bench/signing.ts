/**
 * Signatures per second on one core for RSA-2048, RSA-3072, P-256 and P-384, beside `openssl speed`
 * for the same algorithm measured right before it in the same run (this machine is noisy; adjacent
 * measurements drift least). Target: P-256 within 1.5× of openssl.
 *
 * Columns: `ours` is Signer.sign over a digest-sized message through the real signer (the one
 * signerFromPem and the CMS builder use; async, hashes then signs), `digest` is the primitive
 * signing a precomputed SHA-256 digest (what openssl speed times), `node` is the node:crypto
 * primitive on the same key for reference, `cms` is the whole signDetached over a 4 KiB loader.
 * The signing path (native addon or node:crypto) is printed and returned.
 */
import { execFileSync } from 'node:child_process';
import { createHash, KeyObject } from 'node:crypto';
import { generateKeyPair, signDetached, webCryptoSigner, type SignerAlgorithm } from '../src/signing/index.js';
import { nativeSignStatus, signPrimitive } from '../src/signing/keys/primitive.js';

export interface SigningBench {
  alg: string;
  path: string;
  ours_per_s: number;
  digest_per_s: number | null;
  node_per_s: number;
  cms_per_s: number;
  openssl_per_s: number | null;
  ratio: number | null;
  target: string;
}

async function rate(fn: () => Promise<unknown>, ms = 1500): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

function rateSync(fn: () => unknown, ms = 1500): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** `openssl speed -seconds 2 <alg>` sign/s, or null when openssl is missing or the output is not understood. */
function opensslSpeed(alg: string): number | null {
  try {
    const text = execFileSync('openssl', ['speed', '-seconds', '2', alg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rsa = /^rsa\s+\d+ bits\s+\S+s\s+\S+s\s+([\d.]+)/m.exec(text);
    const ec = /^\s*\d+ bits ecdsa \(nistp\d+\)\s+\S+s\s+\S+s\s+([\d.]+)/m.exec(text);
    const m = alg.startsWith('rsa') ? rsa : ec;
    return m ? Number(m[1]) : null;
  } catch {
    return null; // openssl missing: peer reported as n/a
  }
}

const CASES: [string, SignerAlgorithm, number | undefined, string][] = [
  ['rsa2048', 'rsa-pkcs1v15-sha256', 2048, 'rsa2048'],
  ['rsa3072', 'rsa-pkcs1v15-sha256', 3072, 'rsa3072'],
  ['p256', 'ecdsa-p256-sha256', undefined, 'ecdsap256'],
  ['p384', 'ecdsa-p384-sha256', undefined, 'ecdsap384'],
];

export async function benchSigning(): Promise<SigningBench[]> {
  const status = nativeSignStatus();
  console.log(
    `      signing path: ${status.available ? `native addon (${status.openssl}, node has ${process.versions.openssl})` : `node:crypto (${status.reason})`}`,
  );
  const msg = new Uint8Array(32).fill(7);
  const digest = createHash('sha256').update(msg).digest();
  const loader = new Uint8Array(4096).fill(7);
  const rows: SigningBench[] = [];
  for (const [alg, key, bits, speedName] of CASES) {
    const pair = await generateKeyPair(key, bits);
    const signer = webCryptoSigner(pair.privateKey, new Uint8Array(20).fill(1));
    const keyObject = KeyObject.from(pair.privateKey);
    const o = opensslSpeed(speedName);
    const ours = await rate(() => signer.sign(msg));
    const primitive = signPrimitive(keyObject, key);
    const dig = primitive.path === 'native' || alg.startsWith('rsa') ? rateSync(() => primitive.signDigest(digest)) : null;
    const nodePrimitive = signPrimitive(keyObject, key, 'node');
    const node = rateSync(() => nodePrimitive.sign(msg), 1000);
    const cms = await rate(() => signDetached(loader, signer), 1000);
    const row: SigningBench = {
      alg,
      path: signer.signPath ?? 'unknown',
      ours_per_s: Math.round(ours),
      digest_per_s: dig === null ? null : Math.round(dig),
      node_per_s: Math.round(node),
      cms_per_s: Math.round(cms),
      openssl_per_s: o,
      ratio: o ? o / ours : null,
      target: alg === 'p256' ? 'openssl/ours ≤ 1.5' : 'reported',
    };
    console.log(
      `      ${alg} [${row.path}]: signer ${row.ours_per_s}/s, digest ${row.digest_per_s ?? 'n/a'}/s, node:crypto ${row.node_per_s}/s, CMS ${row.cms_per_s}/s; openssl speed ${o ?? 'n/a'}/s` +
        (o ? ` (openssl/signer ${(o / ours).toFixed(2)}, openssl/digest ${dig ? (o / dig).toFixed(2) : 'n/a'})` : ''),
    );
    rows.push(row);
  }
  return rows;
}
