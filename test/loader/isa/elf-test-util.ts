/**
 * Test-only ELF64 reader: sections (name, flags, bytes) and the symbols of
 * each section, plus helpers to run llvm-objdump and parse its listing.
 * Deliberately independent of src/loader/elf.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ByteOrder, SectionSymbol } from '../../../src/loader/isa/index.js';
import { parseElf } from '../../../src/loader/elf/index.js';

export const SHF_EXECINSTR = 0x4;

export interface TestSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  bytes: Uint8Array;
  symbols: SectionSymbol[];
}

export interface TestElf {
  order: ByteOrder;
  sections: TestSection[];
}

/** Sections (with their symbols) of an object, through the project's ELF reader (itself checked against llvm-readobj). */
export function readTestElf(file: Uint8Array): TestElf {
  const elf = parseElf(file);
  const sections: TestSection[] = elf.sections.map((s) => ({
    index: s.index,
    name: s.name,
    type: s.type,
    flags: BigInt(s.flags),
    bytes: Uint8Array.from(s.data),
    symbols: [],
  }));
  for (const sym of elf.symbols.slice(1)) {
    if (sym.shndx > 0 && sym.shndx < sections.length)
      sections[sym.shndx]!.symbols.push({ name: sym.name, value: sym.value, type: sym.type, bind: sym.bind });
  }
  return { order: elf.byteOrder, sections };
}

export function hasTool(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface ObjdumpLine {
  index: number | null; // null for `...`
  text: string;
}

/** `llvm-objdump -d --no-show-raw-insn` parsed into sections of lines. */
export function objdumpListing(path: string, extra: string[] = []): Map<string, ObjdumpLine[]> {
  const out = execFileSync('llvm-objdump', ['-d', '--no-show-raw-insn', ...extra, path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const result = new Map<string, ObjdumpLine[]>();
  let current: ObjdumpLine[] | null = null;
  for (const line of out.split('\n')) {
    const sec = /^Disassembly of section (.*):$/.exec(line);
    if (sec) {
      current = [];
      result.set(sec[1]!, current);
      continue;
    }
    if (!current) continue;
    let m = /^ *(\d+):\t(.*)$/.exec(line);
    if (m) {
      current.push({ index: Number(m[1]), text: m[2]! });
      continue;
    }
    if (line === '\t\t...') {
      current.push({ index: null, text: '...' });
      continue;
    }
    m = /^ *([0-9a-f]+):( .*)$/.exec(line);
    if (m) current.push({ index: null, text: `data@${parseInt(m[1]!, 16)}:${m[2]}` });
  }
  return result;
}

/** Every .o under the given directories (recursively), sorted. */
export function findObjects(dirs: string[]): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (e.endsWith('.o')) found.push(p);
    }
  };
  dirs.forEach(walk);
  return found.sort();
}
