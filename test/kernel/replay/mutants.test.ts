/**
 * Tampered loaders and programs: every replay answers with a report, never an exception.
 *
 * Each mutant flips one bit of an instruction's opcode, registers or offset bytes (bytes 0-3
 * of its 8), in the loader itself or in a program the loader PROG_LOADs (inside its data
 * blob, with the unsigned scheme, whose loader does not check the blob). The whole space is
 * 32 mutants per instruction; a fixed stride takes a deterministic sample of it. Where bpf()
 * is permitted, a sample of loader mutants also runs on this kernel (test/kernel-runner): a
 * PROG_LOAD the model refuses the kernel refuses too (the model refuses only when certain);
 * mutants the kernel refuses and the model lets through (bounds of ctx and map memory, which
 * the path walk does not track) are counted and listed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateLoader, type LoaderScheme } from '../../../src/loader/gen/index.js';
import { replay, type ReplayOptions, type ReplayReport } from '../../../src/kernel/replay/index.js';
import type { KernelProfile } from '../../../src/kernel/profile/index.js';
import { runLoader, runnerSkipReason } from '../../kernel-runner/harness.js';
import { allObjects, planFor } from '../../loader/gen/support.js';
import { fixtureProfile, hostProfile } from './support.js';

const STAGES = new Set(['ok', 'map_create', 'map_update', 'map_freeze', 'map_hash', 'loader_load', 'loader_run', 'loader_retval']);
const EKEYREJECTED = 129;

interface Built {
  insns: Uint8Array;
  data: Uint8Array;
  options: ReplayOptions;
  progs: Uint8Array[];
}

function build(name: string, scheme: LoaderScheme): Built {
  const o = allObjects().find((x) => x.name === `${name}.o`);
  assert.ok(o, `fixture ${name}`);
  const plan = planFor(o);
  const g = generateLoader(plan, { scheme });
  const progs = plan.ops.flatMap((op) => (op.op === 'prog_load' ? [op.prog.insns] : []));
  return { insns: g.insns, data: g.data, options: { scheme, ctx: g.ctxLayout, byteOrder: plan.byteOrder }, progs };
}

/**
 * A stand-in for the kernel's PKCS#7 check, passed in as the service passes the real one: it
 * accepts exactly the content the untouched loader's PROG_LOAD presented (instructions, and
 * for linux-6.18 the metadata map), as a signature over those bytes would verify.
 */
function signedOptions(b: Built, profile: KernelProfile): ReplayOptions {
  let signed: Buffer | null = null;
  const options: ReplayOptions = {
    ...b.options,
    signature: new Uint8Array(createHash('sha256').update(b.insns).digest()),
    keyringId: 0,
    verifySignature: (_sig, content) => {
      signed ??= Buffer.from(content);
      return Buffer.compare(signed, Buffer.from(content)) === 0 ? 0 : -EKEYREJECTED;
    },
  };
  assert.equal(replay(b, profile, options).stage, 'ok', 'the signed loader as signed');
  return options;
}

/** Every `stride`-th single-bit flip of bytes 0-3 of each instruction in `bytes[from, from + len)`, from a fixed phase. */
function* flips(from: number, len: number, stride: number): Generator<{ at: number; bit: number }> {
  let k = 0;
  for (let i = 0; i < len / 8; i++) {
    for (let byte = 0; byte < 4; byte++) {
      for (let bit = 0; bit < 8; bit++, k++) if (k % stride === 0) yield { at: from + 8 * i + byte, bit };
    }
  }
}

function outcome(r: ReplayReport): string {
  return `${r.stage}${r.errno ? ` errno ${r.errno}` : ''}${r.fault ? ` ${r.fault.code}` : ''}`;
}

/** Replays `n` mutants; asserts each gives a typed report; the outcomes counted. */
function replayAll(
  mutants: Iterable<{ insns: Uint8Array; data: Uint8Array }>,
  profile: KernelProfile,
  options: ReplayOptions,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of mutants) {
    let r: ReplayReport;
    try {
      r = replay(m, profile, options);
    } catch (e) {
      assert.fail(`replay threw on a mutant: ${(e as Error).stack}`);
    }
    assert.ok(STAGES.has(r.stage), `stage ${r.stage}`);
    assert.equal(r.ok, r.stage === 'ok');
    if (r.stage === 'loader_load') assert.ok(r.errno > 0, 'a refused load names its errno');
    if (r.fault) assert.match(r.fault.code, /^[A-Z][A-Z0-9_]+$/, 'a typed fault');
    const k = outcome(r);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

const show = (c: Map<string, number>): string =>
  [...c]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
const total = (c: Map<string, number>): number => [...c.values()].reduce((a, b) => a + b, 0);

describe('tampered loaders', () => {
  const profile = fixtureProfile();
  const signing = fixtureProfile({ signature: 'insns', name: 'linux-6.18-min+signing' });

  for (const [name, scheme, stride] of [
    ['xdp_filter.clang-el', 'linux-load-time', 7],
    ['subprogs.clang-el', 'unsigned', 7],
    ['maps.clang-el', 'linux-6.18', 11],
  ] as const) {
    it(`${name} (${scheme}): a flipped bit in the loader gets a report, never an exception`, (t) => {
      const b = build(name, scheme);
      const base = replay(b, profile, b.options);
      assert.equal(base.stage, 'ok', `the untouched loader: ${outcome(base)}`);
      const counts = replayAll(
        (function* () {
          for (const f of flips(0, b.insns.length, stride)) {
            const insns = b.insns.slice();
            insns[f.at]! ^= 1 << f.bit;
            yield { insns, data: b.data };
          }
        })(),
        profile,
        b.options,
      );
      t.diagnostic(`${total(counts)} mutants of ${b.insns.length / 8} insns: ${show(counts)}`);
      // Mutants the loader survives are those that change nothing it depends on (a bit of an unused field, an equivalent jump).
      assert.ok(total(counts) - (counts.get('ok') ?? 0) > total(counts) / 2, 'most mutants are refused or fail');
    });
  }

  for (const [name, scheme] of [
    ['xdp_filter.clang-el', 'linux-load-time'],
    ['maps.clang-el', 'linux-6.18'],
  ] as const) {
    it(`${name} (${scheme}), signed: every flipped bit in the loader is refused at its PROG_LOAD (EKEYREJECTED)`, (t) => {
      const b = build(name, scheme);
      // linux-6.18-min has no CONFIG_SYSTEM_DATA_VERIFICATION: the same kernel with it.
      const options = signedOptions(b, signing);
      const counts = replayAll(
        (function* () {
          for (const f of flips(0, b.insns.length, 5)) {
            const insns = b.insns.slice();
            insns[f.at]! ^= 1 << f.bit;
            yield { insns, data: b.data };
          }
        })(),
        signing,
        options,
      );
      t.diagnostic(`${total(counts)} signed mutants: ${show(counts)}`);
      assert.deepEqual([...counts.keys()], [`loader_load errno ${EKEYREJECTED}`]);
    });
  }
});

describe('tampered programs a loader loads', () => {
  const profile = fixtureProfile();
  for (const [name, stride] of [
    ['xdp_filter.clang-el', 4],
    ['subprogs.clang-el', 5],
    ['maps.clang-el', 5],
  ] as const) {
    it(`${name}: a flipped bit in a program gets a report from the model's PROG_LOAD, never an exception`, (t) => {
      const b = build(name, 'unsigned');
      assert.equal(replay(b, profile, b.options).stage, 'ok', 'the untouched loader');
      let counts = new Map<string, number>();
      let insns = 0;
      for (const prog of b.progs) {
        const at = Buffer.from(b.data).indexOf(Buffer.from(prog));
        assert.ok(at >= 0, 'the program sits in the loader blob');
        insns += prog.length / 8;
        const c = replayAll(
          (function* () {
            for (const f of flips(at, prog.length, stride)) {
              const data = b.data.slice();
              data[f.at]! ^= 1 << f.bit;
              yield { insns: b.insns, data };
            }
          })(),
          profile,
          b.options,
        );
        for (const [k, v] of c) counts.set(k, (counts.get(k) ?? 0) + v);
      }
      counts = new Map([...counts].sort());
      t.diagnostic(`${total(counts)} mutants of ${b.progs.length} programs (${insns} insns): ${show(counts)}`);
      assert.ok(total(counts) > 0);
    });
  }
});

describe('tampered loaders against this kernel', () => {
  it('a mutant loader the model refuses at its PROG_LOAD, the kernel refuses too', (t) => {
    const why = runnerSkipReason();
    if (why) return t.skip(why);
    const b = build('xdp_filter.clang-el', 'unsigned');
    const profile = hostProfile();
    const nrMaps = b.options.ctx!.maps.length,
      nrProgs = b.options.ctx!.progs.length;
    let same = 0,
      n = 0,
      missed = 0;
    const differ: string[] = [],
      wrong: string[] = [];
    // 1 in 79 flips: about 100 loads, spread over every instruction and field.
    for (const f of flips(0, b.insns.length, 79)) {
      const insns = b.insns.slice();
      insns[f.at]! ^= 1 << f.bit;
      const k = runLoader(`mutant-${f.at}-${f.bit}`, insns, b.data, nrMaps, nrProgs);
      const r = replay({ insns, data: b.data }, profile, b.options);
      n++;
      const kRefused = k.stage === 'loader_load',
        mRefused = r.stage === 'loader_load';
      const what = `insn ${f.at >> 3} byte ${f.at & 7} bit ${f.bit}: kernel ${k.stage} errno ${k.errno}, model ${outcome(r)}`;
      if (kRefused === mRefused && (!kRefused || k.errno === r.errno)) same++;
      else differ.push(what);
      if (mRefused && !kRefused) wrong.push(what);
      if (kRefused && !mRefused) missed++;
    }
    t.diagnostic(
      `${same} of ${n} mutants: the same PROG_LOAD outcome (refused with the same errno, or loaded); ${missed} refused by the kernel only`,
    );
    for (const d of differ) t.diagnostic(d);
    assert.deepEqual(wrong, [], 'loads the model refuses and the kernel accepts');
  });
});
