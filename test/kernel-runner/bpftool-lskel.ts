/**
 * Test support: run Debian's `bpftool gen skeleton -L` and read back what it embedded
 * (opts_data / opts_insn bytes and the mmapable maps' initial images).
 */
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { hasTool } from '../support/objects.js';

export const HAVE_BPFTOOL = hasTool('bpftool');

/** bpftool's object name for a path: basename without `.o`, non-alnum → `_` (≤ 63 chars). */
export function bpftoolObjName(path: string): string {
  let b = basename(path).slice(0, 63);
  if (b.endsWith('.o')) b = b.slice(0, -2);
  return b.replace(/[^A-Za-z0-9_]/g, '_');
}

export type BpftoolResult = { ok: true; header: string } | { ok: false; reason: string };

const cache = new Map<string, BpftoolResult>();

/** `bpftool gen skeleton -L PATH name NAME`; failures (non-zero exit, crash) give the reason. */
export function bpftoolLskel(path: string, name: string): BpftoolResult {
  const key = `${path}\0${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const r = spawnSync('bpftool', ['gen', 'skeleton', '-L', path, 'name', name], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    timeout: 60_000,
  });
  let res: BpftoolResult;
  if (r.status === 0 && r.stdout) res = { ok: true, header: r.stdout };
  else {
    const why = r.signal ? `bpftool killed by ${r.signal}` : `bpftool exit ${r.status}`;
    const last = (r.stderr || '').trim().split('\n').slice(-2).join('; ');
    res = { ok: false, reason: `${why}: ${last}` };
  }
  cache.set(key, res);
  return res;
}

/** Decode the body of a C string literal made of `\0`, `\xNN` and backslash-newlines. */
export function decodeCString(body: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] !== '\\') throw new Error(`unexpected char ${JSON.stringify(body[i])} at ${i}`);
    const c = body[i + 1];
    if (c === '\n') {
      i += 2;
      continue;
    }
    if (c === '0') {
      out.push(0);
      i += 2;
      continue;
    }
    if (c === 'x') {
      out.push(parseInt(body.slice(i + 2, i + 4), 16));
      i += 4;
      continue;
    }
    throw new Error(`unexpected escape \\${c} at ${i}`);
  }
  return Uint8Array.from(out);
}

function literalAfter(header: string, marker: string): Uint8Array {
  const at = header.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not in header`);
  const start = at + marker.length;
  const end = header.indexOf('"', start);
  return decodeCString(header.slice(start, end));
}

export interface BpftoolLskelParts {
  data: Uint8Array;
  insns: Uint8Array;
  /** Initial images passed to skel_prep_map_data, by map identifier. */
  images: Map<string, Uint8Array>;
}

/** Extract the embedded bytes of a bpftool 7.1 light skeleton. */
export function lskelParts(header: string): BpftoolLskelParts {
  const images = new Map<string, Uint8Array>();
  const re = /\tskel->([A-Za-z0-9_]+) = skel_prep_map_data\(\(void \*\)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    const start = m.index + m[0].length;
    images.set(m[1], decodeCString(header.slice(start, header.indexOf('"', start))));
  }
  return { data: literalAfter(header, 'opts.data = (void *)"'), insns: literalAfter(header, 'opts.insns = (void *)"'), images };
}
