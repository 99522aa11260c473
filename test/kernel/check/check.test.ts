import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, decodeInsns, encodeInsns, insn, type Insn } from '../../../src/loader/isa/index.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { parseElf } from '../../../src/loader/elf/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import type { ProgramSpec } from '../../../src/loader/object/spec.js';
import { PROG_TYPE } from '../../../src/loader/uapi/enums.js';
import { applyCoreRelocations } from '../../../src/kernel/core/index.js';
import { checkProgram, errorsOf, type FindingCode } from '../../../src/kernel/check/index.js';
import { profileFromFiles, type KernelProfile } from '../../../src/kernel/profile/index.js';
import { fixtureObjects, hasTool, ROOT } from '../../support/objects.js';
import { bpfPermitted } from '../../support/bpf-permitted.js';

const MIN_DIR = join(ROOT, 'test/fixtures/profiles/linux-6.18-min');
function loadProfile(): KernelProfile {
  const files = new Map<string, Uint8Array>();
  for (const f of ['profile.json', 'vmlinux.btf']) files.set(f, new Uint8Array(readFileSync(join(MIN_DIR, f))));
  return profileFromFiles(files);
}
const profile = loadProfile();

const codes = (src: string | Insn[], opts = {}): FindingCode[] =>
  checkProgram(typeof src === 'string' ? assemble(src) : src, { profile, ...opts }).map((f) => f.code);

describe('checkProgram', () => {
  it('finds nothing in a well-formed program', () => {
    assert.deepEqual(
      codes('r1 = 0\n*(u64 *)(r10 - 8) = r1\nr0 = *(u64 *)(r10 - 512)\ncall 5\nif r0 > 3 goto +1\nr0 = 0\nexit', { progType: 'XDP' }),
      [],
    );
  });
  it('reports an undefined encoding as INVALID_OPCODE with the pc', () => {
    const f = checkProgram([insn(0x07, 1, 0, 0, 1), insn(0xff, 0, 0, 0, 0), insn(0x95, 0, 0, 0, 0)]);
    assert.equal(f.length, 1);
    assert.equal(f[0].code, 'INVALID_OPCODE');
    assert.equal(f[0].pc, 1);
    assert.equal(f[0].opcode, 0xff);
  });
  it('reports jumps past the end and before the start', () => {
    assert.deepEqual(codes('goto +5\nexit'), ['JUMP_OUT_OF_RANGE']);
    assert.deepEqual(codes('r0 = 0\nif r0 == 0 goto -3\nexit'), ['JUMP_OUT_OF_RANGE']);
  });
  it('reports a jump into the second slot of an ld_imm64', () => {
    const f = checkProgram(assemble('if r1 == 0 goto +1\nr0 = 0x100000000 ll\nexit'));
    assert.deepEqual(
      f.map((x) => [x.code, x.pc, x.got]),
      [['JUMP_INTO_LD_IMM64', 0, 2]],
    );
  });
  it('reports fall-through off the end of the program and of a subprogram', () => {
    assert.deepEqual(codes('r0 = 0'), ['FALL_THROUGH']);
    assert.deepEqual(codes('call pc+1\nexit\nr0 = 1'), ['FALL_THROUGH']);
  });
  it('reports a jump from a subprogram into another', () => {
    assert.deepEqual(codes('call pc+2\nr0 = 0\nexit\ngoto -2\nexit'), ['JUMP_OUT_OF_RANGE']);
  });
  it('reports calls to targets outside the program', () => {
    assert.deepEqual(codes('call pc+7\nexit'), ['CALL_TARGET_INVALID']);
  });
  it('reports helpers the program type may not call, and unknown helpers', () => {
    assert.deepEqual(codes('call 44\nexit', { progType: 'SOCKET_FILTER' }), ['HELPER_NOT_ALLOWED']);
    assert.deepEqual(codes('call 44\nexit', { progType: 'XDP' }), []);
    assert.deepEqual(codes('call 100000\nexit', { progType: 'XDP' }), ['HELPER_UNKNOWN']);
  });
  it('reports the CO-RE poison call as a warning only', () => {
    const f = checkProgram(assemble('call 195896080\nexit'), { profile, progType: 'XDP' });
    assert.deepEqual(
      f.map((x) => [x.code, x.severity]),
      [['CORE_POISONED', 'warning']],
    );
    assert.deepEqual(errorsOf(f), []);
  });
  it('reports map indices past fd_array and disallowed pseudo sources', () => {
    assert.deepEqual(codes('ld_pseudo r1, 5, 3\nr0 = 0\nexit', { fdArrayLength: 3 }), ['MAP_IDX_OUT_OF_RANGE']);
    assert.deepEqual(codes('ld_pseudo r1, 5, 2\nr0 = 0\nexit', { fdArrayLength: 3 }), []);
    assert.deepEqual(codes('ld_pseudo r1, 1, 7\nr0 = 0\nexit', { allowedPseudo: [0, 5, 6] }), ['PSEUDO_NOT_ALLOWED']);
  });
  it('reports r10-relative accesses outside [-512, 0)', () => {
    assert.deepEqual(codes('*(u64 *)(r10 - 520) = 1\nr0 = 0\nexit'), ['STACK_OUT_OF_BOUNDS']);
    assert.deepEqual(codes('r0 = *(u32 *)(r10 - 2)\nexit'), ['STACK_OUT_OF_BOUNDS']);
    assert.deepEqual(codes('r0 = *(u8 *)(r10 - 1)\nexit'), []);
  });
});

/**
 * The final instructions our pipeline would load: CO-RE applied, maps as fd_array indices,
 * kfunc calls as BPF_PSEUDO_KFUNC_CALL and ksym loads as BPF_PSEUDO_BTF_ID (ids from the profile).
 */
function finalInsns(p: ProgramSpec, local: ReturnType<typeof parseBtf> | null): Insn[] {
  const base =
    local && p.coreRelos.length ? applyCoreRelocations(p.insns, p.coreRelos, local, { vmlinux: profile.vmlinux! }).insns : p.insns.slice();
  const bySlot = new Map<number, number>();
  let s = 0;
  base.forEach((i, k) => {
    bySlot.set(s, k);
    s += i.width;
  });
  for (const r of p.relocations) {
    const k = bySlot.get(r.insn);
    if (k === undefined) continue;
    const i = base[k];
    if (r.kind === 'extern_call' || r.kind === 'extern_ld64') {
      const id = profile.vmlinux!.findByName(r.extern) ?? 0;
      base[k] =
        r.kind === 'extern_call'
          ? { ...i, src: 2, imm: id }
          : { ...i, src: 3, imm: id, imm64: undefined, next: { ...(i.next ?? { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 }), imm: 0 } };
      continue;
    }
    if (r.kind !== 'map' && r.kind !== 'data') continue;
    base[k] = {
      ...i,
      src: r.kind === 'map' ? 5 : 6,
      imm: r.mapIndex,
      imm64: undefined,
      next: { ...(i.next ?? { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 }), imm: r.kind === 'data' ? r.offset : 0 },
    };
  }
  return base;
}

describe('checkProgram on every fixture program', () => {
  for (const o of fixtureObjects()) {
    it(`${o.name}: no errors`, (t) => {
      const bytes = new Uint8Array(readFileSync(o.path));
      let spec;
      try {
        spec = parseObject(bytes);
      } catch (e) {
        return t.skip(`does not parse: ${(e as Error).message}`);
      }
      const sec = parseElf(bytes).section('.BTF');
      const local = sec ? parseBtf(sec.data) : null;
      let n = 0;
      for (const p of spec.programs) {
        let insns: Insn[];
        try {
          insns = finalInsns(p, local);
        } catch (e) {
          t.diagnostic(`${p.name}: CO-RE fails (${(e as Error).message})`);
          continue;
        }
        const errs = errorsOf(checkProgram(insns, { profile, progType: p.type ?? undefined, fdArrayLength: spec.maps.length }));
        assert.deepEqual(errs, [], `${p.name}: ${errs.map((f) => f.message).join('; ')}`);
        n++;
      }
      t.diagnostic(`${n} programs checked`);
    });
  }
});

/** Deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const BASES: [string, string][] = [
  [
    'SOCKET_FILTER',
    'r1 = 0\n*(u64 *)(r10 - 8) = r1\n*(u32 *)(r10 - 16) = 7\ncall 5\nr6 = r0\ncall 7\nif r0 > 100 goto +2\nr0 = *(u64 *)(r10 - 8)\ngoto +1\nr0 = 1\nr1 = 0x1122334455667788 ll\nr0 &= 1\nexit',
  ],
  [
    'XDP',
    'r6 = r1\ncall 8\n*(u32 *)(r10 - 4) = r0\nr1 = *(u32 *)(r10 - 4)\nif r1 == 3 goto +3\nr2 = 0x55 ll\n*(u64 *)(r10 - 24) = r2\ngoto +1\nr0 = 2\nr0 = 2\nexit',
  ],
];

describe('mutated programs: our errors imply the kernel refuses', () => {
  it('every program with an error finding is rejected by the verifier', (t) => {
    const p = bpfPermitted();
    if (!p.ok) return t.skip(p.reason);
    if (!hasTool('gcc')) return t.skip('gcc not installed');
    const exe = join(mkdtempSync(join(tmpdir(), 'bpfsign-check-')), 'load_raw');
    const cc = spawnSync('gcc', ['-O1', '-o', exe, join(ROOT, 'test/kernel/check/load_raw.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const rand = rng(0x5eed);
    const cases: { type: string; bytes: Uint8Array; codes: FindingCode[] }[] = [];
    for (let n = 0; n < 1500; n++) {
      const [type, src] = BASES[n % BASES.length];
      const bytes = encodeInsns(assemble(src), 'le');
      const slot = rand(bytes.length / 8) * 8;
      switch (rand(5)) {
        case 0:
          bytes[slot] = rand(256);
          break;
        case 1: {
          const off = rand(1100) - 550;
          bytes[slot + 2] = off & 0xff;
          bytes[slot + 3] = (off >> 8) & 0xff;
          break;
        }
        case 2:
          bytes[slot + 4] = rand(256);
          bytes[slot + 5] = rand(2);
          break;
        case 3:
          bytes[slot + 1] = rand(256);
          break;
        default:
          bytes[slot] = [0x05, 0x15, 0x85, 0x95, 0x18, 0x79, 0x7b, 0x62][rand(8)];
          break;
      }
      let insns: Insn[];
      try {
        insns = decodeInsns(bytes, 'le');
      } catch {
        continue;
      }
      const errs = errorsOf(checkProgram(insns, { profile, progType: type, fdArrayLength: 0 }));
      cases.push({ type, bytes, codes: errs.map((f) => f.code) });
    }
    const input =
      cases.map((c) => `${PROG_TYPE[c.type as keyof typeof PROG_TYPE]} ${Buffer.from(c.bytes).toString('hex')}`).join('\n') + '\n';
    const r = spawnSync(exe, [], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
    const results = r.stdout.trim().split('\n');
    assert.equal(results.length, cases.length);
    let flagged = 0,
      bothReject = 0,
      kernelOnly = 0,
      accepted = 0;
    const wrong: string[] = [];
    cases.forEach((c, i) => {
      const rejected = !results[i].startsWith('0');
      if (c.codes.length > 0) {
        flagged++;
        if (rejected) bothReject++;
        else wrong.push(`${c.codes.join(',')} but the kernel accepts ${Buffer.from(c.bytes).toString('hex')}`);
      } else if (rejected) kernelOnly++;
      else accepted++;
    });
    t.diagnostic(
      `mutants ${cases.length}: we flag ${flagged} (kernel rejects ${bothReject}), kernel-only rejections ${kernelOnly}, accepted by both ${accepted}`,
    );
    assert.deepEqual(wrong, []);
  });
});
