/**
 * Test helper: sections and symbols of an ELF64 object. Uses the project's
 * ELF reader; if that rejects the object (e.g. a relocation type it does not
 * know yet), falls back to a minimal reader of section headers and .symtab,
 * so BTF tests do not depend on unrelated parts of the ELF reader.
 */

import { parseElf } from '../../../src/loader/elf/index.js';

export interface MiniSection { index: number; name: string; size: number; data: Uint8Array }
export interface MiniSymbol { name: string; value: number; shndx: number }
export interface MiniElf {
  byteOrder: 'little' | 'big';
  sections: MiniSection[];
  symbols: MiniSymbol[];
  section(name: string): MiniSection | undefined;
}

function cstr(b: Uint8Array, off: number): string {
  let end = off;
  while (end < b.length && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

function miniElf(bytes: Uint8Array): MiniElf {
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46 || bytes[4] !== 2) throw new Error('not ELF64');
  const le = bytes[5] === 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(0x28, le));
  const shentsize = dv.getUint16(0x3a, le);
  const shnum = dv.getUint16(0x3c, le);
  const shstrndx = dv.getUint16(0x3e, le);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const p = shoff + i * shentsize;
    const type = dv.getUint32(p + 4, le);
    const offset = Number(dv.getBigUint64(p + 0x18, le));
    const size = Number(dv.getBigUint64(p + 0x20, le));
    return { nameOff: dv.getUint32(p, le), type, link: dv.getUint32(p + 0x28, le), data: type === 8 ? new Uint8Array(0) : bytes.subarray(offset, offset + size), size };
  });
  const shstr = raw[shstrndx].data;
  const sections = raw.map((s, index) => ({ index, name: cstr(shstr, s.nameOff), size: s.size, data: s.data }));
  const symbols: MiniSymbol[] = [];
  const symtab = raw.find((s) => s.type === 2);
  if (symtab) {
    const strtab = raw[symtab.link].data;
    const sdv = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
    for (let p = 0; p + 24 <= symtab.data.length; p += 24) {
      symbols.push({ name: cstr(strtab, sdv.getUint32(p, le)), shndx: sdv.getUint16(p + 6, le), value: Number(sdv.getBigUint64(p + 8, le)) });
    }
  }
  return { byteOrder: le ? 'little' : 'big', sections, symbols, section: (n) => sections.find((s) => s.name === n) };
}

/** Sections and symbols of an ELF object (project reader first, minimal fallback). */
export function readElf(bytes: Uint8Array): MiniElf {
  try {
    const elf = parseElf(bytes);
    return { byteOrder: elf.byteOrder === 'le' ? 'little' : 'big', sections: elf.sections, symbols: elf.symbols, section: (n) => elf.section(n) };
  } catch {
    return miniElf(bytes);
  }
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
