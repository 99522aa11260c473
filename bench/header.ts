/**
 * Verifying a bpftool 7.7 signed light skeleton (the CI gate's usual input): our whole
 * verifyHeader — the PKCS#7 against the policy, the header's text printed again, the replay in the
 * kernel model, the hardening findings, and with the object the loader re-derived byte for byte —
 * beside `openssl cms -verify` of the same signature over the same instructions, run as a process
 * as a CI job would run it, in the same run. Target: ours, the object included, ≤ 1× openssl's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLightSkeleton } from '../src/loader/gen/index.js';
import { verifyHeader } from '../src/service/verify-header.js';
import { loadProfile } from '../src/service/verify.js';
import { parsePolicy, STRICT } from '../src/signing/policy.js';

export interface HeaderBenchResult {
  name: string;
  ours_ms: number;
  ours_no_object_ms: number;
  peer: string;
  peer_ms: number | null;
  target: string;
  ok: boolean;
  note?: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(runs: number, f: () => void): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

export function benchHeader(root: string): HeaderBenchResult | null {
  const ref = join(root, '../shared/reference/bpftool-7.7');
  const file = join(ref, 'fixtures/xdp_filter.clang-el.rsa2048.lskel.h');
  const objPath = join(root, 'test/fixtures/obj/xdp_filter.clang-el.o');
  if (!existsSync(file) || !existsSync('/sys/kernel/btf/vmlinux')) return null;
  const text = readFileSync(file, 'utf8');
  const cert = join(ref, 'keys/rsa2048.cert.pem');
  const policy = parsePolicy({
    version: 1,
    name: 'bench',
    roots: [readFileSync(cert, 'utf8')],
    checks: { ...STRICT, transparencyLog: 'skip', hardening: 'log' },
  });
  const profile = loadProfile('host');
  const object = new Uint8Array(readFileSync(objPath));
  const at = new Date();
  const once = (withObject: boolean) => {
    const v = verifyHeader(text, policy, { at, profile, ...(withObject ? { object, objectFile: 'xdp_filter.clang-el.o' } : {}) });
    if (v.verdict.verdict !== 'OK') throw new Error(`bench header: verdict ${v.verdict.verdict}`);
  };
  for (let i = 0; i < 20; i++) {
    once(true);
    once(false);
  } // warm, in process, as the service is
  const ours = timed(50, () => once(true));
  const oursNoObject = timed(50, () => once(false));

  let peer: number | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-bench-header-'));
  try {
    const h = parseLightSkeleton(text);
    writeFileSync(join(dir, 'insns.bin'), h.insns);
    writeFileSync(join(dir, 'sig.der'), h.signature!);
    const args = [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      join(dir, 'sig.der'),
      '-content',
      join(dir, 'insns.bin'),
      '-certfile',
      cert,
      '-CAfile',
      cert,
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ];
    execFileSync('openssl', args, { stdio: 'ignore' });
    peer = timed(20, () => execFileSync('openssl', args, { stdio: 'ignore' }));
  } catch {
    peer = null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    name: 'verify a bpftool 7.7 signed header (xdp_filter, RSA-2048; with its object)',
    ours_ms: ours,
    ours_no_object_ms: oursNoObject,
    peer: 'openssl cms -verify (process)',
    peer_ms: peer,
    target: '≤ 1× openssl',
    ok: peer !== null && ours <= peer,
    note: `without the object: ${oursNoObject.toFixed(3)} ms (the signature, the text, the replay and the findings)`,
  };
}
