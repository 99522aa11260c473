import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { BPF_ATTR, BPF_ATTR_SIZE, UAPI_STRUCT, widthOf, type FieldSpec, type StructLayout } from '../../../src/loader/uapi/index.js';
import { generate } from '../../../scripts/gen-uapi.js';
import { HEADER, hasGcc, runOracle } from './gcc-oracle.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const FILES = ['enums.ts', 'structs.ts'] as const;
const STAMP = /^\/\/ Source: (Linux 6\.18\.\S+ vmlinux BTF) \(sha256 ([0-9a-f]{64})\)$/m;

const committed = (name: string): string => readFileSync(join('src/loader/uapi', name), 'utf8');

describe('the generated UAPI files', () => {
  it('are stamped with the 6.18 kernel release and the sha256 of the BTF they came from, the same in both', () => {
    const stamps = FILES.map((f) => STAMP.exec(committed(f)));
    assert.ok(
      stamps.every((s) => s !== null),
      'every file has a "Source: Linux 6.18.x vmlinux BTF (sha256 ...)" line',
    );
    assert.equal(stamps[0]![0], stamps[1]![0]);
  });

  it(
    "are what scripts/gen-uapi.ts writes from the running 6.18 kernel's BTF",
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
    for (const [name, spec] of Object.entries(layout.fields))
      out.push({ id: `${struct}.${name}`, type: `struct ${struct}`, path: name, spec });
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
    const sizes = [
      'printf("S bpf_attr %zu\\n", sizeof(union bpf_attr));',
      ...Object.keys(UAPI_STRUCT).map((n) => `printf("S ${n} %zu\\n", sizeof(struct ${n}));`),
    ];
    const { output, dropped } = runOracle(fields.map(cLine), sizes, /has no member named/);
    const missing = dropped.map((i) => fields[i]!.id);
    const byId = new Map(fields.map((f) => [f.id, f]));
    let checked = 0;
    for (const line of output.trim().split('\n')) {
      const [tag, id, ...rest] = line.split(' ');
      if (tag === 'F') {
        const f = byId.get(id!)!;
        const [offset, size, signed] = rest.map(Number);
        assert.equal(f.spec.offset, offset, `${id}: offset`);
        assert.equal(widthOf(f.spec), size, `${id}: size`);
        if (signed !== -1)
          assert.equal(f.spec.type.startsWith('s'), signed === 1, `${id}: ${f.spec.type}, gcc says ${signed ? 'signed' : 'unsigned'}`);
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
    console.log(
      `# ${checked} of ${fields.length} fields checked against ${HEADER}; ${missing.length} newer than it: ${missing.join(', ')}`,
    );
    assert.equal(checked + missing.length, fields.length);
    assert.ok(checked > fields.length / 2, `only ${checked} of ${fields.length} fields are in the header`);
    // Fields that 6.1 surely has must not be among the dropped ones.
    for (const id of ['bpf_attr.PROG_LOAD.fd_array', 'bpf_attr.MAP_CREATE.map_extra', 'bpf_insn.imm', 'btf_header.str_len']) {
      assert.ok(!missing.includes(id), `${id} is in every 6.x header`);
    }
  });
});
