/**
 * CO-RE relocation against libbpf: test/kernel/core/libbpf_core.c lets Debian's libbpf
 * relocate each fixture (btf_custom_path = the target BTF) and prints the instructions it
 * passes to BPF_PROG_LOAD; we apply our relocations to the object spec's linked programs
 * and compare every relocated instruction, relocation by relocation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf } from '../../../src/loader/elf/index.js';
import { parseBtf, type Btf } from '../../../src/loader/btf/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import type { ObjectSpec } from '../../../src/loader/object/spec.js';
import { applyCoreRelocations, type CoreTarget } from '../../../src/kernel/core/index.js';
import { fixtureObjects, hasTool, ROOT } from '../../support/objects.js';
import { bpfPermitted } from '../../support/bpf-permitted.js';

export const MIN_PROFILE_BTF = join(ROOT, 'test/fixtures/profiles/linux-6.18-min/vmlinux.btf');
const HOST_BTF = '/sys/kernel/btf/vmlinux';

let oracle: string | null | undefined;
export function libbpfCoreOracle(): { exe: string } | { skip: string } {
  if (oracle === undefined) {
    if (!hasTool('gcc')) oracle = null;
    else {
      const exe = join(mkdtempSync(join(tmpdir(), 'bpfsign-core-')), 'libbpf_core');
      const r = spawnSync('gcc', ['-O1', '-o', exe, join(ROOT, 'test/kernel/core/libbpf_core.c'), '-lbpf', '-ldl'], { encoding: 'utf8' });
      oracle = r.status === 0 ? exe : null;
    }
  }
  if (oracle === null) return { skip: 'cannot build the libbpf oracle (gcc or libbpf-dev missing)' };
  const p = bpfPermitted();
  if (!p.ok) return { skip: p.reason };
  return { exe: oracle };
}

/** Per program (libbpf order): the instructions libbpf submitted, or why there are none. */
export interface OracleRun {
  progs: { insns: Uint8Array | null; load: number; coreFailed: boolean }[];
}

export function runOracle(exe: string, obj: string, btfPath: string, extraKsyms: string[] = []): OracleRun {
  const r = spawnSync(exe, [obj, btfPath], {
    encoding: 'utf8',
    env: { ...process.env, LIBBPF_CORE_EXTRA_KSYMS: extraKsyms.join(',') },
    maxBuffer: 64 << 20,
  });
  const progs: OracleRun['progs'] = [];
  let pending: Uint8Array | null = null;
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const j = JSON.parse(line) as { prog?: string; insns?: string[]; only?: number; load?: number; core_failed?: boolean };
    if (j.prog && j.insns) pending = Uint8Array.from(Buffer.from(j.insns.join(''), 'hex'));
    if (j.only !== undefined) {
      progs[j.only] = { insns: pending, load: j.load ?? 0, coreFailed: j.core_failed === true };
      pending = null;
    }
  }
  return { progs };
}

export function localBtfOf(bytes: Uint8Array): Btf {
  const sec = parseElf(bytes).section('.BTF');
  assert.ok(sec, 'object has .BTF');
  return parseBtf(sec.data);
}

/** Typeless ksyms of the object (libbpf needs them in kallsyms before it reaches CO-RE). */
export function typelessKsyms(spec: ObjectSpec): string[] {
  return spec.externs.filter((e) => e.kind === 'ksym' && !e.typed && !e.func).map((e) => e.name);
}

function slot(b: Uint8Array, i: number) {
  const dv = new DataView(b.buffer, b.byteOffset + i * 8, 8);
  return { opcode: b[i * 8], dst: b[i * 8 + 1] & 0xf, src: b[i * 8 + 1] >> 4, off: dv.getInt16(2, true), imm: dv.getInt32(4, true) };
}

export function coreObjects() {
  return fixtureObjects()
    .filter((o) => o.name.endsWith('-el.o'))
    .map((o) => {
      const bytes = new Uint8Array(readFileSync(o.path));
      let spec: ObjectSpec | null = null;
      try {
        spec = parseObject(bytes);
      } catch {
        spec = null;
      }
      return { o, bytes, spec };
    })
    .filter((x) => x.spec !== null && x.spec.programs.some((p) => p.coreRelos.length > 0)) as {
    o: { name: string; path: string };
    bytes: Uint8Array;
    spec: ObjectSpec;
  }[];
}

export interface Comparison {
  checked: number;
  programs: number;
  refusedByBoth: number;
  skipped: string[];
}

/**
 * Compares our relocation of every program of `spec` (fresh candidate cache per program,
 * as libbpf relocates only the autoloaded one) with libbpf's output.
 */
export function compareWithLibbpf(spec: ObjectSpec, bytes: Uint8Array, target: CoreTarget, run: OracleRun): Comparison {
  const local = localBtfOf(bytes);
  const out: Comparison = { checked: 0, programs: 0, refusedByBoth: 0, skipped: [] };
  spec.programs.forEach((p, idx) => {
    if (p.coreRelos.length === 0) return;
    const theirs = run.progs[idx];
    assert.ok(theirs, `oracle has no result for program #${idx} ${p.name}`);
    let mine: ReturnType<typeof applyCoreRelocations> | null = null;
    let threw: unknown = null;
    try {
      mine = applyCoreRelocations(p.insns, p.coreRelos, local, target, { cache: new Map() });
    } catch (e) {
      threw = e;
    }
    if (!theirs.insns) {
      if (theirs.coreFailed) {
        assert.ok(threw, `${p.name}: libbpf's CO-RE stage failed but our relocation succeeded`);
        out.refusedByBoth++;
      } else {
        out.skipped.push(`${p.name}: libbpf stopped before CO-RE (load ${theirs.load})`);
      }
      return;
    }
    assert.equal(threw, null, `${p.name}: libbpf relocated it but we threw: ${String(threw)}`);
    assert.ok(mine);
    out.programs++;
    const slots: { opcode: number; dst: number; src: number; off: number; imm: number }[] = [];
    for (const i of mine.insns) {
      slots.push(i);
      if (i.width === 2 && i.next) slots.push(i.next);
    }
    mine.reports.forEach((rep, k) => {
      const at = rep.insn;
      const width = slots[at].opcode === 0x18 ? 2 : 1;
      for (let s = at; s < at + width; s++) {
        const a = slots[s],
          b = slot(theirs.insns as Uint8Array, s);
        const what = `${p.name} relo #${k} (${rep.kindName} ${rep.accessStr} on ${rep.local.typeName}) insn ${s}`;
        assert.deepEqual({ opcode: a.opcode, dst: a.dst, src: a.src, off: a.off, imm: a.imm }, b, what);
      }
      out.checked++;
    });
  });
  return out;
}

describe('applyCoreRelocations compared with libbpf 1.1', () => {
  const objs = coreObjects();
  for (const [label, path] of [
    ['running kernel vmlinux', HOST_BTF],
    ['linux-6.18-min profile BTF', MIN_PROFILE_BTF],
  ] as const) {
    describe(`against the ${label}`, () => {
      for (const { o, bytes, spec } of objs) {
        it(`${o.name}: every relocated instruction equals libbpf's`, (t) => {
          const or = libbpfCoreOracle();
          if ('skip' in or) return t.skip(or.skip);
          if (!existsSync(path)) return t.skip(`${path} missing`);
          const target = { vmlinux: parseBtf(new Uint8Array(readFileSync(path))) };
          const run = runOracle(or.exe, o.path, path, typelessKsyms(spec));
          const c = compareWithLibbpf(spec, bytes, target, run);
          for (const why of c.skipped) t.diagnostic(`not compared: ${why}`);
          if (c.programs === 0 && c.refusedByBoth === 0) return t.skip(`libbpf never reached CO-RE: ${c.skipped.join('; ')}`);
          t.diagnostic(`programs compared ${c.programs}, relocations compared ${c.checked}, refused by both ${c.refusedByBoth}`);
        });
      }
    });
  }
});
