/**
 * OUR generated loaders on the real kernel, through test/kernel-runner/runner.c:
 *  1. unsigned loaders (v1.7 semantics) leave the same maps and programs in the kernel as
 *     bpftool 7.1's loader for the same object (masked: libbpf 1.1's BPF_F_MMAPABLE on
 *     internal maps with only static variables); when bpftool's loader fails inside, ours
 *     fails with the same errno;
 *  2. our light skeletons (bpftool-7.1 flavour against Debian's skel_internal.h, and the
 *     standalone v1.7 header) load;
 *  3. beyond libbpf: PROG_ARRAY initial slots, pinned maps, > 32 programs, legacy maps, ksyms;
 *  4. the linux-6.18 signed scheme: the loader's own metadata hash check on this kernel.
 * Host inputs: possible CPUs, kconfig (/proc/config.gz), kernel version (uname) and typeless
 * ksym addresses (/proc/kallsyms) are this machine's, because bpftool bakes those in too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { constants } from 'node:os';
import { parseElf } from '../../../src/loader/elf/index.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { parseObject, type ObjectSpec } from '../../../src/loader/object/index.js';
import { planObject, type Plan } from '../../../src/loader/plan/index.js';
import {
  generateLoader,
  lskelMapsFromObject,
  lskelProgsFromObject,
  type GeneratedLoader,
  type LoaderScheme,
} from '../../../src/loader/gen/index.js';
import { runGen } from '../../../src/cli/gen.js';
import { allObjects, readObject, hasTool, type TestObject } from '../../support/objects.js';
import { HAVE_BPFTOOL, bpftoolLskel, bpftoolObjName, lskelParts } from '../../kernel-runner/bpftool-lskel.js';
import {
  opaqueTypes,
  runLoader,
  runnerSkipReason,
  runSkeleton,
  skelMain,
  type RunnerReport,
  type RunOptions,
} from '../../kernel-runner/harness.js';
import { hostOptionsFor, mountBpffs, type HostInputsUsed } from '../../kernel-runner/host.js';
import { compareReports } from '../../kernel-runner/compare.js';
import { legacyMapDefs, progArraySlotsFromSource } from './kernel-ours-support.js';

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([k, v]) => [v, k]));
const errnoName = (e: number) => `${ERRNO_NAMES.get(e) ?? (e === 524 ? 'ENOTSUPP' : '?')} (${e})`;

const WHY = runnerSkipReason();
const BE_SKIP = (o: TestObject) =>
  `${o.name} is a big-endian object; this host is ${endianness() === 'LE' ? 'little' : 'big'}-endian, so the kernel cannot run it`;

interface Ours {
  name: string;
  spec: ObjectSpec;
  plan: Plan;
  loader: GeneratedLoader;
  used: HostInputsUsed;
  bytes: Uint8Array;
}
const cache = new Map<string, Ours | { error: string }>();
function ours(o: TestObject, scheme: LoaderScheme = 'unsigned', absentStrongAsZero = false): Ours | { error: string } {
  const key = `${o.path}\0${scheme}\0${absentStrongAsZero}`;
  let hit = cache.get(key);
  if (hit) return hit;
  try {
    const bytes = readObject(o);
    const name = bpftoolObjName(o.path);
    const spec = parseObject(bytes, { name });
    const used = hostOptionsFor(spec, { absentStrongAsZero });
    const plan = planObject(spec, { object: bytes, ...used.host });
    hit = { name, spec, plan, loader: generateLoader(plan, { scheme }), used, bytes };
  } catch (e) {
    hit = { error: `${(e as { code?: string }).code ?? 'Error'}: ${(e as Error).message}` };
  }
  cache.set(key, hit);
  return hit;
}
const isBigEndian = (o: TestObject) => {
  const b = readObject(o);
  return b[5] === 2;
};

function runOurs(o: TestObject, g: Ours, tag: string, opts: RunOptions = {}, data = g.loader.data): RunnerReport {
  return runLoader(`ours-${tag}-${g.name}`, g.loader.insns, data, g.loader.ctxLayout.maps.length, g.loader.ctxLayout.progs.length, opts);
}

function describeRun(r: RunnerReport): string {
  const progs = r.progs.filter((p) => p.fd > 0).length;
  if (r.stage === 'ok') return `loaded: ${r.maps.filter((m) => m.fd > 0).length} maps, ${progs} programs, retval ${r.retval}`;
  if (r.stage === 'loader_retval') return `loader returned -${errnoName(r.errno)} (it closes what it created)`;
  const log = (r.log_tail ?? '').trim().split('\n').slice(-2).join(' | ');
  return `${r.stage}: ${errnoName(r.errno)}${log ? `: ${log}` : ''}`;
}

const tally = {
  compared: 0,
  identical: 0,
  bothRefused: [] as string[],
  notCompared: [] as string[],
  skeletons: 0,
  skeletonsOk: 0,
  signed: [] as string[],
};

describe('our generated loaders on this kernel', () => {
  describe("unsigned loaders against bpftool 7.1's loader", () => {
    for (const o of allObjects()) {
      it(`${o.name}: leaves the same maps and programs as bpftool's loader`, (t) => {
        if (WHY) return t.skip(WHY);
        if (!HAVE_BPFTOOL) return t.skip('bpftool not installed');
        if (isBigEndian(o)) {
          tally.notCompared.push(`${o.name}: big-endian`);
          return t.skip(BE_SKIP(o));
        }
        const g = ours(o);
        const b = bpftoolLskel(o.path, bpftoolObjName(o.path));
        const oursRun = 'error' in g ? null : runOurs(o, g, 'cmp');
        if (oursRun) t.diagnostic(`ours: ${describeRun(oursRun)}`);
        else t.diagnostic(`ours: not generated: ${(g as { error: string }).error}`);
        if (!b.ok) {
          tally.notCompared.push(`${o.name}: bpftool cannot generate it`);
          return t.skip(`bpftool cannot generate it (${b.reason}); ours: ${oursRun ? describeRun(oursRun) : 'not generated'}`);
        }
        assert.ok(oursRun && !('error' in g), `bpftool handles it but we do not: ${(g as { error?: string }).error}`);
        const spec = g.spec;
        const btfSec = parseElf(g.bytes).section('.BTF');
        const btf = btfSec ? parseBtf(btfSec.data) : null;
        const parts = lskelParts(b.header);
        const ref = runLoader(
          `bpftool-${g.name}`,
          parts.insns,
          parts.data,
          lskelMapsFromObject(spec, btf, { flavour: 'bpftool-7.1' }).length,
          lskelProgsFromObject(spec).length,
        );
        t.diagnostic(`bpftool: ${describeRun(ref)}`);
        assert.equal(ref.leaked_fds, 0);
        assert.equal(oursRun.leaked_fds, 0, 'our loader run left file descriptors open');
        if (ref.stage === 'loader_load') {
          tally.notCompared.push(`${o.name}: bpftool's loader rejected by the verifier (${errnoName(ref.errno)})`);
          return t.skip(`bpftool's own loader is rejected by the verifier (${errnoName(ref.errno)}); ours: ${describeRun(oursRun)}`);
        }
        const masked = new Set(g.plan.maps.filter((m) => m.internal && !m.mmapable && !m.name.endsWith('.kconfig')).map((m) => m.index));
        const cmp = compareReports(oursRun, ref, { mmapableMasked: masked });
        for (const n of cmp.notes) t.diagnostic(`masked: ${n}`);
        assert.deepEqual(cmp.diffs, [], `ours vs bpftool:\n${cmp.diffs.join('\n')}`);
        if (ref.stage === 'ok') {
          assert.equal(oursRun.retval, 0);
          tally.compared++;
          tally.identical++;
          t.diagnostic(
            `identical: ${oursRun.maps.length} maps, ${oursRun.progs.filter((p) => p.fd > 0).length} programs (names, types, xlated lengths, tags, sizes, flags, frozen, contents)`,
          );
        } else {
          tally.bothRefused.push(`${o.name}: ${errnoName(ref.errno)}`);
          t.diagnostic(`both loaders refused inside with the same errno ${errnoName(ref.errno)} and the same objects created before`);
        }
      });
    }
  });

  describe('light skeletons', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-kos-'));
    for (const o of allObjects()) {
      for (const [flavour, standalone] of [
        ['bpftool-7.1', false],
        ['v1.7', true],
      ] as const) {
        const label = standalone
          ? 'our standalone v1.7 header (UAPI/libc only)'
          : "our bpftool-7.1 header against Debian's skel_internal.h";
        it(`${o.name}: ${label} loads as our loader does`, async (t) => {
          if (WHY) return t.skip(WHY);
          if (isBigEndian(o)) return t.skip(BE_SKIP(o));
          const g = ours(o);
          if ('error' in g) return t.skip(`not generated: ${g.error}`);
          const out = join(dir, `${g.name}-${flavour}`);
          await runGen(o.path, { scheme: 'unsigned', name: g.name, out, flavour, standalone, mapExcl: false, host: g.used.host }, () => {});
          const header = readFileSync(join(out, `${g.name}.lskel.h`), 'utf8');
          const btfSec = parseElf(g.bytes).section('.BTF');
          const btf = btfSec ? parseBtf(btfSec.data) : null;
          const maps = lskelMapsFromObject(g.spec, btf, { flavour });
          const progs = lskelProgsFromObject(g.spec);
          const direct = runOurs(o, g, 'skel');
          tally.skeletons++;
          const rep = runSkeleton(`${g.name}-${flavour}`, header, skelMain(g.name, maps, progs, opaqueTypes(btf, maps)));
          if (rep.stage === 'build') assert.fail(`does not build: ${'reason' in rep ? rep.reason : ''}`);
          // The runtime mmaps every map the header marks mmapable; the loader must have created those with BPF_F_MMAPABLE.
          const notMmapable = maps
            .filter((m) => m.mmap && g.plan.maps.find((p) => p.name === m.name)?.mmapable === false)
            .map((m) => m.name);
          if (notMmapable.length)
            t.diagnostic(`header mmaps ${notMmapable.join(', ')}, which the v1.7 loader creates without BPF_F_MMAPABLE`);
          if (direct.stage === 'loader_retval') {
            assert.equal(rep.stage, 'load', 'the kernel refused part of the object through the runner, so the skeleton load must fail');
            assert.equal((rep as { err?: number }).err, -direct.errno, "skeleton load error = the loader's -errno");
            assert.equal((rep as { leaked_fds?: number }).leaked_fds, 0);
            tally.skeletonsOk++;
            return t.skip(`kernel refused part of the object: ${errnoName(direct.errno)} (runner and skeleton agree)`);
          }
          assert.equal(direct.stage, 'ok', describeRun(direct));
          assert.equal(
            rep.stage,
            'ok',
            `${JSON.stringify(rep)}${notMmapable.length ? `: the ${flavour} header mmaps ${notMmapable.join(', ')}, but the loader (v1.7 plan) creates them without BPF_F_MMAPABLE` : ''}`,
          );
          const r = rep as { maps: number; progs: number; mmapped: number; leaked_fds: number };
          assert.equal(r.maps, maps.length, 'maps with an fd');
          assert.equal(r.progs, g.spec.programs.filter((p) => p.autoload).length, 'programs with an fd');
          assert.equal(r.mmapped, maps.filter((m) => m.mmap).length, 'mmapped maps');
          assert.equal(r.leaked_fds, 0);
          tally.skeletonsOk++;
        });
      }
    }
  });

  describe('beyond libbpf', () => {
    const fixture = (n: string) => allObjects().find((o) => o.name === n);
    const need = (t: { skip: (m: string) => void }, n: string, absentStrongAsZero = false): { o: TestObject; g: Ours } | null => {
      if (WHY) {
        t.skip(WHY);
        return null;
      }
      const o = fixture(n);
      if (!o) {
        t.skip(`${n} not present`);
        return null;
      }
      const g = ours(o, 'unsigned', absentStrongAsZero);
      if ('error' in g) assert.fail(`${n}: not generated: ${g.error}`);
      return { o, g };
    };

    it('tailcall.clang-el.o: the PROG_ARRAY holds the programs its .values name, in their slots', (t) => {
      const s = need(t, 'tailcall.clang-el.o');
      if (!s) return;
      const want = progArraySlotsFromSource(join(s.o.path, '../../src/tailcall.bpf.c'), 'jmp_table');
      const r = runOurs(s.o, s.g, 'tail');
      t.diagnostic(describeRun(r));
      assert.equal(r.stage, 'ok', describeRun(r));
      const jt = r.maps.find((m) => m.name === 'jmp_table');
      assert.ok(jt?.prog_ids, 'jmp_table reports its slots');
      const names = jt.prog_ids.map((id) => (id > 0 ? (r.progs.find((p) => p.id === id)?.name ?? `id ${id}`) : null));
      t.diagnostic(`jmp_table slots: ${JSON.stringify(names)} (ids ${JSON.stringify(jt.prog_ids)})`);
      for (let i = 0; i < names.length; i++) assert.equal(names[i], want.get(i) ?? null, `slot ${i}`);
      assert.equal(r.leaked_fds, 0);
    });

    it('maps.clang-el.o: the loader loads; the pinned map pins and reads back on bpffs', (t) => {
      const s = need(t, 'maps.clang-el.o');
      if (!s) return;
      const pinned = s.g.plan.maps.filter((m) => m.pin);
      assert.deepEqual(
        pinned.map((m) => m.pin?.path),
        s.g.spec.maps.filter((m) => m.pinning === 'by_name').map((m) => `/sys/fs/bpf/${m.name}`),
      );
      assert.ok(pinned.length > 0, 'the plan records pinning');
      const mnt = mountBpffs();
      if (!mnt.ok) t.diagnostic(`pinning not tried: ${mnt.reason}`);
      try {
        const pins = mnt.ok ? pinned.map((m) => ({ index: m.index, path: join(mnt.dir, basename(m.pin!.path)) })) : [];
        if (mnt.ok)
          t.diagnostic(`pinning under a private bpffs at ${mnt.dir} (not /sys/fs/bpf, which is not mounted here and is left alone)`);
        const r = runOurs(s.o, s.g, 'pin', { pins });
        t.diagnostic(describeRun(r));
        assert.equal(r.stage, 'ok', describeRun(r));
        for (const p of r.pins ?? []) {
          t.diagnostic(`pin map ${p.index} at ${p.path}: pin errno ${p.pin_errno}, get errno ${p.get_errno}, same map ${p.same_map}`);
          assert.equal(p.pin_errno, 0);
          assert.equal(p.same_map, true);
        }
        assert.equal(r.leaked_fds, 0);
      } finally {
        if (mnt.ok) mnt.unmount();
      }
    });

    it("big.clang-el.o: > 32 programs load (bpftool's 136-byte stack area is refused by the verifier)", (t) => {
      const s = need(t, 'big.clang-el.o');
      if (!s) return;
      t.diagnostic(`${s.g.plan.nrPrograms} programs with subprograms, stack area ${s.g.plan.stackSize} bytes`);
      if (HAVE_BPFTOOL) {
        const b = bpftoolLskel(s.o.path, s.g.name);
        if (b.ok) {
          const p = lskelParts(b.header);
          const ref = runLoader(
            `bpftool-big-${s.g.name}`,
            p.insns,
            p.data,
            s.g.loader.ctxLayout.maps.length,
            s.g.loader.ctxLayout.progs.length,
          );
          t.diagnostic(`bpftool's loader: ${describeRun(ref)}`);
        }
      }
      const r = runOurs(s.o, s.g, 'big');
      t.diagnostic(`ours: ${describeRun(r)}`);
      assert.equal(r.stage, 'ok', describeRun(r));
      assert.equal(r.progs.filter((p) => p.fd > 0).length, s.g.spec.programs.filter((p) => p.autoload).length);
      assert.equal(r.leaked_fds, 0);
    });

    for (const n of ['legacy_maps.clang-el.o', 'legacy_maps.gcc-el.o']) {
      it(`${n}: legacy SEC("maps") definitions create maps as defined in the ELF`, (t) => {
        const s = need(t, n);
        if (!s) return;
        if (!hasTool('llvm-objdump')) return t.skip('llvm-objdump not installed');
        const defs = legacyMapDefs(s.o.path);
        const r = runOurs(s.o, s.g, 'legacy');
        t.diagnostic(describeRun(r));
        if (r.stage === 'loader_retval') return t.skip(`kernel refused part of the object: ${describeRun(r)}`);
        assert.equal(r.stage, 'ok', describeRun(r));
        for (const d of defs) {
          const k = r.maps.find((m) => m.name === d.name);
          assert.ok(k, `map ${d.name} created`);
          assert.deepEqual(
            [k.type, k.key_size, k.value_size, k.max_entries, k.flags],
            [d.type, d.keySize, d.valueSize, d.maxEntries, d.flags],
            d.name,
          );
        }
        assert.equal(r.leaked_fds, 0);
      });
    }

    it("ksyms.clang-el.o: loads with /proc/kallsyms addresses, or fails with the kernel's errno", (t) => {
      const s = need(t, 'ksyms.clang-el.o', true);
      if (!s) return;
      const allSyms = s.g.used.host.kconfig?.CONFIG_KALLSYMS_ALL === 'y' ? 'set' : 'not set: data symbols are absent';
      for (const k of s.g.used.ksyms) {
        const how =
          k.address !== null
            ? `0x${k.address.toString(16)} from /proc/kallsyms`
            : k.zeroed
              ? `not in /proc/kallsyms (CONFIG_KALLSYMS_ALL ${allSyms}): passed as --ksym ${k.name}=0`
              : 'not in /proc/kallsyms → weak 0';
        t.diagnostic(`typeless ksym ${k.name}${k.weak ? ' (weak)' : ' (strong)'}: ${how}`);
      }
      const r = runOurs(s.o, s.g, 'ksyms');
      t.diagnostic(describeRun(r));
      assert.equal(r.leaked_fds, 0);
      assert.notEqual(r.stage, 'loader_load', `the verifier rejected our loader: ${describeRun(r)}`);
      if (r.stage !== 'ok') {
        // Again with a ctx log buffer: the loader hands it to the programs' BPF_PROG_LOAD.
        const logged = runOurs(s.o, s.g, 'ksyms-log', { log: true });
        const lines = (logged.ctx_log_tail ?? '')
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('processed '));
        const said = lines.slice(-1)[0] ?? "(no verifier log: the failure is in the loader's own lookups)";
        t.diagnostic(`kernel says: ${said}`);
        return t.skip(`kernel refused the object: ${errnoName(r.errno)}: ${said}`);
      }
      assert.equal(r.retval, 0);
    });
  });

  describe('linux-6.18 signed scheme (in-loader metadata hash check)', () => {
    const sha = (b: Uint8Array | string) => new Uint8Array(createHash('sha256').update(b).digest());
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const o of allObjects()) {
      it(`${o.name}: loads with the frozen, hashed metadata map; one flipped data byte gives -EINVAL`, (t) => {
        if (WHY) return t.skip(WHY);
        if (isBigEndian(o)) return t.skip(BE_SKIP(o));
        const u = ours(o),
          g = ours(o, 'linux-6.18');
        if ('error' in g || 'error' in u) return t.skip(`not generated: ${'error' in g ? g.error : ''}`);
        const plain = runOurs(o, u, 'plain');
        if (plain.stage !== 'ok') return t.skip(`the unsigned loader does not load here either: ${describeRun(plain)}`);
        const good = runOurs(o, g, 'signed', { signed: true, excl: g.loader.insnsHash });
        const sg = good.signed!;
        t.diagnostic(
          `excl_prog_hash at MAP_CREATE: ${sg.excl_errno ? `refused, ${errnoName(sg.excl_errno)}` : 'accepted'}; freeze ${sg.freeze_errno ? `refused, ${errnoName(sg.freeze_errno)}` : 'ok'}; map hash ${sg.hash_errno ? `refused, ${errnoName(sg.hash_errno)}` : sg.hash}`,
        );
        assert.equal(sg.hash_errno, 0, 'BPF_OBJ_GET_INFO_BY_FD computes the map hash');
        assert.equal(sg.hash, hex(g.loader.dataHash), "the kernel's SHA-256 of the metadata map = our dataHash");
        assert.equal(good.stage, 'ok', describeRun(good));
        assert.equal(good.retval, 0);
        assert.deepEqual(compareReports(good, plain).diffs, [], 'signed and unsigned loaders leave the same objects');
        const flipped = g.loader.data.slice();
        flipped[flipped.length >> 1] ^= 0x01;
        const bad = runOurs(o, g, 'flip', { signed: true, excl: g.loader.insnsHash }, flipped);
        t.diagnostic(`one data byte flipped at ${flipped.length >> 1}: ${describeRun(bad)}`);
        assert.equal(bad.stage, 'loader_retval');
        assert.equal(bad.retval, -22, 'the loader returns -EINVAL');
        assert.equal(bad.maps.filter((m) => m.fd > 0).length + bad.progs.filter((p) => p.fd > 0).length, 0, 'nothing was created');
        const unhashed = runOurs(o, g, 'nohash');
        assert.equal(unhashed.retval, -22, 'without the map hash (map->sha all zero) the loader fails closed');
        for (const r of [good, bad, unhashed]) assert.equal(r.leaked_fds, 0);
        tally.signed.push(o.name);
      });
    }

    it("probes excl_prog_hash: the kernel refuses a loader whose digest differs from the map's excl_prog_hash", (t) => {
      if (WHY) return t.skip(WHY);
      const o = allObjects().find((x) => x.name === 'xdp_filter.clang-el.o') ?? allObjects().find((x) => !isBigEndian(x));
      if (!o) return t.skip('no object');
      const g = ours(o, 'linux-6.18');
      if ('error' in g) return t.skip(g.error);
      const r = runOurs(o, g, 'wrongexcl', { signed: true, excl: sha('not the loader') });
      const e = r.signed!.excl_errno;
      t.diagnostic(`MAP_CREATE with excl_prog_hash: ${e ? `refused, ${errnoName(e)} (no excl_prog_hash support)` : 'accepted'}`);
      t.diagnostic(`loader load with a mismatching excl_prog_hash: ${describeRun(r)}`);
      if (e) return t.skip(`this kernel has no excl_prog_hash (${errnoName(e)})`);
      assert.equal(r.stage, 'loader_load');
      assert.equal(r.errno, 13, "EACCES: program's hash doesn't match map's excl_prog_hash");
      assert.equal(r.leaked_fds, 0);
    });
  });

  it('prints the totals', (t) => {
    if (WHY) return t.skip(WHY);
    t.diagnostic(`${tally.compared} objects loaded by both and compared: ${tally.identical} identical`);
    t.diagnostic(`${tally.bothRefused.length} refused inside both loaders with the same errno: ${tally.bothRefused.join('; ')}`);
    t.diagnostic(`${tally.notCompared.length} not compared: ${tally.notCompared.join('; ')}`);
    t.diagnostic(`skeletons as expected: ${tally.skeletonsOk} of ${tally.skeletons}`);
    t.diagnostic(
      `linux-6.18 scheme verified (loads with the hashed map, -EINVAL with a flipped byte or no hash) on ${tally.signed.length} objects`,
    );
  });
});
