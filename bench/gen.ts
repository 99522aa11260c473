/**
 * Loader generation: our parseObject + planObject + generateLoader (unsigned) for each object
 * Debian's bpftool handles, beside the wall time of `bpftool gen skeleton -L` on the same object
 * in the same run. Target: ours ≤ 0.25× bpftool. Then, per skeleton language (lang.ts), the time to
 * print each object's light skeleton from its built loader, beside the C header's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseObject } from '../src/loader/object/index.js';
import { planObject } from '../src/loader/plan/index.js';
import { emitSkeleton, generateLoader, SKELETON_LANGS } from '../src/loader/gen/index.js';
import { buildLoader, type BuiltLoader } from '../src/service/loader.js';

export interface GenBenchResult {
  name: string;
  ours_ms: number;
  peer: string;
  peer_ms: number | null;
  ratio: number | null;
  target: string;
  ok: boolean;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function objectsUnder(root: string): string[] {
  const dirs = [join(root, 'test/fixtures/obj'), '/usr/lib/x86_64-linux-gnu/bpf'];
  return dirs.filter(existsSync).flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.o'))
      .sort()
      .map((f) => join(d, f)),
  );
}

function objName(path: string): string {
  let b = path.slice(path.lastIndexOf('/') + 1);
  if (b.endsWith('.o')) b = b.slice(0, -2);
  return b.replace(/[^A-Za-z0-9_]/g, '_');
}

function bpftoolMs(path: string, runs: number): number | null {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    try {
      execFileSync('bpftool', ['gen', 'skeleton', '-L', path], { stdio: ['ignore', 'ignore', 'ignore'] });
    } catch {
      return null;
    }
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function oursMs(bytes: Uint8Array, name: string, runs: number): number {
  const once = () => generateLoader(planObject(parseObject(bytes, { name }), { object: bytes, possibleCpus: 2 }), { scheme: 'unsigned' });
  for (let i = 0; i < 50; i++) once(); // warm, in process: JIT-compiled, as a long-running service is
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    once();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function emitMs(built: BuiltLoader, lang: (typeof SKELETON_LANGS)[number], runs: number): number {
  // Counting the UTF-8 bytes flattens V8's string ropes, as writing the file does.
  const once = () => Buffer.byteLength(emitSkeleton(lang, built.lskel, built.headerOptions).text);
  for (let i = 0; i < 10; i++) once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    once();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/**
 * Skeleton printing time per language over every object we build, beside the C header's (summed
 * medians). A language whose emitter is not available yet is left out.
 */
export function benchLangs(root: string): GenBenchResult[] {
  const built: BuiltLoader[] = [];
  for (const path of objectsUnder(root)) {
    try {
      built.push(
        buildLoader(new Uint8Array(readFileSync(path)), path, {
          scheme: 'unsigned',
          name: objName(path),
          flavour: 'v1.7',
          standalone: false,
          mapExcl: false,
          host: { possibleCpus: 2 },
        }),
      );
    } catch {
      /* not generated: as benchGen */
    }
  }
  const cMs = built.map((b) => emitMs(b, 'c', 20));
  const out: GenBenchResult[] = [];
  for (const lang of SKELETON_LANGS.filter((l) => l !== 'c')) {
    // Objects the language's emitter refuses (or a language not available yet) are left out, on both sides.
    let ms = 0,
      c = 0,
      n = 0;
    built.forEach((b, i) => {
      try {
        ms += emitMs(b, lang, 20);
      } catch {
        return;
      }
      c += cMs[i];
      n++;
    });
    if (n === 0) continue;
    out.push({
      name: `lang ${lang} skeleton (${n} objects)`,
      ours_ms: ms,
      peer: 'C header (lang c)',
      peer_ms: c,
      ratio: ms / c,
      target: '≤ 3× the C header',
      ok: ms / c <= 3,
    });
  }
  return out;
}

/** One result per object bpftool handles, plus a total line, then the skeleton languages' lines. */
export function benchGen(root: string): GenBenchResult[] {
  const out: GenBenchResult[] = [];
  let sumOurs = 0,
    sumPeer = 0;
  for (const path of objectsUnder(root)) {
    const peer = bpftoolMs(path, 5);
    if (peer === null) continue;
    const bytes = new Uint8Array(readFileSync(path));
    let ours: number;
    try {
      ours = oursMs(bytes, objName(path), 30);
    } catch {
      continue;
    }
    sumOurs += ours;
    sumPeer += peer;
    out.push({
      name: `gen ${path.replace(/^.*\//, '')}`,
      ours_ms: ours,
      peer: 'bpftool gen skeleton -L',
      peer_ms: peer,
      ratio: ours / peer,
      target: '≤ 0.25× bpftool',
      ok: ours / peer <= 0.25,
    });
  }
  out.push({
    name: `gen total (${out.length} objects)`,
    ours_ms: sumOurs,
    peer: 'bpftool gen skeleton -L',
    peer_ms: sumPeer || null,
    ratio: sumPeer ? sumOurs / sumPeer : null,
    target: '≤ 0.25× bpftool',
    ok: sumPeer > 0 && sumOurs / sumPeer <= 0.25,
    note: sumPeer ? undefined : 'bpftool unavailable',
  });
  return [...out, ...benchLangs(root)];
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  for (const r of benchGen(join(new URL('.', import.meta.url).pathname, '../..'))) {
    console.log(
      `${r.name.padEnd(40)} ours ${r.ours_ms.toFixed(3)} ms  bpftool ${r.peer_ms?.toFixed(1) ?? '-'} ms  ratio ${r.ratio?.toFixed(4) ?? '-'}  ${r.ok ? 'ok' : 'MISS'}`,
    );
  }
}
