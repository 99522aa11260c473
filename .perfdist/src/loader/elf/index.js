export { parseElf } from './reader.js';
export { EM_BPF, SHT, SHF, SHN, STB, STT, STV, R_BPF, RELOC_NAMES } from './constants.js';
//# sourceMappingURL=index.js.map