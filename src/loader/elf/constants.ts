/** ELF constants used by BPF objects (System V gABI, LLVM's BPF relocation ABI). */

export const EM_BPF = 247;
export const ET_REL = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  LLVM_ADDRSIG: 0x6fff4c03,
} as const;

export const SHF = {
  WRITE: 0x1,
  ALLOC: 0x2,
  EXECINSTR: 0x4,
  MERGE: 0x10,
  STRINGS: 0x20,
  INFO_LINK: 0x40,
} as const;

export const SHN = { UNDEF: 0, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;

export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;

/** BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def; binutils >= 2.40 uses the same numbers). */
export const R_BPF = {
  NONE: 0,
  '64_64': 1, // ld_imm64 immediate (map, global data, ksym, subprog address)
  '64_ABS64': 2, // 64-bit data (DWARF, .BTF.ext, .maps initial values)
  '64_ABS32': 3, // 32-bit data (DWARF, .BTF)
  '64_NODYLD32': 4, // 32-bit data in .BTF/.BTF.ext, not applied by dynamic loaders
  '64_32': 10, // call instruction immediate (bpf-to-bpf, kfunc)
} as const;

export type RelocTypeName =
  | 'R_BPF_NONE'
  | 'R_BPF_64_64'
  | 'R_BPF_64_ABS64'
  | 'R_BPF_64_ABS32'
  | 'R_BPF_64_NODYLD32'
  | 'R_BPF_64_32'
  | 'R_BPF_GNU_DATA_8_PCREL'
  | 'R_BPF_GNU_DATA_16_PCREL'
  | 'R_BPF_GNU_DATA_32_PCREL'
  | 'R_BPF_GNU_DATA_8'
  | 'R_BPF_GNU_DATA_16'
  | 'R_BPF_GNU_DATA_32'
  | 'R_BPF_GNU_DATA_64'
  | 'R_BPF_GNU_DATA_64_PCREL';

export const RELOC_NAMES: Record<number, RelocTypeName> = {
  0: 'R_BPF_NONE',
  1: 'R_BPF_64_64',
  2: 'R_BPF_64_ABS64',
  3: 'R_BPF_64_ABS32',
  4: 'R_BPF_64_NODYLD32',
  10: 'R_BPF_64_32',
  // binutils < 2.41 (Debian 12's gcc-bpf) numbers data relocations its own way; 1 (INSN_64)
  // and 10 (INSN_DISP32) mean what LLVM's 64_64 and 64_32 mean, which is all code relocations use.
  5: 'R_BPF_GNU_DATA_8_PCREL',
  6: 'R_BPF_GNU_DATA_16_PCREL',
  7: 'R_BPF_GNU_DATA_32_PCREL',
  8: 'R_BPF_GNU_DATA_8',
  9: 'R_BPF_GNU_DATA_16',
  11: 'R_BPF_GNU_DATA_32',
  12: 'R_BPF_GNU_DATA_64',
  13: 'R_BPF_GNU_DATA_64_PCREL',
};
