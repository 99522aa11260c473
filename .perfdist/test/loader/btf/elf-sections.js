/**
 * Test helper: sections and symbols of an ELF64 object, via the project's ELF reader.
 */
import { parseElf } from '../../../src/loader/elf/index.js';
/** Sections and symbols of an ELF object, through the project's ELF reader. */
export function readElf(bytes) {
    const elf = parseElf(bytes);
    return { byteOrder: elf.byteOrder === 'le' ? 'little' : 'big', sections: elf.sections, symbols: elf.symbols, section: (n) => elf.section(n) };
}
export function btfSections(bytes) {
    const elf = readElf(bytes);
    return { byteOrder: elf.byteOrder, btf: elf.section('.BTF')?.data, ext: elf.section('.BTF.ext')?.data };
}
//# sourceMappingURL=elf-sections.js.map