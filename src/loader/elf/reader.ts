/**
 * ELF64 relocatable reader for BPF objects (EM_BPF), either byte order.
 *
 * Pure: bytes in, plain data out. Every offset, size and count read from the file is
 * checked against the buffer before use; a violation is a LoaderError ELF_MALFORMED
 * whose details say which header field or section, at which file offset.
 *
 *   ELF header (64 bytes)          section header (64 bytes each)
 *   0  e_ident[16]                 0  sh_name      u32   24 sh_offset    u64
 *   16 e_type u16  18 e_machine    4  sh_type      u32   32 sh_size      u64
 *   20 e_version u32               8  sh_flags     u64   40 sh_link      u32
 *   24 e_entry  32 e_phoff         16 sh_addr      u64   44 sh_info      u32
 *   40 e_shoff u64                                       48 sh_addralign u64
 *   52 e_ehsize 54 e_phentsize 56 e_phnum                56 sh_entsize   u64
 *   58 e_shentsize 60 e_shnum 62 e_shstrndx
 */
import { LoaderError } from '../errors.js';
import { ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, EM_BPF, ET_REL, RELOC_NAMES, SHN, SHT, type RelocTypeName } from './constants.js';

export type ByteOrder = 'le' | 'be';

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** Section contents; empty for SHT_NOBITS (whose `size` still holds the memory size). */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  /** STB_* binding */
  bind: number;
  /** STT_* type */
  type: number;
  /** STV_* visibility */
  visibility: number;
  /** Section index (SHN_UNDEF for externs, SHN_ABS, SHN_COMMON, or a real index). */
  shndx: number;
}

export interface ElfRelocation {
  /** Byte offset inside the target section. */
  offset: number;
  type: number;
  typeName: RelocTypeName;
  /** Symbol table index. */
  symbol: number;
  /** Explicit addend (SHT_RELA only; 0 for SHT_REL). */
  addend: number;
}

export interface ElfRelocSection {
  /** Index of the relocation section itself. */
  index: number;
  name: string;
  /** Index of the section the relocations apply to (sh_info). */
  target: number;
  entries: ElfRelocation[];
}

export interface ElfFile {
  byteOrder: ByteOrder;
  sections: ElfSection[];
  /** Symbols of the (single) SHT_SYMTAB, index 0 included; empty when there is none. */
  symbols: ElfSymbol[];
  relocations: ElfRelocSection[];
  /** Looks a section up by exact name; the first match wins. */
  section(name: string): ElfSection | undefined;
}

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

function malformed(message: string, details: Record<string, unknown>): LoaderError {
  return new LoaderError('ELF_MALFORMED', `elf: ${message}`, details);
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads a NUL-terminated string at `off` of a string table section. `what` and `details`
 * describe the reader for errors; they are functions so the common path builds neither.
 */
function readString(strtab: Uint8Array, off: number, what: () => string, details: () => Record<string, unknown>): string {
  if (off >= strtab.length) {
    if (off === 0 && strtab.length === 0) return '';
    throw malformed(`${what()}: name offset ${off} past end of string table (size ${strtab.length})`, {
      ...details(),
      field: 'name',
      got: off,
      want: `< ${strtab.length}`,
    });
  }
  const end = strtab.indexOf(0, off);
  if (end < 0) {
    throw malformed(`${what()}: name at offset ${off} is not NUL-terminated`, { ...details(), field: 'name', offset: off });
  }
  // Symbol and section names are short ASCII: build those directly (TextDecoder costs more per call).
  if (end - off <= 64) {
    let s = '';
    for (let i = off; i < end; i++) {
      const c = strtab[i];
      if (c >= 0x80) return decoder.decode(strtab.subarray(off, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(strtab.subarray(off, end));
}

/** Converts a u64 file field to a number, refusing values that cannot be a position in `limit` bytes. */
function u64(view: DataView, at: number, le: boolean, field: string, limit: number, details: Record<string, unknown>): number {
  const v = view.getBigUint64(at, le);
  if (v > BigInt(limit)) {
    throw malformed(`${field} ${v} exceeds file size ${limit}`, { ...details, field, got: v.toString(), want: `<= ${limit}` });
  }
  return Number(v);
}

/** Parses an ELF64 relocatable BPF object. */
/** The ELF header's identification: a 64-bit BPF relocatable object, and its byte order. */
function readIdent(bytes: Uint8Array): { le: boolean; view: DataView } {
  if (bytes.length < EHDR_SIZE) {
    throw malformed(`file is ${bytes.length} bytes, shorter than the 64-byte ELF header`, {
      offset: 0,
      got: bytes.length,
      want: EHDR_SIZE,
    });
  }
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw malformed('bad magic, not an ELF file', { offset: 0, field: 'e_ident' });
  }
  if (bytes[4] !== ELFCLASS64) {
    throw new LoaderError('ELF_UNSUPPORTED', `elf: class ${bytes[4]} is not ELFCLASS64`, {
      offset: 4,
      field: 'EI_CLASS',
      got: bytes[4],
      want: ELFCLASS64,
    });
  }
  const data = bytes[5];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) {
    throw malformed(`EI_DATA ${data} is neither little nor big endian`, { offset: 5, field: 'EI_DATA', got: data });
  }
  const le = data === ELFDATA2LSB;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const eType = view.getUint16(16, le);
  const eMachine = view.getUint16(18, le);
  if (eMachine !== EM_BPF) {
    throw new LoaderError('ELF_UNSUPPORTED', `elf: e_machine ${eMachine} is not EM_BPF (247)`, {
      offset: 18,
      field: 'e_machine',
      got: eMachine,
      want: EM_BPF,
    });
  }
  if (eType !== ET_REL) {
    throw new LoaderError('ELF_UNSUPPORTED', `elf: e_type ${eType} is not ET_REL (1)`, {
      offset: 16,
      field: 'e_type',
      got: eType,
      want: ET_REL,
    });
  }
  return { le, view };
}

export function parseElf(bytes: Uint8Array): ElfFile {
  const { le, view } = readIdent(bytes);
  const byteOrder: ByteOrder = le ? 'le' : 'be';
  const size = bytes.length;
  const shoff = u64(view, 40, le, 'e_shoff', size, { offset: 40 });
  const shentsize = view.getUint16(58, le);
  let shnum = view.getUint16(60, le);
  let shstrndx = view.getUint16(62, le);
  if (shoff === 0) {
    return { byteOrder, sections: [], symbols: [], relocations: [], section: () => undefined };
  }
  if (shentsize < SHDR_SIZE) {
    throw malformed(`e_shentsize ${shentsize} is smaller than a section header`, {
      offset: 58,
      field: 'e_shentsize',
      got: shentsize,
      want: `>= ${SHDR_SIZE}`,
    });
  }
  if (shoff + SHDR_SIZE > size) {
    throw malformed(`section header table at ${shoff} past end of file`, {
      offset: 40,
      field: 'e_shoff',
      got: shoff,
      want: `<= ${size - SHDR_SIZE}`,
    });
  }
  // Extended numbering: the real counts live in section header 0.
  if (shnum === 0) {
    const ext = view.getBigUint64(shoff + 32, le);
    shnum = ext > BigInt(size) ? size + 1 : Number(ext); // an impossible count fails the bounds check below
  }
  if (shstrndx === SHN.XINDEX) shstrndx = view.getUint32(shoff + 40, le);
  if (shoff + shnum * shentsize > size) {
    throw malformed(`section header table (${shnum} × ${shentsize} bytes at ${shoff}) runs past end of file (${size})`, {
      offset: shoff,
      field: 'e_shnum',
      got: shnum,
      want: `<= ${Math.floor((size - shoff) / shentsize)}`,
    });
  }

  interface RawSection {
    name: number;
    type: number;
    flags: number;
    offset: number;
    size: number;
    link: number;
    info: number;
    addralign: number;
    entsize: number;
  }
  const raw: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    const details = { offset: at, sectionIndex: i };
    const type = view.getUint32(at + 4, le);
    const offset = u64(view, at + 24, le, 'sh_offset', size, details);
    const bigSize = view.getBigUint64(at + 32, le);
    const flags = Number(view.getBigUint64(at + 8, le) & 0xffffffffn);
    if (type !== SHT.NOBITS && type !== SHT.NULL && BigInt(offset) + bigSize > BigInt(size)) {
      throw malformed(`section ${i}: contents [${offset}, +${bigSize}) run past end of file (${size})`, {
        ...details,
        field: 'sh_size',
        got: bigSize.toString(),
        want: `<= ${size - offset}`,
      });
    }
    // NOBITS sizes describe memory, not file bytes: cap them to something addressable.
    if (bigSize > 0xffffffffn) {
      throw malformed(`section ${i}: sh_size ${bigSize} too large`, {
        ...details,
        field: 'sh_size',
        got: bigSize.toString(),
        want: '<= 4294967295',
      });
    }
    raw.push({
      name: view.getUint32(at, le),
      type,
      flags,
      offset,
      size: Number(bigSize),
      link: view.getUint32(at + 40, le),
      info: view.getUint32(at + 44, le),
      addralign: Number(view.getBigUint64(at + 48, le) & 0xffffffffn),
      entsize: Number(view.getBigUint64(at + 56, le) & 0xffffffffn),
    });
  }
  if (shstrndx >= shnum) {
    throw malformed(`e_shstrndx ${shstrndx} out of range (${shnum} sections)`, {
      offset: 62,
      field: 'e_shstrndx',
      got: shstrndx,
      want: `< ${shnum}`,
    });
  }
  const shstr = raw[shstrndx];
  const shstrtab = shstr.type === SHT.NOBITS ? new Uint8Array(0) : bytes.subarray(shstr.offset, shstr.offset + shstr.size);

  const sections: ElfSection[] = raw.map((s, index) => ({
    index,
    name:
      index === 0 && s.name === 0
        ? ''
        : readString(
            shstrtab,
            s.name,
            () => `section ${index}`,
            () => ({ sectionIndex: index, offset: shoff + index * shentsize }),
          ),
    type: s.type,
    flags: s.flags,
    offset: s.offset,
    size: s.size,
    link: s.link,
    info: s.info,
    addralign: s.addralign,
    entsize: s.entsize,
    data: s.type === SHT.NOBITS || s.type === SHT.NULL ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size),
  }));

  const symbols = readSymbols(sections, view, le);
  const relocations = readRelocations(sections, symbols.length, le);
  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);
  return { byteOrder, sections, symbols, relocations, section: (name: string) => byName.get(name) };
}

function readSymbols(sections: ElfSection[], _view: DataView, le: boolean): ElfSymbol[] {
  const symtabs = sections.filter((s) => s.type === SHT.SYMTAB);
  if (symtabs.length === 0) return [];
  if (symtabs.length > 1) {
    throw new LoaderError('ELF_UNSUPPORTED', `elf: ${symtabs.length} symbol tables, want 1`, {
      section: symtabs[1].name,
      got: symtabs.length,
      want: 1,
    });
  }
  const symtab = symtabs[0];
  const where = { section: symtab.name };
  if (symtab.entsize !== 0 && symtab.entsize !== SYM_SIZE) {
    throw malformed(`section ${symtab.name}: sh_entsize ${symtab.entsize}, want ${SYM_SIZE}`, {
      ...where,
      field: 'sh_entsize',
      got: symtab.entsize,
      want: SYM_SIZE,
    });
  }
  if (symtab.size % SYM_SIZE !== 0) {
    throw malformed(`section ${symtab.name}: size ${symtab.size} is not a multiple of ${SYM_SIZE}`, {
      ...where,
      field: 'sh_size',
      got: symtab.size,
    });
  }
  if (symtab.link >= sections.length || sections[symtab.link].type !== SHT.STRTAB) {
    throw malformed(`section ${symtab.name}: sh_link ${symtab.link} is not a string table`, {
      ...where,
      field: 'sh_link',
      got: symtab.link,
    });
  }
  const strtab = sections[symtab.link].data;
  const d = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
  const count = symtab.size / SYM_SIZE;
  const out: ElfSymbol[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * SYM_SIZE;
    const info = d.getUint8(at + 4);
    // u64 st_value and st_size, read as halves; BPF objects never need the high words.
    const lo = le ? 0 : 4,
      hi = le ? 4 : 0;
    const value = d.getUint32(at + 8 + lo, le);
    const sz = d.getUint32(at + 16 + lo, le);
    if (d.getUint32(at + 8 + hi, le) !== 0 || d.getUint32(at + 16 + hi, le) !== 0) {
      const field = d.getUint32(at + 8 + hi, le) !== 0 ? 'st_value' : 'st_size';
      throw malformed(`section ${symtab.name}: symbol ${i}: ${field} does not fit in 32 bits`, {
        section: symtab.name,
        symbolIndex: i,
        offset: symtab.offset + at,
        field,
      });
    }
    const nameOff = d.getUint32(at, le);
    const shndx = d.getUint16(at + 6, le);
    // Error details are built only on the error paths (this loop runs once per symbol).
    const details = () => ({ section: symtab.name, symbolIndex: i, offset: symtab.offset + at });
    const name = readString(strtab, nameOff, () => `section ${symtab.name}: symbol ${i}`, details);
    out[i] = {
      index: i,
      name,
      value,
      size: sz,
      bind: info >> 4,
      type: info & 0xf,
      visibility: d.getUint8(at + 5) & 0x3,
      shndx,
    };
    if (shndx === SHN.XINDEX) {
      throw new LoaderError('ELF_UNSUPPORTED', `elf: section ${symtab.name}: symbol ${i} uses SHN_XINDEX`, details());
    }
  }
  return out;
}

function readRelocations(sections: ElfSection[], symbolCount: number, le: boolean): ElfRelocSection[] {
  const out: ElfRelocSection[] = [];
  for (const s of sections) {
    if (s.type !== SHT.REL && s.type !== SHT.RELA) continue;
    const rela = s.type === SHT.RELA;
    const entSize = rela ? RELA_SIZE : REL_SIZE;
    const where = { section: s.name };
    if (s.size % entSize !== 0) {
      throw malformed(`section ${s.name}: size ${s.size} is not a multiple of ${entSize}`, { ...where, field: 'sh_size', got: s.size });
    }
    if (s.info === 0 || s.info >= sections.length) {
      throw malformed(`section ${s.name}: sh_info ${s.info} names no section`, {
        ...where,
        field: 'sh_info',
        got: s.info,
        want: `1..${sections.length - 1}`,
      });
    }
    out.push(new RelocSection(s, sections[s.info], entSize, rela, symbolCount, le));
  }
  return out;
}

/**
 * A relocation section whose entries are decoded on first use (debug sections carry most
 * relocations and are rarely asked for). A class, so the getter is shared on the prototype: an
 * object literal with a getter got a hidden class of its own per section, which kept its closure
 * (and the sections it read) alive through the scavenges, promoting them to the old space on a
 * loop of parses.
 */
class RelocSection implements ElfRelocSection {
  readonly index: number;
  readonly name: string;
  readonly target: number;
  #entries: ElfRelocation[] | undefined;

  constructor(
    private readonly section: ElfSection,
    private readonly targetSection: ElfSection,
    private readonly entSize: number,
    private readonly rela: boolean,
    private readonly symbolCount: number,
    private readonly le: boolean,
  ) {
    this.index = section.index;
    this.name = section.name;
    this.target = section.info;
  }

  get entries(): ElfRelocation[] {
    return (this.#entries ??= readRelocEntries(this.section, this.targetSection, this.entSize, this.rela, this.symbolCount, this.le));
  }
}

/**
 * r_offset u64, r_info u64 (symbol << 32 | type), [r_addend i64]. Read as 32-bit halves:
 * BigInt arithmetic per entry is what made this slow.
 */
function readRelocEntries(
  s: ElfSection,
  target: ElfSection,
  entSize: number,
  rela: boolean,
  symbolCount: number,
  le: boolean,
): ElfRelocation[] {
  const d = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
  const limit = target.type === SHT.NOBITS ? 0 : target.size;
  const lo = le ? 0 : 4,
    hi = le ? 4 : 0;
  const entries: ElfRelocation[] = new Array(s.size / entSize);
  for (let at = 0, i = 0; at < s.size; at += entSize, i++) {
    const offHi = d.getUint32(at + hi, le);
    const offset = offHi * 0x100000000 + d.getUint32(at + lo, le);
    const type = d.getUint32(at + 8 + lo, le);
    const symbol = d.getUint32(at + 8 + hi, le);
    const details = () => ({ section: s.name, offset: s.offset + at, target: target.name });
    const typeName = RELOC_NAMES[type];
    if (typeName === undefined) {
      throw new LoaderError('ELF_UNSUPPORTED', `elf: section ${s.name}: relocation at ${at}: unknown type ${type}`, {
        ...details(),
        field: 'r_info',
        got: type,
      });
    }
    if (symbol >= symbolCount) {
      throw malformed(`section ${s.name}: relocation at ${at}: symbol ${symbol} out of range (${symbolCount} symbols)`, {
        ...details(),
        field: 'r_info',
        got: symbol,
        want: `< ${symbolCount}`,
      });
    }
    if (offHi !== 0 || offset >= limit) {
      throw malformed(`section ${s.name}: relocation at ${at}: offset ${offset} past end of ${target.name} (size ${limit})`, {
        ...details(),
        field: 'r_offset',
        got: offset,
        want: `< ${limit}`,
      });
    }
    const addend = rela ? d.getInt32(at + 16 + hi, le) * 0x100000000 + d.getUint32(at + 16 + lo, le) : 0;
    entries[i] = { offset, type, typeName, symbol, addend };
  }
  return entries;
}
