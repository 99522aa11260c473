/** Test-only: build BPF objects with llvm-mc from assembly or raw `.byte` lines. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTestElf } from './elf-test-util.js';
const dir = mkdtempSync(join(tmpdir(), 'isa-test-'));
let counter = 0;
/** Assembles `source` with llvm-mc; returns the object path. */
export function llvmMcObject(source, triple = 'bpfel', extra = ['-mcpu=v3', '-mattr=+alu32']) {
    const base = join(dir, `t${counter++}`);
    writeFileSync(`${base}.s`, source);
    execFileSync('llvm-mc', ['-triple', triple, ...extra, '-filetype=obj', `${base}.s`, '-o', `${base}.o`], { stdio: ['ignore', 'ignore', 'pipe'] });
    return `${base}.o`;
}
/** Bytes of a section of an object. */
export function sectionBytes(path, name) {
    const elf = readTestElf(readFileSync(path));
    const s = elf.sections.find((x) => x.name === name);
    if (!s)
        throw new Error(`no section ${name} in ${path}`);
    return s.bytes;
}
/** `.byte` directive for raw bytes. */
export function byteLine(bytes) {
    return `\t.byte ${Array.from(bytes).join(',')}`;
}
/** Hex string (spaces allowed) -> bytes. */
export function hex(s) {
    const clean = s.replace(/\s+/g, '');
    return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
//# sourceMappingURL=mc-test-util.js.map