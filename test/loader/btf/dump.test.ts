import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { btfSections } from './elf-sections.js';
import {
  assertSameLines,
  bpftoolRawDump,
  compileKindsObjects,
  HAVE_BPFTOOL,
  HAVE_CLANG,
  HAVE_VMLINUX,
  moduleBtfFiles,
  NO_BPFTOOL,
  objectFiles,
  readBytes,
  tempDir,
  VMLINUX,
} from './helpers.js';

describe('Btf.rawDump', () => {
  describe("for the running kernel's vmlinux BTF", () => {
    it('prints exactly what bpftool prints', { skip: NO_BPFTOOL || (HAVE_VMLINUX ? false : 'no /sys/kernel/btf/vmlinux') }, () => {
      const btf = parseBtf(readBytes(VMLINUX));
      assert.equal(btf.byteOrder, 'little');
      assertSameLines(btf.rawDump(), bpftoolRawDump(VMLINUX), VMLINUX);
    });
  });

  describe('for kernel module BTF split over vmlinux', () => {
    const modules = moduleBtfFiles();
    const skip = NO_BPFTOOL || (modules.length === 0 ? 'no module BTF in /sys/kernel/btf' : false);
    it('prints exactly what bpftool -B vmlinux prints, for every module', { skip }, () => {
      const base = parseBtf(readBytes(VMLINUX));
      for (const m of modules) {
        const btf = parseBtf(readBytes(m), { base });
        assert.equal(btf.startId, base.totalCount);
        assertSameLines(btf.rawDump(), bpftoolRawDump(m, VMLINUX), m);
      }
    });
  });

  describe('for the .BTF section of every BPF object (xdp-tools and test fixtures)', () => {
    const objects = objectFiles();
    for (const path of objects) {
      it(`prints exactly what bpftool prints for ${path}`, { skip: NO_BPFTOOL }, (t) => {
        const secs = btfSections(readBytes(path));
        if (!secs.btf) {
          t.skip('object has no .BTF section');
          return;
        }
        const btf = parseBtf(secs.btf);
        assert.equal(btf.byteOrder, secs.byteOrder);
        assertSameLines(btf.rawDump(), bpftoolRawDump(path), path);
      });
    }
  });

  describe('for an object using most kinds, compiled little- and big-endian', () => {
    const skip = !HAVE_CLANG ? 'clang not installed' : !HAVE_BPFTOOL ? 'bpftool not installed' : false;
    it('prints exactly what bpftool prints for both byte orders', { skip }, () => {
      const dir = tempDir();
      const { el, eb } = compileKindsObjects(dir);
      const le = parseBtf(btfSections(readBytes(el)).btf!);
      const be = parseBtf(btfSections(readBytes(eb)).btf!);
      assert.equal(le.byteOrder, 'little');
      assert.equal(be.byteOrder, 'big');
      assertSameLines(le.rawDump(), bpftoolRawDump(el), el);
      assertSameLines(be.rawDump(), bpftoolRawDump(eb), eb);
      const kinds: ReadonlySet<string> = new Set([...le.types()].map((t) => t.kind));
      for (const k of [
        'STRUCT',
        'UNION',
        'FWD',
        'FLOAT',
        'DECL_TAG',
        'TYPE_TAG',
        'RESTRICT',
        'VOLATILE',
        'CONST',
        'VAR',
        'DATASEC',
        'FUNC',
        'FUNC_PROTO',
        'ARRAY',
        'TYPEDEF',
        'ENUM',
        'PTR',
        'INT',
      ]) {
        assert.ok(kinds.has(k), `kind ${k} present in the sample`);
      }
    });
  });
});
