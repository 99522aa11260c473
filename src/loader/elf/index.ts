export { parseElf } from './reader.js';
export type { ByteOrder, ElfFile, ElfSection, ElfSymbol, ElfRelocation, ElfRelocSection } from './reader.js';
export { EM_BPF, SHT, SHF, SHN, STB, STT, STV, R_BPF, RELOC_NAMES } from './constants.js';
export type { RelocTypeName } from './constants.js';
