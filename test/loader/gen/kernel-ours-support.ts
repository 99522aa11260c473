/**
 * Expected values for kernel-ours.test.ts derived without our parser: legacy map definitions
 * read with llvm-objdump (symbol table + hex dump of the `maps` section), and PROG_ARRAY
 * initial slots read from the fixture's C source.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface LegacyMapDef {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

const BPF_OBJ_NAME_LEN = 16;

/** struct bpf_map_def entries of SEC("maps"), by symbol (names cut to the kernel's 15 chars). */
export function legacyMapDefs(path: string): LegacyMapDef[] {
  const syms = execFileSync('llvm-objdump', ['-t', path], { encoding: 'utf8' });
  const dump = execFileSync('llvm-objdump', ['-s', '-j', 'maps', path], { encoding: 'utf8' });
  const bytes: number[] = [];
  for (const line of dump.split('\n')) {
    const m = /^ ([0-9a-f]{4,}) ((?:[0-9a-f]{2,8} ?){1,4})/.exec(line);
    if (!m) continue;
    const hex = m[2].replace(/ /g, '');
    for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  }
  const le = readFileSync(path)[5] === 1;
  const u32 = (off: number) => {
    const b = bytes.slice(off, off + 4);
    if (b.length < 4) throw new Error(`maps section too short at ${off}`);
    return (le ? b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24) : (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  };
  const out: LegacyMapDef[] = [];
  for (const line of syms.split('\n')) {
    const m = /^([0-9a-f]+)\s.*\sO\s+maps\s+([0-9a-f]+)\s+(\S+)$/.exec(line);
    if (!m) continue;
    const off = parseInt(m[1], 16);
    const size = parseInt(m[2], 16);
    out.push({
      name: m[3].slice(0, BPF_OBJ_NAME_LEN - 1),
      type: u32(off),
      keySize: u32(off + 4),
      valueSize: u32(off + 8),
      maxEntries: u32(off + 12),
      flags: size >= 20 ? u32(off + 16) : 0,
    });
  }
  return out;
}

/** `.values = { [N] = (void *)&prog, ... }` of map `mapName` in a C source: slot → program name. */
export function progArraySlotsFromSource(sourcePath: string, mapName: string): Map<number, string> {
  const src = readFileSync(sourcePath, 'utf8');
  const at = src.indexOf(`} ${mapName} SEC(".maps") = {`);
  if (at < 0) throw new Error(`${mapName} with initial values not found in ${sourcePath}`);
  const body = src.slice(at, src.indexOf('};', at));
  const slots = new Map<number, string>();
  for (const m of body.matchAll(/\[(\d+)\]\s*=\s*(?:\(void \*\))?&(\w+)/g)) slots.set(Number(m[1]), m[2]);
  return slots;
}
