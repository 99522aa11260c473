/** Test-only: build BPF objects with llvm-mc from assembly or raw `.byte` lines. */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTestElf } from './elf-test-util.js';

const dir = mkdtempSync(join(tmpdir(), 'isa-test-'));
let counter = 0;

/** Assembles `source` with llvm-mc; returns the object path. */
export function llvmMcObject(source: string, triple: 'bpfel' | 'bpfeb' = 'bpfel', extra: string[] = ['-mcpu=v3', '-mattr=+alu32']): string {
  const base = join(dir, `t${counter++}`);
  writeFileSync(`${base}.s`, source);
  execFileSync('llvm-mc', ['-triple', triple, ...extra, '-filetype=obj', `${base}.s`, '-o', `${base}.o`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return `${base}.o`;
}

/** Bytes of a section of an object. */
export function sectionBytes(path: string, name: string): Uint8Array {
  const elf = readTestElf(readFileSync(path));
  const s = elf.sections.find((x) => x.name === name);
  if (!s) throw new Error(`no section ${name} in ${path}`);
  return s.bytes;
}

/** `.byte` directive for raw bytes. */
export function byteLine(bytes: Uint8Array): string {
  return `\t.byte ${Array.from(bytes).join(',')}`;
}

/** Hex string (spaces allowed) -> bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
