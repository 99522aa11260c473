/**
 * Test support: run batches of programs in this machine's kernel with test/kernel/vm/testrun.c
 * (BPF_PROG_LOAD + BPF_PROG_TEST_RUN), and the same programs' VM halves in our interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeInsns } from '../../../src/loader/isa/index.js';
import { Memory, loadProgram, run, type RunResult } from '../../../src/kernel/vm/index.js';
import { ROOT } from '../../support/objects.js';
import { DUMP_BYTES, type GenProgram } from './gen.js';

export type KernelOutcome =
  { status: 'ok'; retval: number; out: Uint8Array } | { status: 'rej'; errno: number; log: string } | { status: 'run'; errno: number };

let exe: string | undefined;
function runnerExe(): string {
  if (exe) return exe;
  const path = join(mkdtempSync(join(tmpdir(), 'bpfsign-vm-')), 'testrun');
  const r = spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-o', path, join(ROOT, 'test/kernel/vm/testrun.c')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`testrun.c does not build: ${r.error?.message ?? r.stderr}`);
  exe = path;
  return path;
}

/** Loads and runs every program in the kernel, in one process. */
export function runInKernel(progs: GenProgram[]): KernelOutcome[] {
  const parts: Uint8Array[] = [];
  for (const p of progs) {
    const code = encodeInsns(p.kernel, 'le');
    const hdr = new Uint8Array(12);
    const dv = new DataView(hdr.buffer);
    dv.setUint32(0, p.kind, true);
    dv.setUint32(4, code.length / 8, true);
    dv.setUint32(8, p.packet.length, true);
    parts.push(hdr, code, p.packet);
  }
  const input = Buffer.concat(parts);
  const r = spawnSync(runnerExe(), [], { input, maxBuffer: 1 << 28, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`testrun failed (${r.status ?? r.signal}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length !== progs.length) throw new Error(`testrun printed ${lines.length} lines for ${progs.length} programs`);
  return lines.map((l): KernelOutcome => {
    const [tag, a, ...rest] = l.split(' ');
    if (tag === 'ok') return { status: 'ok', retval: Number(a), out: Uint8Array.from(Buffer.from(rest.join(''), 'hex')) };
    if (tag === 'rej') return { status: 'rej', errno: Number(a), log: rest.join(' ') };
    return { status: 'run', errno: Number(a) };
  });
}

/** The VM's run of a generated program (socket filters get the packet after the 14-byte Ethernet header). */
export function runInVm(p: GenProgram): RunResult {
  const memory = new Memory('le');
  const ctx = memory.map('ctx', new Uint8Array(64), { name: 'ctx' });
  return run(loadProgram(p.vm), { memory, args: [ctx.base], packet: p.packet.subarray(14) });
}

/** The 144-byte state dump the kernel half writes, computed from a VM result: r0..r9, then stack slots -8..-64. */
export function vmDump(res: RunResult): Uint8Array {
  const out = new Uint8Array(DUMP_BYTES);
  const dv = new DataView(out.buffer);
  for (let j = 0; j < 10; j++) dv.setBigUint64(8 * j, res.regs[j]!, true);
  const top = res.stack.length;
  for (let j = 0; j < 8; j++) out.set(res.stack.subarray(top - 8 - 8 * j, top - 8 * j), 80 + 8 * j);
  return out;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
