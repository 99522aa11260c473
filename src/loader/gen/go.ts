/**
 * The Go light skeleton (`NAME.lskel.go`, package NAME): what the C header (lskel.ts) is, for Go
 * programs, with only the standard library and golang.org/x/sys/unix (no cgo, no libbpf).
 *
 * It embeds the loader (instructions, metadata blob, and when signed the PKCS#7 signature and
 * excl_prog_hash) and each global-data map's initial image, and loads them as libbpf v1.7.0's
 * bpf_load_and_run() does (go-runtime.ts). Names are the C header's, with the first letter made
 * upper case so Go exports them (a leading `_` becomes `X_`): `struct minimal` is `Minimal`,
 * `skel->maps.counts.map_fd` is `s.Maps.Counts.MapFd`, `skel->bss` is `s.Bss`, a
 * `*Minimal__bss` over the map's mmapped memory with one field per non-static variable at its
 * BTF offset (types from LskelVar.type; what Go cannot lay out exactly stays a byte array).
 * `NAME__open/__load/__open_and_load/__attach/__detach/__destroy` are `Open`, `Load`,
 * `OpenAndLoad`, `Attach`, `Detach` and `Close`; `NAME__prog__attach` is `Attach_prog`.
 *
 * The text is gofmt-clean by construction: struct fields and constants are aligned in the
 * blocks gofmt aligns (a multi-line field ends a block), and no line carries a trailing comment.
 */
import { LoaderError } from '../errors.js';
import { goRuntime } from './go-runtime.js';
import type { LightSkeletonInput, LskelMap, LskelVar } from './lskel.js';
import type { SkelType } from './skel-type.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GO_KEYWORDS = new Set([
  'break',
  'case',
  'chan',
  'const',
  'continue',
  'default',
  'defer',
  'else',
  'fallthrough',
  'for',
  'func',
  'go',
  'goto',
  'if',
  'import',
  'interface',
  'map',
  'package',
  'range',
  'return',
  'select',
  'struct',
  'switch',
  'type',
  'var',
]);
/** The skeleton struct's own members; a memory-mapped map may not take these names. */
const RESERVED_MEMBERS = new Set(['Ctx', 'Maps', 'Progs', 'Links', 'Keyring_id']);
const BYTES_PER_LINE = 32;

function bad(field: string, msg: string, got?: unknown): never {
  throw new LoaderError('OBJECT_UNSUPPORTED', `go light skeleton: ${msg}`, { field, got });
}

/** The exported Go name of a C identifier: first letter upper case, `_x` → `X_x`. */
export function goExport(ident: string): string {
  if (ident.startsWith('_')) return 'X' + ident;
  return ident[0].toUpperCase() + ident.slice(1);
}

/** `\xNN` for every byte value. */
const HEX_ESCAPES = Array.from({ length: 256 }, (_, b) => '\\x' + b.toString(16).padStart(2, '0'));

/** A Go string literal of `b` in lines of 32 bytes (`"\x00..." +` continuation lines). */
export function goBytes(b: Uint8Array): string {
  if (b.length === 0) return '""';
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += BYTES_PER_LINE) {
    const end = Math.min(b.length, i + BYTES_PER_LINE);
    let s = '"';
    for (let j = i; j < end; j++) s += HEX_ESCAPES[b[j]];
    lines.push(s + '"');
  }
  return lines.join(' +\n\t');
}

interface Field {
  name: string;
  type: string;
}

/**
 * Struct fields as gofmt prints them at `indent` tabs: names padded to the longest in each block
 * of fields, a block ending after a field whose type spans lines.
 */
function fieldLines(fields: Field[], indent: number): string {
  const tabs = '\t'.repeat(indent);
  let out = '';
  let block: Field[] = [];
  const flush = () => {
    const w = Math.max(...block.map((f) => f.name.length));
    for (const f of block) out += `${tabs}${f.name.padEnd(w)} ${f.type}\n`;
    block = [];
  };
  for (const f of fields) {
    block.push(f);
    if (f.type.includes('\n')) flush();
  }
  if (block.length) flush();
  return out;
}

function structType(fields: Field[], indent: number): string {
  if (fields.length === 0) return 'struct{}';
  return `struct {\n${fieldLines(fields, indent + 1)}${'\t'.repeat(indent)}}`;
}

/** Go's alignment of a type as the Go compiler lays it out on 64-bit targets. */
function goAlign(t: SkelType): number {
  switch (t.kind) {
    case 'int':
    case 'float':
      return t.size;
    case 'array':
      return goAlign(t.elem);
    case 'struct':
      return Math.max(1, ...t.fields.map((f) => goAlign(f.type)));
    default:
      return 1;
  }
}

/** Named Go types for the variables of one map: nested structs become `Prefix__field` types. */
class TypeNamer {
  readonly decls: string[] = [];
  readonly used = new Set<string>();

  constructor(reserved: Iterable<string>) {
    for (const n of reserved) this.used.add(n);
  }

  private fresh(base: string): string {
    let n = base;
    for (let i = 2; this.used.has(n); i++) n = `${base}_${i}`;
    this.used.add(n);
    return n;
  }

  /** The Go type text of `t`; `hint` names a struct type it has to declare. */
  goType(t: SkelType, hint: string): string {
    switch (t.kind) {
      case 'int':
        if (t.bool) return 'bool';
        return `${t.signed ? 'int' : 'uint'}${t.size * 8}`;
      case 'float':
        return `float${t.size * 8}`;
      case 'array':
        return `[${t.len}]${this.goType(t.elem, hint)}`;
      case 'bytes':
        return `[${t.size}]byte`;
      case 'struct': {
        const fields = this.layout(
          t.fields.map((f) => ({ name: f.name, offset: f.offset, size: f.type.size, type: f.type })),
          t.size,
          hint,
        );
        if (!fields) return `[${t.size}]byte`;
        const name = this.fresh(hint);
        this.decls.push(`type ${name} ${structType(fields, 0)}\n`);
        return name;
      }
    }
  }

  /**
   * Fields at exactly the given offsets, with `_ [n]byte` padding, up to `size` bytes; a member Go
   * would misalign becomes a byte array. Null when Go's own alignment would make the struct larger.
   */
  layout(
    members: { name: string; offset: number; size: number; type: SkelType | undefined }[],
    size: number | null,
    hint: string,
  ): Field[] | null {
    const out: Field[] = [];
    const names = new Set<string>();
    let off = 0;
    let align = 1;
    for (const m of members) {
      if (m.offset < off)
        bad('maps', `${hint}: member '${m.name}' at offset ${m.offset} overlaps the previous one (ends at ${off})`, m.offset);
      if (m.offset > off) out.push({ name: '_', type: `[${m.offset - off}]byte` });
      const t = m.type && m.type.size === m.size ? m.type : undefined;
      const a = t ? goAlign(t) : 1;
      const exact = t !== undefined && m.offset % a === 0;
      let name = m.name ? goExport(m.name.replace(/[^A-Za-z0-9_]/g, '_')) : '_';
      while (name !== '_' && names.has(name)) name += '_';
      names.add(name);
      out.push({ name, type: exact ? this.goType(t, `${hint}__${m.name || 'anon'}`) : `[${m.size}]byte` });
      if (exact) align = Math.max(align, a);
      off = m.offset + m.size;
    }
    if (size === null) return out;
    if (size > off) out.push({ name: '_', type: `[${size - off}]byte` });
    return size % align === 0 ? out : null;
  }
}

function checkInput(input: LightSkeletonInput): void {
  if (!IDENT.test(input.name)) bad('name', `skeleton name '${input.name}' is not an identifier`, input.name);
  if (GO_KEYWORDS.has(input.name)) bad('name', `skeleton name '${input.name}' is a Go keyword: choose another with --name`, input.name);
  if (input.insns.length % 8 !== 0) bad('insns', `instruction bytes ${input.insns.length} not a multiple of 8`, input.insns.length);
  const seen = new Set<string>();
  for (const m of input.maps) {
    if (!IDENT.test(m.ident)) bad('maps', `map '${m.name}': identifier '${m.ident}' is not an identifier`, m.ident);
    const g = goExport(m.ident);
    if (seen.has(g)) bad('maps', `map identifier '${m.ident}' is '${g}' in Go, as another map's is`, m.ident);
    if (m.mmap && RESERVED_MEMBERS.has(g)) bad('maps', `memory-mapped map '${m.ident}' would be the skeleton's own member '${g}'`, m.ident);
    seen.add(g);
  }
  const progs = new Set<string>();
  for (const p of input.progs) {
    if (!IDENT.test(p.name)) bad('progs', `program name '${p.name}' is not an identifier`, p.name);
    if (progs.has(goExport(p.name))) bad('progs', `program '${p.name}' is '${goExport(p.name)}' in Go, as another program's is`, p.name);
    progs.add(goExport(p.name));
  }
  if (input.signature && input.signature.exclHash.length !== 32)
    bad('signature', `excl_prog_hash is ${input.signature.exclHash.length} bytes, want 32`, input.signature.exclHash.length);
}

interface Names {
  skel: string;
  mapped: { m: LskelMap; field: string; type: string; index: number }[];
}

function names(input: LightSkeletonInput): Names {
  const skel = goExport(input.name);
  const mapped = input.maps.filter((m) => m.mmap).map((m, index) => ({ m, field: goExport(m.ident), type: `${skel}__${m.ident}`, index }));
  return { skel, mapped };
}

function varTypes(input: LightSkeletonInput, n: Names): string {
  const namer = new TypeNamer([n.skel, ...n.mapped.map((x) => x.type), 'LoadError', 'LoaderCtx', 'MapDesc', 'ProgDesc']);
  let out = '';
  for (const { m, type } of n.mapped) {
    const vars: LskelVar[] = input.hasBtf ? (m.mmap?.vars ?? []) : [];
    const fields =
      namer.layout(
        vars.map((v) => ({ name: v.name, offset: v.offset, size: v.size, type: v.type })),
        null,
        type,
      ) ?? [];
    out += `\n// ${type} is the memory of map ${m.name}: its non-static variables at their offsets.\ntype ${type} ${structType(fields, 0)}\n`;
  }
  for (const d of namer.decls) out += `\n${d}`;
  return out;
}

function skelStruct(input: LightSkeletonInput, n: Names): string {
  const fields: Field[] = [
    { name: 'Ctx', type: 'LoaderCtx' },
    {
      name: 'Maps',
      type: structType(
        input.maps.map((m) => ({ name: goExport(m.ident), type: 'MapDesc' })),
        1,
      ),
    },
    {
      name: 'Progs',
      type: structType(
        input.progs.map((p) => ({ name: goExport(p.name), type: 'ProgDesc' })),
        1,
      ),
    },
    {
      name: 'Links',
      type: structType(
        input.progs.map((p) => ({ name: `${goExport(p.name)}_fd`, type: 'int32' })),
        1,
      ),
    },
  ];
  if (input.signature) fields.push({ name: 'Keyring_id', type: 'int32' });
  for (const x of n.mapped) fields.push({ name: x.field, type: `*${x.type}` });
  fields.push({ name: 'mem', type: `[${n.mapped.length}][]byte` }, { name: 'state', type: '*loadState' });
  return (
    `\n// ${n.skel} is the light skeleton of ${input.name}: the loader's ctx, map and program\n` +
    "// descriptors (filled in by Load), links, and pointers to the global-data maps' memory.\n" +
    `type ${n.skel} ${structType(fields, 0)}\n`
  );
}

function blobs(input: LightSkeletonInput, n: Names): string {
  let s = `\nconst optsData = ${goBytes(input.data)}\n\nconst optsInsn = ${goBytes(input.insns)}\n`;
  if (input.signature) {
    s += `\nconst optsSig = ${goBytes(input.signature.sig)}\n\nconst optsExclHash = ${goBytes(input.signature.exclHash)}\n`;
  } else {
    s += '\nconst optsSig = ""\n\nconst optsExclHash = ""\n';
  }
  for (const x of n.mapped) s += `\nconst data_${x.m.ident} = ${goBytes(x.m.mmap!.initialValue)}\n`;
  return s;
}

function openLoad(input: LightSkeletonInput, n: Names): string {
  const t = n.skel;
  let s = `\n// Open allocates the skeleton and maps each global-data map's initial image.\nfunc Open() (*${t}, error) {\n\ts := new(${t})\n\ts.Ctx.Sz = uint32(unsafe.Offsetof(s.Links))\n`;
  if (n.mapped.length) s += '\tvar err error\n';
  for (const x of n.mapped) {
    s += `\tif s.mem[${x.index}], err = prepMapData(data_${x.m.ident}, ${x.m.mmap!.mmapSize}); err != nil {\n\t\ts.Close()\n\t\treturn nil, err\n\t}\n`;
    s += `\ts.Maps.${x.field}.InitialValue = bytesAddr(s.mem[${x.index}])\n\ts.${x.field} = (*${x.type})(unsafe.Pointer(&s.mem[${x.index}][0]))\n`;
  }
  s += '\treturn s, nil\n}\n';
  s += `\n// Load runs the loader program; on success every map and program fd is set and the global-data\n// maps are mapped. On failure the loader has closed what it created; call Close.\nfunc (s *${t}) Load() error {\n`;
  s += '\ts.state = newLoadState(optsData, optsInsn, optsSig, optsExclHash)\n\tdefer func() { s.state = nil }()\n';
  s += `\tif err := loadAndRun(s.state, &s.Ctx, ${input.signature ? 's.Keyring_id' : '0'}); err != nil {\n\t\treturn err\n\t}\n`;
  for (const x of n.mapped) {
    const prot = x.m.mmap!.readOnly ? 'unix.PROT_READ' : 'unix.PROT_READ|unix.PROT_WRITE';
    s += `\tif err := finalizeMapData(s.mem[${x.index}], ${prot}, s.Maps.${x.field}.MapFd); err != nil {\n\t\treturn err\n\t}\n`;
  }
  s += '\treturn nil\n}\n';
  s += `\n// OpenAndLoad is Open and Load; on failure nothing stays open.\nfunc OpenAndLoad() (*${t}, error) {\n\ts, err := Open()\n\tif err != nil {\n\t\treturn nil, err\n\t}\n`;
  return s + '\tif err := s.Load(); err != nil {\n\t\ts.Close()\n\t\treturn nil, err\n\t}\n\treturn s, nil\n}\n';
}

function attachClose(input: LightSkeletonInput, n: Names): string {
  const t = n.skel;
  let s = '';
  for (const p of input.progs) {
    const g = goExport(p.name);
    let call: string;
    switch (p.attach.kind) {
      case 'raw_tracepoint':
        call = `rawTracepointOpen(${JSON.stringify(p.attach.target)}, s.Progs.${g}.ProgFd)`;
        break;
      case 'tracing':
        call = `rawTracepointOpen("", s.Progs.${g}.ProgFd)`;
        break;
      case 'iter':
        call = `linkCreate(s.Progs.${g}.ProgFd, bpfTraceIter)`;
        break;
      default:
        s += `\n// Attach_${p.name} is ${input.name}__${p.name}__attach: this program type has no auto-attach (0, nil).\nfunc (s *${t}) Attach_${p.name}() (int32, error) {\n\treturn 0, nil\n}\n`;
        continue;
    }
    s += `\n// Attach_${p.name} is ${input.name}__${p.name}__attach: it attaches program ${p.name} and keeps the link.\nfunc (s *${t}) Attach_${p.name}() (int32, error) {\n`;
    s += `\tfd, err := ${call}\n\tif err != nil {\n\t\treturn 0, err\n\t}\n\ts.Links.${g}_fd = fd\n\treturn fd, nil\n}\n`;
  }
  s += `\n// Attach attaches every program as ${input.name}__attach does, stopping at the first error.\nfunc (s *${t}) Attach() error {\n`;
  for (const p of input.progs) s += `\tif _, err := s.Attach_${p.name}(); err != nil {\n\t\treturn err\n\t}\n`;
  s += `\treturn nil\n}\n\n// Detach closes the links Attach made.\nfunc (s *${t}) Detach() {\n`;
  for (const p of input.progs) s += `\tcloseFd(&s.Links.${goExport(p.name)}_fd)\n`;
  s += `}\n\n// Close detaches, closes every program and map and unmaps the global-data maps.\nfunc (s *${t}) Close() error {\n\ts.Detach()\n`;
  for (const p of input.progs) s += `\tcloseFd(&s.Progs.${goExport(p.name)}.ProgFd)\n`;
  for (const m of input.maps) {
    const x = n.mapped.find((y) => y.m === m);
    if (x) s += `\ts.${x.field} = nil\n\tfreeMapData(&s.mem[${x.index}])\n`;
    s += `\tcloseFd(&s.Maps.${goExport(m.ident)}.MapFd)\n`;
  }
  return s + '\treturn nil\n}\n';
}

/** Compile-time checks, as the C header's NAME__assert: each variable's Go size and offset are its BTF ones. */
function asserts(input: LightSkeletonInput, n: Names): string {
  if (!input.hasBtf) return '';
  let s = '';
  for (const { m, type } of n.mapped) {
    const names = new Set<string>();
    for (const v of m.mmap!.vars) {
      let f = goExport(v.name.replace(/[^A-Za-z0-9_]/g, '_'));
      while (names.has(f)) f += '_';
      names.add(f);
      s += `var _ = [1]struct{}{}[unsafe.Offsetof(${type}{}.${f})-${v.offset}]\n`;
      s += `var _ = [1]struct{}{}[unsafe.Sizeof(${type}{}.${f})-${v.size}]\n`;
    }
  }
  return s ? `\n// The build fails if a variable's Go offset or size is not its BTF one.\n${s}` : '';
}

/** Render `NAME.lskel.go`. Throws LoaderError OBJECT_UNSUPPORTED for input Go cannot name. */
export function emitGoSkeleton(input: LightSkeletonInput): string {
  checkInput(input);
  const n = names(input);
  const signed = input.signature ? (input.signature.sig.length ? 'signed' : 'with excl_prog_hash, unsigned') : 'unsigned';
  const head =
    '// Code generated by bpfsign gen --lang go; DO NOT EDIT.\n\n' +
    `// Package ${input.name} is the light skeleton of BPF object ${input.name}: its loader program\n` +
    `// (${input.insns.length / 8} instructions, ${input.data.length} bytes of metadata, ${signed}) and a loader like\n` +
    "// libbpf's bpf_load_and_run(), in Go over golang.org/x/sys/unix.\n" +
    `package ${input.name}\n\nimport (\n\t"runtime"\n\t"unsafe"\n\n\t"golang.org/x/sys/unix"\n)\n\n`;
  return (
    head +
    goRuntime() +
    skelStruct(input, n) +
    varTypes(input, n) +
    blobs(input, n) +
    openLoad(input, n) +
    attachClose(input, n) +
    asserts(input, n)
  );
}
