import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPF_ATTR, BPF_ATTR_SIZE, UAPI_STRUCT, widthOf, type FieldSpec, type StructLayout } from '../../../src/loader/uapi/index.js';
import { generate } from '../../../scripts/gen-uapi.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const HEADER = '/usr/include/linux/bpf.h';
const FILES = ['enums.ts', 'structs.ts'] as const;
const STAMP = /^\/\/ Source: (Linux 6\.18\.\S+ vmlinux BTF) \(sha256 ([0-9a-f]{64})\)$/m;

const committed = (name: string): string => readFileSync(join('src/loader/uapi', name), 'utf8');

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('the generated UAPI files', () => {
  it('are stamped with the 6.18 kernel release and the sha256 of the BTF they came from, the same in both', () => {
    const stamps = FILES.map((f) => STAMP.exec(committed(f)));
    assert.ok(stamps.every((s) => s !== null), 'every file has a "Source: Linux 6.18.x vmlinux BTF (sha256 ...)" line');
    assert.equal(stamps[0]![0], stamps[1]![0]);
  });

  it(
    'are what scripts/gen-uapi.ts writes from the running 6.18 kernel\'s BTF',
    { skip: existsSync(VMLINUX) && /^6\.18\./.test(release()) ? false : `not a 6.18 kernel with ${VMLINUX} (running ${release()})` },
    () => {
      const bytes = new Uint8Array(readFileSync(VMLINUX));
      const { source, files } = generate(bytes);
      for (const name of FILES) {
        const text = committed(name);
        const [line, label, sha] = STAMP.exec(text)!;
        // Another 6.18 build may carry different bytes (sha) and release; the content must still be equal.
        if (sha !== source.sha256) console.log(`# ${name}: committed from sha256 ${sha}, running BTF is ${source.sha256}`);
        const regenerated = files[name]!.replace(STAMP, line);
        assert.equal(text, regenerated, `${name} differs from what ${label} gives; run node dist/scripts/gen-uapi.js`);
      }
    },
  );

  it('describe union bpf_attr of 6.18: 168 bytes, PROG_LOAD ending with keyring_id, MAP_CREATE with excl_prog_hash_size', () => {
    assert.equal(BPF_ATTR_SIZE, 168);
    const last = (l: StructLayout<string>) => Math.max(...Object.values(l.fields).map((f) => f.offset + widthOf(f)));
    assert.equal(last(BPF_ATTR.PROG_LOAD), 168);
    assert.equal(BPF_ATTR.PROG_LOAD.fields.keyring_id.offset, 164);
    assert.equal(BPF_ATTR.MAP_CREATE.fields.excl_prog_hash_size.offset, 88);
    assert.deepEqual(UAPI_STRUCT.bpf_insn.fields.src_reg, { offset: 1, type: 'u8', bits: { at: 4, width: 4 } });
  });
});

/** Every generated field as a C type, a member designator and its spec. */
interface CField {
  id: string;
  type: string;
  path: string;
  spec: FieldSpec;
}

function cFields(): CField[] {
  const out: CField[] = [];
  for (const [member, layout] of Object.entries(BPF_ATTR) as [string, StructLayout<string>][]) {
    // Anonymous members are named after their command (upper case); named ones keep their C names.
    const anon = member === member.toUpperCase();
    for (const [name, spec] of Object.entries(layout.fields)) {
      out.push({ id: `bpf_attr.${member}.${name}`, type: 'union bpf_attr', path: anon ? name : `${member}.${name}`, spec });
    }
  }
  for (const [struct, layout] of Object.entries(UAPI_STRUCT) as [string, StructLayout<string>][]) {
    for (const [name, spec] of Object.entries(layout.fields)) out.push({ id: `${struct}.${name}`, type: `struct ${struct}`, path: name, spec });
  }
  return out;
}

/** One C statement printing what gcc knows of a field: offset, size and signedness, or for a bitfield its bytes set to all ones. */
function cLine(f: CField): string {
  const m = `((${f.type} *)0)->${f.path}`;
  if (f.spec.bits) {
    return `{ ${f.type} x; memset(&x, 0, sizeof x); x.${f.path} = -1; dump("${f.id}", (unsigned char *)&x, sizeof x); }`;
  }
  const array = f.spec.type === 'name' || f.spec.type === 'bytes';
  const signed = array ? '-1' : `(int)((__typeof__(${m}))-1 < 0)`;
  return `printf("F ${f.id} %zu %zu %d\\n", offsetof(${f.type}, ${f.path}), sizeof(${m}), ${signed});`;
}

const PRELUDE = `#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/btf.h>
static void dump(const char *id, const unsigned char *p, size_t n) {
  printf("B %s", id);
  for (size_t i = 0; i < n; i++) printf(" %u", p[i]);
  printf("\\n");
}
int main(void) {
`;

/**
 * Compiles the fields against the installed headers; fields the headers lack (gcc: "has no member named") are
 * dropped and the rest compiled again. Any other error fails. Returns the program's output and the dropped ids.
 */
function runOracle(fields: CField[]): { output: string; missing: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'uapi-oracle-'));
  try {
    let live = fields;
    const missing: string[] = [];
    const sizes = Object.keys(UAPI_STRUCT).map((s) => `printf("S ${s} %zu\\n", sizeof(struct ${s}));`);
    for (let round = 0; round < 5; round++) {
      const lines = live.map(cLine);
      const first = PRELUDE.split('\n').length;
      writeFileSync(join(dir, 'o.c'), `${PRELUDE}${lines.join('\n')}\nprintf("S bpf_attr %zu\\n", sizeof(union bpf_attr));\n${sizes.join('\n')}\nreturn 0;\n}\n`);
      try {
        execFileSync('gcc', ['-std=gnu11', '-w', '-o', join(dir, 'o'), join(dir, 'o.c')], { stdio: 'pipe' });
        return { output: execFileSync(join(dir, 'o'), { encoding: 'utf8' }), missing };
      } catch (e) {
        const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
        const bad = new Set<number>();
        for (const m of stderr.matchAll(/o\.c:(\d+):\d+: error: (.*)/g)) {
          assert.match(m[2]!, /has no member named/, `gcc: ${m[0]}`);
          bad.add(Number(m[1]) - first);
        }
        assert.ok(bad.size > 0, `gcc failed without a line to drop:\n${stderr}`);
        missing.push(...live.filter((_, i) => bad.has(i)).map((f) => f.id));
        live = live.filter((_, i) => !bad.has(i));
      }
    }
    throw new Error('the oracle did not compile after 5 rounds');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes of a struct of `size` bytes with bitfield `f` (little-endian x86) set to all ones. */
function bitBytes(f: FieldSpec, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  for (let b = 0; b < f.bits!.width; b++) {
    const bit = f.offset * 8 + f.bits!.at + b;
    out[bit >> 3]! |= 1 << (bit & 7);
  }
  return out;
}

describe('the generated layouts against gcc and the installed linux/bpf.h', () => {
  const skip = !existsSync(HEADER) ? `${HEADER} missing` : !hasGcc() ? 'gcc missing' : false;

  it('agree on the offset, size and signedness of every field the older header has', { skip }, () => {
    const fields = cFields();
    const { output, missing } = runOracle(fields);
    const byId = new Map(fields.map((f) => [f.id, f]));
    let checked = 0;
    for (const line of output.trim().split('\n')) {
      const [tag, id, ...rest] = line.split(' ');
      if (tag === 'F') {
        const f = byId.get(id!)!;
        const [offset, size, signed] = rest.map(Number);
        assert.equal(f.spec.offset, offset, `${id}: offset`);
        assert.equal(widthOf(f.spec), size, `${id}: size`);
        if (signed !== -1) assert.equal(f.spec.type.startsWith('s'), signed === 1, `${id}: ${f.spec.type}, gcc says ${signed ? 'signed' : 'unsigned'}`);
        checked++;
      } else if (tag === 'B') {
        const f = byId.get(id!)!;
        assert.deepEqual(rest.map(Number), bitBytes(f.spec, rest.length), `${id}: bitfield position`);
        checked++;
      } else if (tag === 'S') {
        // The UAPI only grows: an older header's struct is at most as large as the generated one.
        const generated = id === 'bpf_attr' ? BPF_ATTR_SIZE : (UAPI_STRUCT as Record<string, StructLayout<string>>)[id!]!.size;
        assert.ok(Number(rest[0]) <= generated, `sizeof ${id}: header ${rest[0]}, generated ${generated}`);
      }
    }
    console.log(`# ${checked} of ${fields.length} fields checked against ${HEADER}; ${missing.length} newer than it: ${missing.join(', ')}`);
    assert.equal(checked + missing.length, fields.length);
    assert.ok(checked > fields.length / 2, `only ${checked} of ${fields.length} fields are in the header`);
    // Fields that 6.1 surely has must not be among the dropped ones.
    for (const id of ['bpf_attr.PROG_LOAD.fd_array', 'bpf_attr.MAP_CREATE.map_extra', 'bpf_insn.imm', 'btf_header.str_len']) {
      assert.ok(!missing.includes(id), `${id} is in every 6.x header`);
    }
  });
});
