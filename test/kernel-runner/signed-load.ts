/**
 * Test support: build test/kernel-runner/signed-load.c with gcc and run it on a linux-6.18
 * signed loader (certificate DER, insns, data, signature.p7s, excl_prog_hash, ctx counts).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/objects.js';
import { gcc, work } from './harness.js';

export interface SignedLoadCase {
  case: string;
  attr_size: number;
  keyring_id: number;
  signature_size: number;
  with_signature: boolean;
  fd_ok: boolean;
  errno: number;
  strerror: string;
}

export interface SignedLoadObject {
  index: number;
  fd_ok: boolean;
  id?: number;
  type?: number;
  max_entries?: number;
  name?: string;
  info_errno?: number;
}

export interface SignedLoadReport {
  key: { session_keyring: number; join_errno: number; serial: number; errno: number; strerror: string; note: string };
  signed: { excl_requested: boolean; excl_errno: number; freeze_errno: number; hash_errno: number; hash: string };
  /** Set when the metadata map sequence failed (nothing was loaded). */
  stage?: string;
  errno?: number;
  signed_loads?: SignedLoadCase[];
  unsigned?: { load_errno: number; run_errno?: number; retval?: number; maps: SignedLoadObject[]; progs: SignedLoadObject[] };
}

export interface SignedLoadInput {
  certDer: Uint8Array;
  insns: Uint8Array;
  data: Uint8Array;
  signature: Uint8Array;
  exclProgHash: Uint8Array;
  nrMaps: number;
  nrProgs: number;
}

let exePath: string | undefined;

/** Path of the compiled probe (built once per process); throws with gcc's message when it does not build. */
export function signedLoadExe(): string {
  if (exePath) return exePath;
  const exe = join(work(), 'signed-load');
  const r = gcc(['-O1', '-Wall', '-Werror', '-Wno-unused-function', '-o', exe, join(ROOT, 'test/kernel-runner/signed-load.c')]);
  if (!r.ok) throw new Error(`signed-load.c does not build: ${r.reason}`);
  exePath = exe;
  return exe;
}

/** Run the signed-load probe on one loader; `tag` names its input files in the work directory. */
export function runSignedLoad(tag: string, input: SignedLoadInput): SignedLoadReport {
  const dir = work();
  const files = {
    cert: input.certDer,
    insns: input.insns,
    data: input.data,
    sig: input.signature,
    excl: input.exclProgHash,
  };
  const paths: Record<string, string> = {};
  for (const [k, v] of Object.entries(files)) {
    paths[k] = join(dir, `${tag}.sl.${k}`);
    writeFileSync(paths[k], v);
  }
  const r = spawnSync(
    signedLoadExe(),
    [paths.cert, paths.insns, paths.data, paths.sig, paths.excl, String(input.nrMaps), String(input.nrProgs)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`signed-load failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as SignedLoadReport;
}
