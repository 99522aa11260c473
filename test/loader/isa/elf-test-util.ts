/**
 * Test-only ELF64 reader: sections (name, flags, bytes) and the symbols of
 * each section, plus helpers to run llvm-objdump and parse its listing.
 * Deliberately independent of src/loader/elf.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ByteOrder, SectionSymbol } from '../../../src/loader/isa/index.js';

export const SHF_EXECINSTR = 0x4;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;

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

export function readTestElf(file: Uint8Array): TestElf {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file[0] !== 0x7f || file[1] !== 0x45 || file[4] !== 2) throw new Error('not ELF64');
  const le = file[5] === 1;
  const order: ByteOrder = le ? 'le' : 'be';
  const shoff = Number(dv.getBigUint64(0x28, le));
  const shentsize = dv.getUint16(0x3a, le);
  const shnum = dv.getUint16(0x3c, le);
  const shstrndx = dv.getUint16(0x3e, le);
  const hdr = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      name: dv.getUint32(o, le),
      type: dv.getUint32(o + 4, le),
      flags: dv.getBigUint64(o + 8, le),
      offset: Number(dv.getBigUint64(o + 0x18, le)),
      size: Number(dv.getBigUint64(o + 0x20, le)),
      link: dv.getUint32(o + 0x28, le),
      entsize: Number(dv.getBigUint64(o + 0x38, le)),
    };
  };
  const headers = Array.from({ length: shnum }, (_, i) => hdr(i));
  const str = (tab: number, off: number): string => {
    const h = headers[tab]!;
    let end = h.offset + off;
    while (file[end] !== 0) end++;
    return new TextDecoder().decode(file.subarray(h.offset + off, end));
  };
  const sections: TestSection[] = headers.map((h, index) => ({
    index,
    name: str(shstrndx, h.name),
    type: h.type,
    flags: h.flags,
    bytes: h.type === SHT_NOBITS ? new Uint8Array(0) : Uint8Array.from(file.subarray(h.offset, h.offset + h.size)),
    symbols: [],
  }));
  const symtab = headers.findIndex((h) => h.type === SHT_SYMTAB);
  if (symtab >= 0) {
    const h = headers[symtab]!;
    for (let o = h.offset + h.entsize; o < h.offset + h.size; o += h.entsize) {
      const name = str(h.link, dv.getUint32(o, le));
      const info = file[o + 4]!;
      const shndx = dv.getUint16(o + 6, le);
      const value = Number(dv.getBigUint64(o + 8, le));
      if (shndx > 0 && shndx < sections.length) sections[shndx]!.symbols.push({ name, value, type: info & 0xf, bind: info >> 4 });
    }
  }
  return { order, sections };
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
