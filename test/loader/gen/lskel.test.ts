import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseElf } from '../../../src/loader/elf/index.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import { emitLightSkeleton, printHex, mapIdent, mmapSize, type LightSkeletonInput } from '../../../src/loader/gen/lskel.js';
import { lskelMapsFromObject, lskelProgsFromObject } from '../../../src/loader/gen/lskel-object.js';
import { LoaderError } from '../../../src/loader/errors.js';
import { allObjects, readObject, type TestObject } from '../../support/objects.js';
import { HAVE_BPFTOOL, bpftoolLskel, bpftoolObjName, decodeCString, lskelParts } from '../../kernel-runner/bpftool-lskel.js';

/** Objects to compare: fixtures marked bpftool_lskel and every xdp-tools object. */
function candidates(): TestObject[] {
  return allObjects().filter((o) => o.origin === 'xdp-tools' || o.entry?.bpftool_lskel === true);
}

/** Build the emitter input from the object (maps, vars, programs) plus bpftool's loader bytes. */
function inputFor(o: TestObject, header: string): { input: LightSkeletonInput; imageMismatch: string[] } {
  const bytes = readObject(o);
  const name = bpftoolObjName(o.path);
  const spec = parseObject(bytes, { name });
  const sec = parseElf(bytes).section('.BTF');
  const btf = sec ? parseBtf(sec.data) : null;
  const parts = lskelParts(header);
  const maps = lskelMapsFromObject(spec, btf, { flavour: 'bpftool-7.1' });
  const imageMismatch: string[] = [];
  for (const m of maps) {
    if (!m.mmap) continue;
    const img = parts.images.get(m.ident);
    // .kconfig images hold the build host's kernel config values: take them from bpftool.
    if (img && m.name.endsWith('.kconfig')) m.mmap.initialValue = img;
    else if (!img || Buffer.compare(Buffer.from(img), Buffer.from(m.mmap.initialValue)) !== 0) imageMismatch.push(m.ident);
  }
  return {
    input: { name, insns: parts.insns, data: parts.data, maps, progs: lskelProgsFromObject(spec), hasBtf: btf !== null },
    imageMismatch,
  };
}

function firstDiff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const line = a.slice(0, i).split('\n').length;
  return `first difference at line ${line}: ours ${JSON.stringify(a.slice(i, i + 80))} vs bpftool ${JSON.stringify(b.slice(i, i + 80))}`;
}

describe('printHex', () => {
  it('writes zero bytes as \\0 and others as lower-case \\xNN', () => {
    assert.equal(printHex(Uint8Array.from([0, 0xab, 1])), '\\0\\xab\\x01');
  });
  it('breaks the literal before a byte that would pass column 78', () => {
    const s = printHex(new Uint8Array(20).fill(0xff));
    const lines = s.split('\\\n');
    assert.equal(lines[0].length, 76);
    assert.equal(lines[1].length, 4);
    assert.deepEqual(decodeCString(s), new Uint8Array(20).fill(0xff));
  });
  it('fits 39 zero bytes on a line (2 columns each, limit 78)', () => {
    const lines = printHex(new Uint8Array(40)).split('\\\n');
    assert.deepEqual(
      lines.map((l) => l.length),
      [78, 2],
    );
  });
});

describe('mapIdent', () => {
  it('keeps the name of a non-internal map', () => assert.equal(mapIdent('counts.x', false), 'counts.x'));
  it('takes the text after the first known suffix for internal maps', () => {
    assert.equal(mapIdent('min.rodata', true), 'rodata');
    assert.equal(mapIdent('.data.custom', true), 'data_custom');
    assert.equal(mapIdent('.rodata.str1.1', true), 'rodata_str1_1');
    assert.equal(mapIdent('foo.kconfig', true), 'kconfig');
  });
  it('returns null for an internal map named after no known section', () => assert.equal(mapIdent('x.struct_ops', true), null));
});

describe('mmapSize', () => {
  it('rounds the 8-aligned value size times max_entries up to the page size', () => {
    assert.equal(mmapSize(18, 1), 4096);
    assert.equal(mmapSize(4097, 1), 8192);
    assert.equal(mmapSize(4, 1024), 8192);
  });
});

describe('emitLightSkeleton', () => {
  const base: LightSkeletonInput = { name: 'x', insns: new Uint8Array(8), data: new Uint8Array(0), maps: [], progs: [], hasBtf: false };
  describe('when the input cannot be printed', () => {
    it('throws OBJECT_UNSUPPORTED for a skeleton name that is not a C identifier', () => {
      assert.throws(
        () => emitLightSkeleton({ ...base, name: '1x' }, { flavour: 'v1.7' }),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED',
      );
    });
    it('throws OBJECT_UNSUPPORTED for instruction bytes that are not whole instructions', () => {
      assert.throws(
        () => emitLightSkeleton({ ...base, insns: new Uint8Array(5) }, { flavour: 'bpftool-7.1' }),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED',
      );
    });
    it('throws OBJECT_UNSUPPORTED for a signature with the 7.1 flavour', () => {
      const signature = { sig: new Uint8Array(3), exclHash: new Uint8Array(32) };
      assert.throws(
        () => emitLightSkeleton({ ...base, signature }, { flavour: 'bpftool-7.1' }),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED',
      );
    });
    it('throws OBJECT_UNSUPPORTED for overlapping variables', () => {
      const v = { name: 'a', decl: 'int a', offset: 0, size: 4, align: 4, typeSize: 4 };
      const maps = [
        {
          name: 'x.bss',
          ident: 'bss',
          mmap: {
            initialValue: new Uint8Array(8),
            mmapSize: 4096,
            readOnly: false,
            vars: [v, { ...v, name: 'b', decl: 'int b', offset: 2 }],
          },
        },
      ];
      assert.throws(
        () => emitLightSkeleton({ ...base, maps, hasBtf: true }, { flavour: 'v1.7' }),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED',
      );
    });
  });

  describe('in v1.7 flavour with a signature', () => {
    const sig = { sig: Uint8Array.from([0x30, 0x82, 0]), exclHash: new Uint8Array(32).fill(7) };
    const maps = [
      {
        name: 'x.rodata',
        ident: 'rodata',
        mmap: {
          initialValue: Uint8Array.from([1, 0, 0, 0]),
          mmapSize: 4096,
          readOnly: true,
          vars: [{ name: 'cfg', decl: 'int cfg', offset: 0, size: 4, align: 4, typeSize: 4 }],
        },
      },
    ];
    const text = emitLightSkeleton(
      { ...base, maps, progs: [{ name: 'p', attach: { kind: 'none' } }], hasBtf: true, signature: sig },
      { flavour: 'v1.7' },
    );
    it('adds keyring_id after links and the signed fields before opts.ctx', () => {
      assert.match(text, /\t} links;\n\t__s32 keyring_id;\n\tstruct x__rodata {\n\t\tint cfg;\n\t} \*rodata;\n};/);
      assert.match(text, /opts\.keyring_id = skel->keyring_id;\n\topts\.ctx = /);
      assert.match(text, /static const char opts_sig\[\] __attribute__\(\(__aligned__\(8\)\)\) = "\\\n\\x30\\x82\\0";/);
    });
    it('embeds the initial image in an aligned data[] block with __typeof__ casts', () => {
      assert.match(
        text,
        /\t\{\n\t\tstatic const char data\[\] __attribute__\(\(__aligned__\(8\)\)\) = "\\\n\\x01\\0\\0\\0";\n\n\t\tskel->rodata = \(__typeof__\(skel->rodata\)\)skel_prep_map_data\(\(void \*\)data, 4096,\n\t\t\t\t\t\tsizeof\(data\) - 1\);/,
      );
      assert.match(
        text,
        /skel->rodata = \(__typeof__\(skel->rodata\)\)skel_finalize_map_data\(&skel->maps\.rodata\.initial_value,\n\t\t\t\t\t4096, PROT_READ, skel->maps\.rodata\.map_fd\);/,
      );
    });
  });

  describe('in bpftool-7.1 flavour', () => {
    const objs = candidates();
    for (const o of objs) {
      it(`prints ${o.name} exactly as bpftool 7.1 does`, (t) => {
        if (!HAVE_BPFTOOL) return t.skip('bpftool not installed');
        const r = bpftoolLskel(o.path, bpftoolObjName(o.path));
        if (!r.ok) return t.skip(`bpftool cannot generate it: ${r.reason}`);
        const { input, imageMismatch } = inputFor(o, r.header);
        assert.deepEqual(imageMismatch, [], "initial images from the object differ from bpftool's");
        const ours = emitLightSkeleton(input, { flavour: 'bpftool-7.1' });
        if (ours !== r.header) assert.fail(firstDiff(ours, r.header));
      });
    }
  });
});
