/**
 * `bpfsign disasm OBJ [--section S] [--json]`: every executable section, laid out as
 * `llvm-objdump -d --no-show-raw-insn` prints it (section heading, symbol headings,
 * `index:<TAB>text` lines), so the two can be diffed.
 */
import { readFileSync } from 'node:fs';
import { CliError } from './errors.js';
import { parseElf, SHF, SHT, type ElfFile } from '../loader/elf/index.js';
import { disassemble, sortSectionSymbols, type DisasmLine } from '../loader/isa/index.js';

export interface SectionListing {
  section: string;
  lines: { index: number; offset: number; kind: DisasmLine['kind']; text: string; symbol?: string }[];
}

/** Listings of the executable sections of a parsed ELF file (or just `only`). */
export function listSections(elf: ElfFile, only?: string): SectionListing[] {
  const out: SectionListing[] = [];
  for (const sec of elf.sections) {
    if (sec.type !== SHT.PROGBITS || (sec.flags & SHF.EXECINSTR) === 0 || sec.size === 0) continue; // llvm-objdump skips empty ones
    if (only !== undefined && sec.name !== only) continue;
    const symbols = elf.symbols
      .filter((s) => s.shndx === sec.index)
      .map((s) => ({ name: s.name, value: s.value, type: s.type, bind: s.bind }));
    const opts = { symbols, sectionName: sec.name };
    const starts = new Map<number, string>();
    for (const s of sortSectionSymbols(opts)) if (!starts.has(s.value)) starts.set(s.value, s.name);
    const lines = disassemble(sec.data, elf.byteOrder, opts).map((l) => {
      const symbol = starts.get(l.offset);
      if (symbol !== undefined) starts.delete(l.offset);
      return { index: l.index, offset: l.offset, kind: l.kind, text: l.text, ...(symbol !== undefined ? { symbol } : {}) };
    });
    out.push({ section: sec.name, lines });
  }
  return out;
}

export function renderListing(listings: SectionListing[], file?: string): string {
  const out: string[] = file === undefined ? [] : ['', `${file}:\tfile format elf64-bpf`];
  for (const l of listings) {
    out.push('', `Disassembly of section ${l.section}:`);
    for (const line of l.lines) {
      if (line.symbol !== undefined) out.push('', `${line.offset.toString(16).padStart(16, '0')} <${line.symbol}>:`);
      out.push(`${String(line.index).padStart(8)}:\t${line.text}`);
    }
  }
  return out.join('\n');
}

export function runDisasm(file: string, opts: { json: boolean; section?: string }, out: (s: string) => void): number {
  const elf = parseElf(readFileSync(file));
  const listings = listSections(elf, opts.section);
  if (opts.section !== undefined && listings.length === 0) {
    throw new CliError(`no executable section named '${opts.section}' in ${file}`);
  }
  out(opts.json ? JSON.stringify(listings, null, 2) : renderListing(listings, file));
  return 0;
}
