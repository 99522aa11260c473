import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBtf, parseBtfExt, writeBtfExt } from '../../../src/loader/btf/index.js';
import { btfSections, readElf } from './elf-sections.js';
import {
  compileKindsObjects,
  compileSource,
  CORE_EXPECTED,
  CORE_SOURCE,
  HAVE_CLANG,
  KINDS_SOURCE,
  objectFiles,
  readBytes,
  tempDir,
} from './helpers.js';

const NO_CLANG = HAVE_CLANG ? false : 'clang not installed';

describe('parseBtfExt', () => {
  describe('for every object with .BTF.ext', () => {
    const objects = objectFiles();
    for (const path of objects) {
      it(`matches func_info (if any) to the ELF function symbols of ${path} and re-encodes byte for byte`, (t) => {
        const bytes = readBytes(path);
        const secs = btfSections(bytes);
        if (!secs.btf || !secs.ext) {
          t.skip('object has no .BTF/.BTF.ext');
          return;
        }
        const btf = parseBtf(secs.btf);
        const ext = parseBtfExt(secs.ext, btf, secs.byteOrder);
        const elf = readElf(bytes);
        for (const sec of ext.funcInfo) {
          const shndx = elf.section(sec.section)?.index;
          assert.ok(shndx !== undefined, `func_info section '${sec.section}' exists in the ELF`);
          for (const r of sec.records) {
            assert.equal(btf.kind(r.typeId), 'FUNC', `func_info at ${r.insnOff} refers to a FUNC`);
            const sym = elf.symbols.find((s) => s.shndx === shndx && s.value === r.insnOff && s.name === btf.name(r.typeId));
            assert.ok(sym, `symbol ${btf.name(r.typeId)} at ${sec.section}+${r.insnOff}`);
          }
        }
        for (const sec of ext.lineInfo) {
          const size = elf.section(sec.section)!.size;
          let prev = -1;
          for (const r of sec.records) {
            assert.ok(r.insnOff > prev && r.insnOff < size && r.insnOff % 8 === 0, `line_info insn offset ${r.insnOff} in ${sec.section}`);
            assert.ok(r.fileName.length > 0);
            prev = r.insnOff;
          }
        }
        const out = writeBtfExt(ext);
        assert.deepEqual(Buffer.from(out), Buffer.from(secs.ext));
      });
    }
  });

  describe('for a CO-RE program compiled in both byte orders', { skip: NO_CLANG }, () => {
    for (const target of ['bpfel', 'bpfeb'] as const) {
      it(`decodes each relocation's kind, access string and target type (${target})`, () => {
        const path = compileSource(tempDir(), 'core', CORE_SOURCE, target);
        const secs = btfSections(readBytes(path));
        const btf = parseBtf(secs.btf!);
        const ext = parseBtfExt(secs.ext!, btf, target === 'bpfel' ? 'le' : 'be');
        assert.equal(ext.byteOrder, target === 'bpfel' ? 'little' : 'big');
        assert.equal(ext.coreRelos.length, 1);
        assert.equal(ext.coreRelos[0].section, 'xdp');
        const got = ext.coreRelos[0].records.map((r) => ({
          kindName: r.kindName,
          kind: r.kind,
          accessStr: r.accessStr,
          target: btf.name(r.typeId),
        }));
        assert.deepEqual(got, CORE_EXPECTED);
        assert.deepEqual(Buffer.from(writeBtfExt(ext)), Buffer.from(secs.ext!));
      });
    }
  });

  describe('for line info of a program compiled with source text', { skip: NO_CLANG }, () => {
    it('gives line numbers whose source text is the recorded line text, and columns inside it', () => {
      const { eb } = compileKindsObjects(tempDir());
      const secs = btfSections(readBytes(eb));
      const btf = parseBtf(secs.btf!);
      const ext = parseBtfExt(secs.ext!, btf);
      const lines = KINDS_SOURCE.split('\n');
      let n = 0;
      for (const sec of ext.lineInfo) {
        for (const r of sec.records) {
          assert.ok(r.fileName.endsWith('kinds.c'));
          assert.equal(lines[r.line - 1].trim(), r.lineText.trim(), `line ${r.line}`);
          assert.ok(r.column <= lines[r.line - 1].length + 1, `column ${r.column} within line ${r.line}`);
          n++;
        }
      }
      assert.ok(n > 0);
    });
  });

  describe('when the .BTF.ext is corrupted', () => {
    const path = objectFiles().find((p) => btfSections(readBytes(p)).ext);
    const skip = path ? false : 'no object with .BTF.ext';
    const load = () => {
      const secs = btfSections(readBytes(path!));
      return { btf: parseBtf(secs.btf!), ext: secs.ext!.slice() };
    };
    const expectMalformed = (bytes: Uint8Array, field: string) => {
      const { btf } = load();
      assert.throws(
        () => parseBtfExt(bytes, btf),
        (e: unknown) => {
          assert.equal((e as { code?: string }).code, 'BTF_EXT_MALFORMED', String(e));
          assert.equal((e as { details: { field?: string } }).details.field, field, String(e));
          return true;
        },
      );
    };
    const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

    it('throws BTF_EXT_MALFORMED for a bad magic', { skip }, () => {
      const { ext } = load();
      ext[0] ^= 0xff;
      expectMalformed(ext, 'magic');
    });
    it('throws BTF_EXT_MALFORMED when hdr_len is past the end', { skip }, () => {
      const { ext } = load();
      dv(ext).setUint32(4, ext.length + 4, true);
      expectMalformed(ext, 'hdr_len');
    });
    it('throws BTF_EXT_MALFORMED when the line_info block is past the end', { skip }, () => {
      const { ext } = load();
      dv(ext).setUint32(20, ext.length, true);
      expectMalformed(ext, 'line_info_off');
    });
    it('throws BTF_EXT_MALFORMED when the record size is below the minimum', { skip }, () => {
      const { ext } = load();
      const hdr = dv(ext).getUint32(4, true);
      dv(ext).setUint32(hdr + dv(ext).getUint32(8, true), 4, true);
      expectMalformed(ext, 'rec_size');
    });
    it('throws BTF_EXT_MALFORMED when a section claims more records than fit', { skip }, () => {
      const { ext } = load();
      const hdr = dv(ext).getUint32(4, true);
      const start = hdr + dv(ext).getUint32(8, true);
      dv(ext).setUint32(start + 8, 0x10000000, true);
      expectMalformed(ext, 'num_info');
    });
    it('throws BTF_EXT_MALFORMED when a section name offset is outside the string table', { skip }, () => {
      const { ext } = load();
      const hdr = dv(ext).getUint32(4, true);
      dv(ext).setUint32(hdr + dv(ext).getUint32(8, true) + 4, 0x7fffffff, true);
      expectMalformed(ext, 'sec_name_off');
    });
    it('throws BTF_EXT_MALFORMED when a func_info type id does not exist', { skip }, () => {
      const { ext } = load();
      const hdr = dv(ext).getUint32(4, true);
      dv(ext).setUint32(hdr + dv(ext).getUint32(8, true) + 4 + 8 + 4, 0x00ffffff, true);
      expectMalformed(ext, 'type_id');
    });
    it('never throws anything but BTF_EXT_MALFORMED for any truncation', { skip }, () => {
      const { btf, ext } = load();
      for (let len = 0; len < ext.length; len += 3) {
        try {
          parseBtfExt(ext.subarray(0, len), btf);
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'BTF_EXT_MALFORMED', `truncated to ${len}: ${String(e)}`);
        }
      }
    });
  });
});
