/**
 * test/vectors/vm/*.data (bpf_conformance's format: `-- asm`, optional `-- mem`, `-- result`
 * or `-- error`; our `-- asm` is LLVM syntax) run through the VM and through `bpfsign vm`
 * (the bpf_conformance plugin entry), which must agree with the vector and with each other.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, encodeInsns, opClass, type Insn } from '../../../src/loader/isa/index.js';
import { isVmError } from '../../../src/kernel/errors.js';
import { Memory, loadProgram, run } from '../../../src/kernel/vm/index.js';
import { runVm } from '../../../src/cli/vm.js';
import { ROOT } from '../../support/objects.js';

interface Vector {
  name: string;
  insns: Insn[];
  mem: Uint8Array;
  result?: bigint;
  error?: string;
}

/** Parses a .data file the way bpf_conformance's bpf_test_parser does (sections start with "--"). */
export function parseVector(name: string, text: string): Vector {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    const head = /^--\s*(\w+)/.exec(line);
    if (head) {
      current = [];
      sections.set(head[1]!, current);
    } else if (current && line.trim() !== '') {
      current.push(line);
    }
  }
  const asm = sections.get('asm');
  if (!asm) throw new Error(`${name}: no -- asm section`);
  const memHex = (sections.get('mem') ?? []).join(' ').trim();
  const mem = memHex === '' ? new Uint8Array(0) : Uint8Array.from(memHex.split(/\s+/), (b) => parseInt(b, 16));
  const resultLine = sections.get('result')?.at(-1)?.trim();
  const error = sections.get('error')?.at(-1)?.trim();
  if ((resultLine === undefined) === (error === undefined)) throw new Error(`${name}: needs exactly one of -- result and -- error`);
  const result = resultLine === undefined ? undefined : BigInt(resultLine);
  return {
    name,
    insns: assemble(asm.join('\n')),
    mem,
    ...(result !== undefined ? { result } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

const DIR = join(ROOT, 'test/vectors/vm');
const vectors = readdirSync(DIR)
  .filter((f) => f.endsWith('.data'))
  .sort()
  .map((f) => parseVector(f, readFileSync(join(DIR, f), 'utf8')));

/** The VM run `bpfsign vm` does: memory (when any) mapped as region "memory", r1 = its address, r2 = its length. */
function runDirect(v: Vector): { r0: bigint } | { error: string } {
  try {
    const prog = loadProgram(v.insns);
    const memory = new Memory('le');
    const args = v.mem.length > 0 ? [memory.map('memory', v.mem.slice(), { name: 'memory' }).base, BigInt(v.mem.length)] : [];
    return { r0: run(prog, { memory, args, packet: v.mem }).r0 };
  } catch (e) {
    if (isVmError(e)) return { error: e.message };
    throw e;
  }
}

function runPlugin(v: Vector): { status: number; stdout: string; stderr: string } {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0') + '  ').join('');
  let stdout = '';
  let stderr = '';
  const argv = v.mem.length > 0 ? [hex(v.mem)] : [];
  const status = runVm(argv, { stdin: hex(encodeInsns(v.insns, 'le')) + '\n', stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { status, stdout, stderr };
}

describe('VM conformance vectors (test/vectors/vm)', () => {
  it('has at least 40 vectors covering every instruction class', () => {
    assert.ok(vectors.length >= 40, `${vectors.length} vectors`);
    const classes = new Set(vectors.flatMap((v) => v.insns.map((i) => opClass(i.opcode))));
    assert.deepEqual([...classes].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  for (const v of vectors) {
    describe(v.name, () => {
      it(v.error !== undefined ? `faults with "${v.error}"` : `returns 0x${v.result!.toString(16)}`, () => {
        const got = runDirect(v);
        if (v.error !== undefined) assert.deepEqual(got, { error: v.error });
        else assert.deepEqual(got, { r0: v.result });
      });

      it('gives the same answer through the bpf_conformance plugin entry (bpfsign vm)', () => {
        const p = runPlugin(v);
        if (v.error !== undefined) {
          assert.equal(p.status, 1);
          assert.equal(p.stdout, '');
          assert.equal(p.stderr.replace(/\n/g, ''), v.error);
        } else {
          assert.equal(p.status, 0, p.stderr);
          assert.equal(p.stderr, '');
          assert.match(p.stdout, /^[0-9a-f]+\n$/);
          assert.equal(BigInt(`0x${p.stdout.trim()}`), v.result);
        }
      });
    });
  }
});
