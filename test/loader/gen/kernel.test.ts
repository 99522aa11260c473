/**
 * Loaders on the real kernel. Before our generator exists, the loaders come from bpftool 7.1's
 * own light skeletons: their opts_insn/opts_data bytes run through test/kernel-runner/runner.c,
 * bpftool's header is compiled against Debian's skel_internal.h, and our standalone header
 * (same bytes, our runtime) is compiled with nothing but UAPI/libc headers. Objects whose
 * programs the kernel refuses (the loader returns -errno) are reported and skipped.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseElf } from '../../../src/loader/elf/index.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import { emitLightSkeleton } from '../../../src/loader/gen/lskel.js';
import { lskelMapsFromObject, lskelProgsFromObject } from '../../../src/loader/gen/lskel-object.js';
import { allObjects, readObject, type TestObject } from '../../support/objects.js';
import { HAVE_BPFTOOL, bpftoolLskel, bpftoolObjName, lskelParts } from '../../kernel-runner/bpftool-lskel.js';
import { opaqueTypes, runLoader, runnerSkipReason, runSkeleton, skelMain } from '../../kernel-runner/harness.js';

const BPF_OBJ_NAME_LEN = 16;

function candidates(): TestObject[] {
  return allObjects().filter((o) => o.origin === 'xdp-tools' || o.entry?.bpftool_lskel === true);
}

function skipReason(): string | null {
  if (!HAVE_BPFTOOL) return 'bpftool not installed';
  return runnerSkipReason();
}

function setup(o: TestObject) {
  const name = bpftoolObjName(o.path);
  const r = bpftoolLskel(o.path, name);
  if (!r.ok) return { skip: `bpftool cannot generate it: ${r.reason}` } as const;
  const bytes = readObject(o);
  const spec = parseObject(bytes, { name });
  const sec = parseElf(bytes).section('.BTF');
  const btf = sec ? parseBtf(sec.data) : null;
  const parts = lskelParts(r.header);
  const maps = lskelMapsFromObject(spec, btf, { flavour: 'bpftool-7.1' });
  for (const m of maps) {
    const img = parts.images.get(m.ident);
    if (m.mmap && img) m.mmap.initialValue = img;
  }
  return { name, header: r.header, spec, btf, parts, maps, progs: lskelProgsFromObject(spec) } as const;
}

describe('generated loaders on this kernel', () => {
  const why = skipReason();
  for (const o of candidates()) {
    describe(o.name, () => {
      it("loads through the kernel runner and creates the object's maps and programs", (t) => {
        if (why) return t.skip(why);
        const s = setup(o);
        if ('skip' in s) return t.skip(s.skip);
        const rep = runLoader(s.name, s.parts.insns, s.parts.data, s.maps.length, s.progs.length);
        assert.equal(rep.leaked_fds, 0, 'the loader run left file descriptors open');
        if (rep.stage === 'loader_retval') {
          t.diagnostic(`kernel refused an object inside the loader: errno ${rep.errno}`);
          return t.skip(`kernel refused part of the object (loader returned -${rep.errno})`);
        }
        if (rep.stage === 'loader_load') {
          const last = (rep.log_tail ?? '').trim().split('\n').slice(-2).join(' | ');
          t.diagnostic(`verifier rejected the loader program itself: errno ${rep.errno}: ${last}`);
          return t.skip(`kernel rejects the loader program (errno ${rep.errno}): ${last}`);
        }
        assert.equal(rep.stage, 'ok', `runner stage ${rep.stage} errno ${rep.errno} ${rep.log_tail ?? ''}`);
        assert.equal(rep.retval, 0);
        const specMaps = s.spec.maps.filter((m) => s.maps.some((l) => l.name === m.name));
        assert.equal(rep.maps.length, specMaps.length);
        specMaps.forEach((m, i) => {
          const k = rep.maps[i];
          assert.ok(k.fd > 0, `map ${m.name}: no fd`);
          assert.equal(k.name, m.name.slice(0, BPF_OBJ_NAME_LEN - 1), `map ${i} name`);
          assert.equal(k.type, m.typeId, `map ${m.name} type`);
          assert.equal(k.key_size, m.keySize, `map ${m.name} key size`);
          assert.equal(k.value_size, m.valueSize, `map ${m.name} value size`);
          if (m.initialValue && k.contents)
            assert.equal(k.contents, Buffer.from(s.maps[i].mmap?.initialValue ?? m.initialValue).toString('hex'), `map ${m.name} contents`);
          if (m.frozen) assert.equal(k.frozen, true, `map ${m.name} should be frozen`);
        });
        const loaded = s.spec.programs.filter((p) => p.autoload);
        rep.progs.forEach((k, i) => {
          const p = loaded[i];
          if (!p) return assert.ok(k.fd <= 0, `ctx prog slot ${i} has an fd but only ${loaded.length} programs autoload`);
          assert.ok(k.fd > 0, `program ${p.name}: no fd`);
          assert.equal(k.name, p.name.slice(0, BPF_OBJ_NAME_LEN - 1), `prog ${i} name`);
          assert.equal(k.type, p.typeId, `program ${p.name} type`);
          assert.ok((k.xlated_prog_len ?? 0) > 0);
        });
        t.diagnostic(`maps ${rep.maps.length}, programs ${rep.progs.filter((p) => p.fd > 0).length}`);
      });

      it("loads through bpftool's own header compiled against Debian's skel_internal.h", (t) => {
        if (why) return t.skip(why);
        const s = setup(o);
        if ('skip' in s) return t.skip(s.skip);
        const rep = runSkeleton(`${s.name}-bpftool`, s.header, skelMain(s.name, s.maps, s.progs, opaqueTypes(s.btf, s.maps)));
        if (rep.stage === 'build') assert.fail(`does not build: ${'reason' in rep ? rep.reason : ''}`);
        if (rep.stage === 'load') return t.skip(`kernel refused part of the object (load returned ${'err' in rep ? rep.err : '?'})`);
        assert.equal(rep.stage, 'ok');
        assert.equal((rep as { leaked_fds?: number }).leaked_fds, 0);
      });

      it('loads through our standalone header (v1.7 layout, own runtime)', (t) => {
        if (why) return t.skip(why);
        const s = setup(o);
        if ('skip' in s) return t.skip(s.skip);
        const header = emitLightSkeleton(
          { name: s.name, insns: s.parts.insns, data: s.parts.data, maps: s.maps, progs: s.progs, hasBtf: s.btf !== null },
          { flavour: 'v1.7', standalone: true },
        );
        const rep = runSkeleton(`${s.name}-standalone`, header, skelMain(s.name, s.maps, s.progs, opaqueTypes(s.btf, s.maps)));
        if (rep.stage === 'build') assert.fail(`does not build: ${'reason' in rep ? rep.reason : ''}`);
        if (rep.stage === 'load') return t.skip(`kernel refused part of the object (load returned ${'err' in rep ? rep.err : '?'})`);
        assert.equal(rep.stage, 'ok');
        const r = rep as { maps: number; progs: number; mmapped: number; leaked_fds: number };
        assert.equal(r.maps, s.maps.length);
        assert.equal(r.progs, s.spec.programs.filter((p) => p.autoload).length);
        assert.equal(r.mmapped, s.maps.filter((m) => m.mmap).length);
        assert.equal(r.leaked_fds, 0);
      });
    });
  }
});
