/**
 * Test helpers for BTF: locating inputs (vmlinux, module BTF, objects),
 * running bpftool / clang, and comparing dumps line by line.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';

export const VMLINUX = '/sys/kernel/btf/vmlinux';
export const XDP_OBJ_DIR = '/usr/lib/x86_64-linux-gnu/bpf';

function hasTool(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

export const HAVE_BPFTOOL = hasTool('bpftool', ['version']);
export const HAVE_CLANG = hasTool('clang', ['--version']);
export const HAVE_GCC = hasTool('gcc', ['--version']);
export const HAVE_VMLINUX = existsSync(VMLINUX);

export const NO_BPFTOOL = HAVE_BPFTOOL ? false : 'bpftool not installed';

/** Module BTF files under /sys/kernel/btf (everything except vmlinux). */
export function moduleBtfFiles(): string[] {
  if (!existsSync('/sys/kernel/btf')) return [];
  return readdirSync('/sys/kernel/btf')
    .filter((f) => f !== 'vmlinux')
    .sort()
    .map((f) => join('/sys/kernel/btf', f));
}

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (e.endsWith('.o')) out.push(p);
  }
}

/** BPF objects to test against: xdp-tools' objects and every *.o under test/fixtures. */
export function objectFiles(): string[] {
  const out: string[] = [];
  if (existsSync(XDP_OBJ_DIR)) {
    for (const f of readdirSync(XDP_OBJ_DIR).sort()) if (f.endsWith('.o')) out.push(join(XDP_OBJ_DIR, f));
  }
  walk(resolve(process.cwd(), 'test/fixtures'), out);
  return out;
}

/** `bpftool btf dump file <path> format raw` (with -B base for split BTF). */
export function bpftoolRawDump(path: string, base?: string): string {
  const args = [...(base ? ['-B', base] : []), 'btf', 'dump', 'file', path, 'format', 'raw'];
  return execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
}

/** Asserts two dumps are equal, reporting the first differing line. */
export function assertSameLines(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      assert.fail(`${what}: first difference at line ${i + 1}:\n  ours:    ${JSON.stringify(a[i])}\n  bpftool: ${JSON.stringify(e[i])}`);
    }
  }
  assert.fail(`${what}: dumps differ`);
}

export function tempDir(prefix = 'btf-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeTemp(dir: string, name: string, data: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** A C source exercising most BTF kinds clang 14 emits (bitfields, unions, tags, fwd, float, datasecs). */
export const KINDS_SOURCE = `
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))
typedef unsigned long long u64;
struct fwd_s; union fwd_u;
enum sgn { NEG = -5, POS = 7 };
enum uns { A = 1, B = 0xffffffff };
struct bits { unsigned a:3; int b:5; char c; long long d:40; volatile const int *restrict p; struct fwd_s *fs; union fwd_u *fu; } __tag("s_tag");
union un { int i; float f; double d; char arr[3][5]; };
struct holder { struct bits b; union un u; enum sgn s; enum uns u2; int __ttag("user") *tp; _Bool flag; u64 x __tag("m_tag"); };
struct holder global_h;
static volatile int static_v = 3;
const int ro_v = 5;
static __attribute__((noinline)) int helper(struct holder *h __tag("p_tag"), int y) { return h->b.a + y + ro_v; }
__attribute__((section("xdp"))) int prog(struct holder *ctx) { return helper(ctx, static_v) + (int)global_h.x; }
char _license[] __attribute__((section("license"))) = "GPL";
`;

/** Compiles KINDS_SOURCE for bpfel and bpfeb into `dir`; returns the object paths. */
export function compileKindsObjects(dir: string): { el: string; eb: string } {
  const src = writeTemp(dir, 'kinds.c', KINDS_SOURCE);
  const el = join(dir, 'kinds_el.o');
  const eb = join(dir, 'kinds_eb.o');
  execFileSync('clang', ['-O2', '-g', '-target', 'bpfel', '-c', src, '-o', el]);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpfeb', '-c', src, '-o', eb]);
  return { el, eb };
}

/**
 * CO-RE sample: one relocation of each listed kind, in source order. The
 * expectations below follow from the source: `in` is member 1 of outer, `c`
 * member 1 and `a` member 0 of inner, E2 is enumerator 1 of enum e.
 */
export const CORE_SOURCE = `
struct inner { int a; char c; };
struct outer { long x; struct inner in; } __attribute__((preserve_access_index));
enum e { E1 = 1, E2 = 2 };
__attribute__((section("xdp"))) int prog(struct outer *o) {
  int r = 0;
  r += __builtin_preserve_field_info(o->in.c, 0);
  r += __builtin_preserve_field_info(o->in.a, 2);
  r += __builtin_preserve_type_info(*(struct inner *)0, 0);
  r += __builtin_preserve_type_info(*(struct inner *)0, 1);
  r += __builtin_preserve_enum_value(*(enum e *)E2, 0);
  r += __builtin_btf_type_id(*o, 0);
  return r;
}
char _license[] __attribute__((section("license"))) = "GPL";
`;

export const CORE_EXPECTED = [
  { kindName: 'field_byte_offset', kind: 0, accessStr: '0:1:1', target: 'outer' },
  { kindName: 'field_exists', kind: 2, accessStr: '0:1:0', target: 'outer' },
  { kindName: 'type_exists', kind: 8, accessStr: '0', target: 'inner' },
  { kindName: 'type_size', kind: 9, accessStr: '0', target: 'inner' },
  { kindName: 'enumval_exists', kind: 10, accessStr: '1', target: 'e' },
  { kindName: 'type_id_local', kind: 6, accessStr: '0', target: 'outer' },
];

export function compileSource(dir: string, name: string, source: string, target: 'bpfel' | 'bpfeb'): string {
  const src = writeTemp(dir, `${name}.c`, source);
  const out = join(dir, `${name}_${target}.o`);
  execFileSync('clang', ['-O2', '-g', '-target', target, '-c', src, '-o', out]);
  return out;
}
