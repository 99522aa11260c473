/**
 * Structure-aware mutation fuzzing of the object parser (ELF, BTF, BTF.ext and the spec on
 * top). Each mutant must either parse or throw a LoaderError: any other exception, a parse
 * slower than `slowMs`, or heap growth past `maxHeapMb` is a finding.
 *
 * Mutations: random bit flips; truncation; an ELF header field, section header field,
 * symbol or relocation entry overwritten with an interesting value; a .BTF header field,
 * type info word, type size/type word or name offset overwritten; a .BTF.ext header field,
 * rec_size, sec_name_off or num_info overwritten.
 */
import { parseElf } from '../../src/loader/elf/index.js';
import { isLoaderError } from '../../src/loader/errors.js';
import { parseObject } from '../../src/loader/object/index.js';

/** Small deterministic PRNG (mulberry32) so a failing seed can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_32 = [
  0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

interface Region {
  name: string;
  start: number;
  size: number;
  fieldAlign: number;
}

/** Where the structures live in a seed object, so mutations can aim at fields. */
export function regionsOf(bytes: Uint8Array): Region[] {
  const regions: Region[] = [{ name: 'ehdr', start: 0, size: 64, fieldAlign: 2 }];
  const elf = parseElf(bytes);
  const le = elf.byteOrder === 'le';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(40, le));
  regions.push({ name: 'shdrs', start: shoff, size: elf.sections.length * 64, fieldAlign: 4 });
  for (const s of elf.sections) {
    if (s.type === 2) regions.push({ name: 'symtab', start: s.offset, size: s.size, fieldAlign: 4 });
    if (s.type === 9 || s.type === 4) regions.push({ name: `rel:${s.name}`, start: s.offset, size: s.size, fieldAlign: 4 });
    if (s.name === '.BTF') {
      regions.push({ name: 'btf_hdr', start: s.offset, size: Math.min(24, s.size), fieldAlign: 4 });
      regions.push({ name: 'btf', start: s.offset, size: s.size, fieldAlign: 4 });
    }
    if (s.name === '.BTF.ext') {
      regions.push({ name: 'btf_ext_hdr', start: s.offset, size: Math.min(32, s.size), fieldAlign: 4 });
      regions.push({ name: 'btf_ext', start: s.offset, size: s.size, fieldAlign: 4 });
    }
    if (s.name === '.maps' || (s.flags & 4) !== 0) regions.push({ name: s.name, start: s.offset, size: s.size, fieldAlign: 8 });
  }
  return regions.filter((r) => r.size > 0 && r.start + r.size <= bytes.length);
}

export type Mutation = (b: Uint8Array, r: () => number) => { bytes: Uint8Array; what: string };

export function mutate(seed: Uint8Array, regions: Region[], r: () => number): { bytes: Uint8Array; what: string } {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const b = seed.slice();
  const choice = r();
  if (choice < 0.15) {
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) {
      const at = Math.floor(r() * b.length);
      b[at] ^= 1 << Math.floor(r() * 8);
    }
    return { bytes: b, what: `flip ${n} bits` };
  }
  if (choice < 0.25) {
    const len = Math.floor(r() * b.length);
    return { bytes: b.slice(0, len), what: `truncate to ${len}` };
  }
  const reg = pick(regions);
  const fields = Math.max(1, Math.floor(reg.size / reg.fieldAlign));
  const at = reg.start + Math.floor(r() * fields) * reg.fieldAlign;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const v = r() < 0.7 ? pick(INTERESTING_32) : Math.floor(r() * 0x100000000);
  if (at + 4 <= b.length) dv.setUint32(at, v, r() < 0.5);
  else b[at] = v & 0xff;
  return { bytes: b, what: `${reg.name}+${at - reg.start} := 0x${v.toString(16)}` };
}

export interface FuzzResult {
  runs: number;
  parsed: number;
  typedErrors: number;
  findings: string[];
  maxMs: number;
  maxHeapMb: number;
}

export function fuzzObjects(
  seeds: { name: string; bytes: Uint8Array }[],
  iterations: number,
  opts: { seed?: number; slowMs?: number; maxHeapMb?: number } = {},
): FuzzResult {
  const r = rng(opts.seed ?? 1);
  const slowMs = opts.slowMs ?? 2000;
  const maxHeap = opts.maxHeapMb ?? 1024;
  const prepared = seeds.map((s) => ({ ...s, regions: regionsOf(s.bytes) }));
  const res: FuzzResult = { runs: 0, parsed: 0, typedErrors: 0, findings: [], maxMs: 0, maxHeapMb: 0 };
  for (let i = 0; i < iterations; i++) {
    const s = prepared[i % prepared.length];
    const m = mutate(s.bytes, s.regions, r);
    const t0 = performance.now();
    try {
      parseObject(m.bytes, { name: 'fuzz' });
      res.parsed++;
    } catch (e) {
      if (isLoaderError(e)) res.typedErrors++;
      else res.findings.push(`${s.name} #${i} (${m.what}): ${(e as Error)?.stack ?? String(e)}`);
    }
    const ms = performance.now() - t0;
    res.maxMs = Math.max(res.maxMs, ms);
    if (ms > slowMs) res.findings.push(`${s.name} #${i} (${m.what}): took ${ms.toFixed(0)} ms`);
    res.runs++;
    if (i % 1000 === 0) {
      const heap = process.memoryUsage().heapUsed / 2 ** 20;
      res.maxHeapMb = Math.max(res.maxHeapMb, heap);
      if (heap > maxHeap) {
        res.findings.push(`heap ${heap.toFixed(0)} MB after ${i} runs`);
        break;
      }
    }
    if (res.findings.length >= 20) break;
  }
  return res;
}
