import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BtfBuilder, parseBtf, type Btf } from '../../../src/loader/btf/index.js';
import { parseElf } from '../../../src/loader/elf/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import type { ObjectSpec } from '../../../src/loader/object/spec.js';
import { applyCoreRelocations } from '../../../src/kernel/core/index.js';
import { KernelError } from '../../../src/kernel/errors.js';
import {
  hasBpfMapExcl,
  kernelVersionCode,
  parseKallsyms,
  parseKernelRelease,
  profileFromFiles,
  profileFromParts,
  profileToFiles,
  helperAllowed,
  profileView,
  refusedAttach,
  ksymAddress,
} from '../../../src/kernel/profile/index.js';
import { ATTACH_TYPE, PROG_TYPE } from '../../../src/loader/uapi/index.js';
import { fixtureObjects, ROOT } from '../../support/objects.js';

const MIN_DIR = join(ROOT, 'test/fixtures/profiles/linux-6.18-min');
const HOST_BTF = '/sys/kernel/btf/vmlinux';

function readDir(dir: string, prefix = ''): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of readdirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${f}` : f;
    if (f === 'README.md') continue;
    if (statSync(join(dir, rel)).isDirectory()) for (const [k, v] of readDir(dir, rel)) out.set(k, v);
    else out.set(rel, new Uint8Array(readFileSync(join(dir, rel))));
  }
  return out;
}

describe('parseKernelRelease', () => {
  it('reads major.minor.patch of a uname -r string and encodes KERNEL_VERSION', () => {
    assert.deepEqual(parseKernelRelease('6.18.44-fc-v782'), { major: 6, minor: 18, patch: 44, code: 6 * 65536 + 18 * 256 + 44 });
    assert.equal(parseKernelRelease('6.18').code, 0x061200);
  });
  it('clamps the patch level to 255 like LINUX_KERNEL_VERSION', () => {
    assert.equal(parseKernelRelease('5.4.300').code, 0x0504ff);
    assert.equal(kernelVersionCode(4, 19, 1000), 0x0413ff);
  });
  it('throws KERNEL_INVALID for a string without a version', () => {
    assert.throws(
      () => parseKernelRelease('linux'),
      (e) => e instanceof KernelError && e.code === 'KERNEL_INVALID',
    );
  });
});

describe('parseKallsyms', () => {
  it('keeps the first address of each name and the module', () => {
    const m = parseKallsyms('ffffffff81000000 T _stext\nffffffffc0000000 t foo\t[mod]\nffffffff81000010 T _stext\nbad line\n');
    assert.equal(m.get('_stext')?.address, 0xffffffff81000000n);
    assert.equal(m.get('foo')?.module, 'mod');
    assert.equal(m.size, 2);
  });
});

describe('hasBpfMapExcl', () => {
  const build = (members: string[]) => {
    const b = new BtfBuilder();
    const u8 = b.add({ kind: 'INT', name: 'u8', size: 1 });
    b.add({ kind: 'STRUCT', name: 'bpf_map', size: 64, members: members.map((name, i) => ({ name, type: u8, bitOffset: i * 8 })) });
    return b.build();
  };
  it('is true when excl directly follows sha', () => assert.equal(hasBpfMapExcl(build(['ops', 'sha', 'excl'])), true));
  it('is false when excl is missing or elsewhere', () => {
    assert.equal(hasBpfMapExcl(build(['ops', 'sha'])), false);
    assert.equal(hasBpfMapExcl(build(['excl', 'sha', 'ops'])), false);
  });
});

describe('the linux-6.18-min fixture profile', () => {
  const files = readDir(MIN_DIR);
  it('is well under 1 MB', () => {
    const total = [...files.values()].reduce((n, b) => n + b.length, 0);
    assert.ok(total < 256 * 1024, `profile is ${total} bytes`);
  });
  it('round-trips: files → profile → files gives the same bytes', () => {
    const p = profileFromFiles(files);
    const again = profileToFiles(p);
    assert.deepEqual([...again.keys()].sort(), [...files.keys()].sort());
    for (const [k, v] of again) assert.deepEqual(Buffer.from(v), Buffer.from(files.get(k) as Uint8Array), k);
    const p2 = profileFromFiles(again);
    assert.deepEqual({ ...p2, vmlinux: null }, { ...p, vmlinux: null });
  });
  it('records what this kernel reported: 6.18, bpf_map.excl, no signature verification, fentry refused', () => {
    const p = profileFromFiles(files);
    assert.equal(p.version.major, 6);
    assert.equal(p.version.minor, 18);
    assert.notEqual(p.bpfMap.excl, null, 'struct bpf_map has excl');
    assert.equal(p.signature, 'no-verification', 'a signed load answers EOPNOTSUPP');
    assert.ok(p.progTypes.includes('XDP') && p.mapTypes.includes('HASH'));
    assert.equal(helperAllowed(p, 'XDP', 1), true, 'XDP may call map_lookup_elem');
    assert.equal(helperAllowed(p, 'SOCKET_FILTER', 44), false, 'socket filters may not call xdp_adjust_head');
  });
  it('refuses a profile whose profile.json disagrees with its BTF', () => {
    const json = JSON.parse(new TextDecoder().decode(files.get('profile.json'))) as Record<string, unknown>;
    json.bpfMapExcl = !json.bpfMapExcl;
    const bad = new Map(files);
    bad.set('profile.json', new TextEncoder().encode(JSON.stringify(json)));
    assert.throws(
      () => profileFromFiles(bad),
      (e) => e instanceof KernelError && e.code === 'KERNEL_INVALID',
    );
  });
  it('profileFromParts rejects unknown program types', () => {
    assert.throws(
      () => profileFromParts({ release: '6.18.0', vmlinuxBtf: files.get('vmlinux.btf') as Uint8Array, progTypes: ['NOPE'] }),
      KernelError,
    );
  });
  it('profileFromParts rejects refused attach types with unknown names or errnos', () => {
    const vmlinuxBtf = files.get('vmlinux.btf') as Uint8Array;
    for (const r of [
      { progType: 'TRACING', attachType: 'NOPE', errno: 'EPERM' },
      { progType: 'TRACING', attachType: 'TRACE_FENTRY', errno: 'EWHAT' },
    ]) {
      assert.throws(
        () => profileFromParts({ release: '6.18.0', vmlinuxBtf, refusedAttachTypes: [r] }),
        (e) => e instanceof KernelError && e.code === 'KERNEL_INVALID',
      );
    }
  });
  it('gives the model its refused attach types by number and errno', () => {
    const p = profileFromFiles(files);
    assert.equal(refusedAttach(p, PROG_TYPE.TRACING, ATTACH_TYPE.TRACE_FENTRY), 1);
    assert.equal(refusedAttach(p, PROG_TYPE.TRACING, ATTACH_TYPE.TRACE_RAW_TP), null);
  });
  it('keeps a signature scheme no probe tells apart across files', () => {
    const p = profileView({ ...profileFromFiles(files), signature: 'insns-and-maps' });
    assert.equal(profileFromFiles(profileToFiles(p)).signature, 'insns-and-maps');
  });
});

describe('profileView', () => {
  it('fills in what a 6.18 kernel does when given only a name', () => {
    const p = profileView({ name: 'bare' });
    assert.deepEqual(
      [p.version.code, p.signature, p.tagHash, p.mapHash, p.exclusiveMaps, p.attrSize],
      [0x061200, 'insns', 'sha256', true, true, 168],
    );
    assert.equal(p.vmlinux, null);
    assert.equal(p.kallsyms, null);
  });
  it('fills in what a kernel before 6.18 does: no signatures, SHA-1 tags, no map hashes', () => {
    const p = profileView({ name: 'old', version: kernelVersionCode(6, 8, 0) });
    assert.deepEqual(
      [p.version.minor, p.signature, p.tagHash, p.mapHash, p.exclusiveMaps, p.attrSize],
      [8, 'none', 'sha1', false, false, 144],
    );
  });
  it("reads the last map and program types from the BTF's enums when it has them", (t) => {
    if (!existsSync(HOST_BTF)) return t.skip(`${HOST_BTF} missing`);
    const btf = parseBtf(new Uint8Array(readFileSync(HOST_BTF)));
    const p = profileView({ name: 'host', btf });
    assert.equal(
      p.maxMapType,
      (btf.type(btf.findByName('bpf_map_type', 'ENUM')!) as { enumerators: { name: string; value: number }[] }).enumerators.at(-1)!.value,
    );
    assert.ok(p.maxProgType > PROG_TYPE.NETFILTER);
  });
  it('counts a hidden (zero) kallsyms address as absent', () => {
    const p = profileView({ name: 'k', kallsyms: parseKallsyms('0000000000000000 T hidden\nffffffff81000000 T shown\n') });
    assert.equal(ksymAddress(p, 'hidden'), undefined);
    assert.equal(ksymAddress(p, 'shown'), 0xffffffff81000000n);
  });
});

/** What a loader looks up in kernel BTF for an object, as comparable plain data. */
function lookups(spec: ObjectSpec, local: Btf | null, target: Btf): unknown {
  const describe = (id: number | undefined): unknown => {
    if (id === undefined) return null;
    const t = target.type(id);
    if (t.kind === 'FUNC') {
      const proto = target.type(t.type);
      if (proto.kind !== 'FUNC_PROTO') return { kind: t.kind };
      return {
        kind: t.kind,
        params: proto.params.map((p) => `${p.name}:${target.kind(target.resolve(p.type))}:${target.name(target.resolve(p.type))}`),
      };
    }
    if (t.kind === 'VAR') return { kind: t.kind, type: target.name(target.resolve(t.type)) };
    return { kind: t.kind, size: 'size' in t ? t.size : null };
  };
  const progs = spec.programs.map((p) => {
    const core =
      local && p.coreRelos.length > 0
        ? applyCoreRelocations(p.insns, p.coreRelos, local, { vmlinux: target }).reports.map((r) => ({
            kind: r.kindName,
            access: r.accessStr,
            poisoned: r.poisoned,
            matched: r.matched > 0,
            value: r.kindName === 'type_id_target' ? r.newValue > 0n : r.newValue,
            target: r.target ? { name: r.target.typeName, path: r.target.path, bitOffset: r.target.bitOffset } : null,
          }))
        : [];
    return { name: p.name, attach: p.attachBtfName ? describe(target.findByName(p.attachBtfName)) : null, core };
  });
  const ksyms = spec.externs
    .filter((e) => e.kind === 'ksym')
    .map((e) => ({ name: e.name, found: describe(target.findByName(e.name, e.func ? 'FUNC' : 'VAR')) }));
  return { progs, ksyms };
}

describe('the minimised BTF answers like the full vmlinux', () => {
  const full = existsSync(HOST_BTF) ? parseBtf(new Uint8Array(readFileSync(HOST_BTF))) : null;
  const min = parseBtf(new Uint8Array(readFileSync(join(MIN_DIR, 'vmlinux.btf'))));
  for (const o of fixtureObjects()) {
    it(`${o.name}: CO-RE results, attach targets and ksyms`, (t) => {
      if (!full) return t.skip(`${HOST_BTF} missing`);
      const bytes = new Uint8Array(readFileSync(o.path));
      let spec: ObjectSpec;
      try {
        spec = parseObject(bytes);
      } catch (e) {
        return t.skip(`object does not parse: ${(e as Error).message}`);
      }
      const sec = parseElf(bytes).section('.BTF');
      const local = sec ? parseBtf(sec.data) : null;
      let a: unknown, b: unknown;
      try {
        a = lookups(spec, local, full);
      } catch (e) {
        a = `throws ${(e as Error).message}`;
      }
      try {
        b = lookups(spec, local, min);
      } catch (e) {
        b = `throws ${(e as Error).message}`;
      }
      assert.deepEqual(b, a);
    });
  }
});
