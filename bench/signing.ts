/**
 * Signatures per second on one core: our Signer (WebCrypto) and full CMS signDetached for RSA-2048,
 * RSA-3072 and P-256, beside `openssl speed` for the same algorithms in the same run.
 * Target: P-256 within 1.5× of openssl.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPair, signDetached, webCryptoSigner } from '../src/signing/index.js';

export interface SigningBench { alg: string; ours_per_s: number; cms_per_s: number; openssl_per_s: number | null; ratio: number | null; target: string }

async function rate(fn: () => Promise<unknown>, ms = 1500): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) { await fn(); n++; }
  return n / ((performance.now() - t0) / 1000);
}

function opensslSpeed(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const text = execFileSync('openssl', ['speed', '-seconds', '2', 'rsa2048', 'rsa3072', 'ecdsap256'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const m of text.matchAll(/^rsa\s+(\d+) bits\s+\S+s\s+\S+s\s+([\d.]+)/gm)) out.set(`rsa${m[1]}`, Number(m[2]));
    for (const m of text.matchAll(/^\s*256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)/gm)) out.set('p256', Number(m[1]));
  } catch { /* openssl missing: peer reported as n/a */ }
  return out;
}

export async function benchSigning(): Promise<SigningBench[]> {
  const peer = opensslSpeed();
  // openssl speed signs a precomputed digest; sign a digest-sized message so both time the signature itself
  // (the CMS column then shows the whole kernel signature over a 4 KiB loader).
  const msg = new Uint8Array(32).fill(7);
  const loader = new Uint8Array(4096).fill(7);
  const rows: SigningBench[] = [];
  for (const [alg, key, bits] of [['rsa2048', 'rsa-pkcs1v15-sha256', 2048], ['rsa3072', 'rsa-pkcs1v15-sha256', 3072], ['p256', 'ecdsa-p256-sha256', 0]] as const) {
    const pair = await generateKeyPair(key, bits || undefined);
    const signer = webCryptoSigner(pair.privateKey, new Uint8Array(20).fill(1));
    const ours = await rate(() => signer.sign(msg));
    const cms = await rate(() => signDetached(loader, signer));
    const o = peer.get(alg) ?? null;
    rows.push({ alg, ours_per_s: Math.round(ours), cms_per_s: Math.round(cms), openssl_per_s: o, ratio: o ? o / ours : null, target: alg === 'p256' ? 'openssl/ours ≤ 1.5' : 'reported' });
  }
  return rows;
}
