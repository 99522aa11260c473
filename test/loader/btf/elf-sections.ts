/**
 * Test helper: sections and symbols of an ELF64 object, via the project's ELF reader.
 */

import { parseElf } from '../../../src/loader/elf/index.js';

export interface MiniSection {
  index: number;
  name: string;
  size: number;
  data: Uint8Array;
}
export interface MiniSymbol {
  name: string;
  value: number;
  shndx: number;
}
export interface MiniElf {
  byteOrder: 'little' | 'big';
  sections: MiniSection[];
  symbols: MiniSymbol[];
  section(name: string): MiniSection | undefined;
}

/** Sections and symbols of an ELF object, through the project's ELF reader. */
export function readElf(bytes: Uint8Array): MiniElf {
  const elf = parseElf(bytes);
  return {
    byteOrder: elf.byteOrder === 'le' ? 'little' : 'big',
    sections: elf.sections,
    symbols: elf.symbols,
    section: (n) => elf.section(n),
  };
}

export interface BtfSections {
  byteOrder: 'little' | 'big';
  btf?: Uint8Array;
  ext?: Uint8Array;
}

export function btfSections(bytes: Uint8Array): BtfSections {
  const elf = readElf(bytes);
  return { byteOrder: elf.byteOrder, btf: elf.section('.BTF')?.data, ext: elf.section('.BTF.ext')?.data };
}
