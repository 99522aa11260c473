/**
 * parseElf against llvm-readelf (sections, symbols, relocations) on every object, and
 * hand-corrupted headers that must give ELF_MALFORMED / ELF_UNSUPPORTED naming the field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { allObjects, FIXTURES, hasTool, readObject } from '../../support/objects.js';
import { parseElf, SHT } from '../../../src/loader/elf/index.js';
import { LoaderError } from '../../../src/loader/errors.js';

const TYPES: Record<string, number> = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  NOBITS: 8,
  REL: 9,
  LLVM_ADDRSIG: SHT.LLVM_ADDRSIG,
};
const BIND: Record<string, number> = { LOCAL: 0, GLOBAL: 1, WEAK: 2 };
const STT: Record<string, number> = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 };

describe(
  'parseElf compared with llvm-readelf',
  { skip: hasTool('llvm-readelf') ? false : 'llvm-readelf not installed (scripts/install-deps.sh)' },
  () => {
    for (const o of allObjects()) {
      it(`reads the sections, symbols and relocations of ${o.origin} ${o.name}`, () => {
        const elf = parseElf(readObject(o));
        const readobj = (flag: string) => execFileSync('llvm-readobj', [flag, o.path], { encoding: 'utf8', maxBuffer: 64 << 20 });
        const num = (s: string) => (s.startsWith('0x') ? parseInt(s, 16) : Number(s));
        const secs = [
          ...readobj('--sections').matchAll(
            /Section \{\n\s+Index: (\d+)\n\s+Name: (.*) \(\d+\)\n\s+Type: \S+ \((0x[0-9A-Fa-f]+)\)[\s\S]*?Offset: (\S+)\n\s+Size: (\d+)\n\s+Link: (\d+)\n\s+Info: (\d+)/g,
          ),
        ];
        assert.equal(elf.sections.length, secs.length, 'section count');
        for (const m of secs) {
          const s = elf.sections[Number(m[1])];
          assert.deepEqual(
            [s.name, s.type, s.offset, s.size, s.link, s.info],
            [m[2], num(m[3]), num(m[4]), Number(m[5]), Number(m[6]), Number(m[7])],
            `section ${m[1]}`,
          );
        }
        const syms = [
          ...readobj('--symbols').matchAll(
            /Symbol \{\n\s+Name: (.*?) ?\((\d+)\)\n\s+Value: (\S+)\n\s+Size: (\d+)\n\s+Binding: \S+ \((0x[0-9A-F]+)\)\n\s+Type: \S+ \((0x[0-9A-F]+)\)\n\s+Other(?:: \d+| \[[^\]]*\])\n\s+Section: .*\((0x[0-9A-F]+)\)/g,
          ),
        ];
        assert.equal(elf.symbols.length, syms.length, 'symbol count');
        syms.forEach((m, i) => {
          const s = elf.symbols[i];
          // llvm-readobj shows a section symbol (st_name 0) by its section's name; the raw name is ''.
          const name = m[2] === '0' ? '' : m[1];
          assert.deepEqual(
            [s.name, s.value, s.size, s.bind, s.type, s.shndx],
            [name, num(m[3]), Number(m[4]), num(m[5]), num(m[6]), num(m[7])],
            `symbol ${i}`,
          );
        });
        const relText = readobj('-r');
        for (const rs of elf.relocations) {
          const block = new RegExp(`Section \\(${rs.index}\\) [^\\n]* \\{\\n([\\s\\S]*?)\\n\\s*\\}`).exec(relText);
          assert.ok(block, `llvm-readobj lists relocation section ${rs.index} ${rs.name}`);
          const entries = [...block![1].matchAll(/^\s*(0x[0-9A-F]+) (\S+) (\S*)/gm)];
          assert.equal(rs.entries.length, entries.length, `${rs.name} entry count`);
          rs.entries.forEach((e, i) => {
            assert.equal(e.offset, num(entries[i][1]), `${rs.name}[${i}] offset`);
            const symName = elf.symbols[e.symbol].name || elf.sections[elf.symbols[e.symbol].shndx]?.name || '-';
            assert.equal(symName, entries[i][3] === '-' ? '-' : entries[i][3], `${rs.name}[${i}] symbol`);
          });
        }
      });
    }
  },
);

describe('parseElf on corrupted input', () => {
  const good = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));
  const corrupt = (edit: (dv: DataView, b: Uint8Array) => void, len = good.length) => {
    const b = good.slice(0, len);
    edit(new DataView(b.buffer), b);
    return b;
  };
  const expectError = (bytes: Uint8Array, code: string, field?: string) => {
    assert.throws(
      () => parseElf(bytes),
      (e: unknown) => {
        assert.ok(e instanceof LoaderError, `not a LoaderError: ${e}`);
        assert.equal(e.code, code, e.message);
        if (field) assert.equal(e.details.field, field, e.message);
        return true;
      },
    );
  };
  const shoff = Number(new DataView(good.buffer).getBigUint64(40, true));

  it('refuses a file shorter than the ELF header', () => expectError(good.slice(0, 40), 'ELF_MALFORMED'));
  it('refuses bad magic', () =>
    expectError(
      corrupt((_, b) => {
        b[1] = 0;
      }),
      'ELF_MALFORMED',
      'e_ident',
    ));
  it('refuses 32-bit ELF as unsupported', () =>
    expectError(
      corrupt((_, b) => {
        b[4] = 1;
      }),
      'ELF_UNSUPPORTED',
      'EI_CLASS',
    ));
  it('refuses another machine as unsupported', () =>
    expectError(
      corrupt((dv) => dv.setUint16(18, 62, true)),
      'ELF_UNSUPPORTED',
      'e_machine',
    ));
  it('refuses a non-relocatable file as unsupported', () =>
    expectError(
      corrupt((dv) => dv.setUint16(16, 2, true)),
      'ELF_UNSUPPORTED',
      'e_type',
    ));
  it('refuses a section header table past the end', () =>
    expectError(
      corrupt((dv) => dv.setBigUint64(40, BigInt(good.length - 10), true)),
      'ELF_MALFORMED',
      'e_shoff',
    ));
  it('refuses more section headers than fit', () =>
    expectError(
      corrupt((dv) => dv.setUint16(60, 0xfff0, true)),
      'ELF_MALFORMED',
      'e_shnum',
    ));
  it('refuses a section whose contents run past the end, naming sh_size', () =>
    expectError(
      corrupt((dv) => dv.setBigUint64(shoff + 2 * 64 + 32, 0x7fffffffn, true)),
      'ELF_MALFORMED',
      'sh_size',
    ));
  it('refuses a section name offset outside the string table', () =>
    expectError(
      corrupt((dv) => dv.setUint32(shoff + 2 * 64, 0xffffff, true)),
      'ELF_MALFORMED',
      'name',
    ));
  it('refuses a bad e_shstrndx', () =>
    expectError(
      corrupt((dv) => dv.setUint16(62, 999, true)),
      'ELF_MALFORMED',
      'e_shstrndx',
    ));
  it('refuses a relocation against a symbol that does not exist, when it is read', () => {
    const elf = parseElf(good);
    const rel = elf.relocations[0];
    const sec = elf.sections[rel.index];
    const b = corrupt((dv) => dv.setUint32(sec.offset + 12, 0xffff, true));
    assert.throws(
      () => parseElf(b).relocations[0].entries,
      (e: any) => e.code === 'ELF_MALFORMED' && e.details.field === 'r_info' && e.details.section === rel.name,
    );
  });
  it('reads a truncated section table as an error, not a crash, at every length', () => {
    for (let len = 0; len < good.length; len += 97) {
      try {
        parseElf(good.slice(0, len));
      } catch (e) {
        assert.ok(e instanceof LoaderError, `length ${len}: ${e}`);
      }
    }
  });
});
