/**
 * The BTF string section decodes every string as UTF-8 would, whether a short ASCII name (read
 * as Latin-1 in one piece), a short name with multi-byte characters, or a long one, from a
 * Buffer or a plain Uint8Array; and on the running kernel's vmlinux BTF, for every string.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BtfStrings, decodeUtf8, parseBtf } from '../../../src/loader/btf/index.js';
import { HAVE_VMLINUX, readBytes, VMLINUX } from './helpers.js';

const utf8 = new TextDecoder();
const section = (...names: string[]) => new Uint8Array(Buffer.from(`\0${names.join('\0')}\0`, 'utf8'));

describe('BTF strings', () => {
  it('decodes short ASCII, short multi-byte, long and empty names as UTF-8 does', () => {
    const names = ['x', 'task_struct', 'bpf_prog_array_item', 'a'.repeat(32), 'b'.repeat(33), 'naïve_ünïcode', 'μ', `${'c'.repeat(40)}é`];
    const bytes = section(...names);
    const strings = new BtfStrings(bytes);
    let off = 1;
    for (const n of names) {
      assert.equal(strings.get(off), n);
      off += Buffer.byteLength(n) + 1;
    }
    assert.equal(strings.get(0), '');
    assert.deepEqual(
      [...strings.entries()].map(([, s]) => s),
      ['', ...names],
    );
  });

  it('gives the same text from a plain Uint8Array, a Buffer and a view into a larger buffer', () => {
    const text = Buffer.from('xxbpf_map_lookup_elemyy', 'utf8');
    const plain = new Uint8Array(text);
    const inner = new Uint8Array(text.buffer, text.byteOffset + 2, text.length - 4);
    assert.equal(decodeUtf8(plain, 2, 21), 'bpf_map_lookup_elem');
    assert.equal(decodeUtf8(text, 2, 21), 'bpf_map_lookup_elem');
    assert.equal(decodeUtf8(inner, 0, 19), 'bpf_map_lookup_elem');
    assert.equal(decodeUtf8(new Uint8Array([0xce, 0xbc]), 0, 2), 'μ');
  });

  it("decodes every string of the running kernel's vmlinux BTF as TextDecoder does", (t) => {
    if (!HAVE_VMLINUX) {
      t.skip(`${VMLINUX} is missing (kernel without CONFIG_DEBUG_INFO_BTF)`);
      return;
    }
    const strings = parseBtf(readBytes(VMLINUX)).strings;
    const bytes = strings.bytes;
    let n = 0;
    for (const [off, s] of strings.entries()) {
      const end = bytes.indexOf(0, off) < 0 ? bytes.length : bytes.indexOf(0, off);
      if (s !== utf8.decode(bytes.subarray(off, end))) assert.fail(`string at ${off}: ${JSON.stringify(s)}`);
      n++;
    }
    assert.ok(n > 10_000, `${n} strings`);
  });
});
