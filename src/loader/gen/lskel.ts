/**
 * The light-skeleton header (`NAME.lskel.h`), as `bpftool gen skeleton -L` prints it.
 *
 * Input is plain data (see LightSkeletonInput): the loader's instructions and blob, the
 * maps and programs in object order, and for each memory-mapped internal map its initial
 * image and the C declarations of its variables. Nothing here reads BTF or files.
 *
 * Flavours:
 *  - 'bpftool-7.1': text identical to Debian's bpftool v7.1.0 (libbpf 1.1), which builds
 *    against libbpf-dev 1.1's <bpf/skel_internal.h>.
 *  - 'v1.7': the layout of bpftool v7.7.0 (libbpf 1.7): `data[]`/`opts_data[]` arrays,
 *    `__typeof__` casts, and with a signature the `keyring_id` member and the signed fields.
 * With `standalone: true` the `#include <bpf/skel_internal.h>` is replaced by our own
 * runtime (lskel-runtime.ts), so the header needs only kernel UAPI and libc headers.
 */
import { skeletonIdent } from '../plan/index.js';
import { LoaderError } from '../errors.js';
import { lskelRuntime } from './lskel-runtime.js';
import type { SkelType } from './skel-type.js';

export type LskelFlavour = 'bpftool-7.1' | 'v1.7';

/** One non-static variable of a memory-mapped internal map (a DATASEC VAR, in offset order). */
export interface LskelVar {
  /** BTF VAR name; sanitized (non-alnum → `_`) for the `_Static_assert` lines. */
  name: string;
  /**
   * The declaration as libbpf's btf_dump prints it at indent level 2, name included and no
   * trailing `;`: `__u32 counter`, `char tag[8]`, `struct {\n\t\t\t__u32 a;\n\t\t} pair`.
   */
  decl: string;
  /** DATASEC secinfo offset and size (bytes). */
  offset: number;
  size: number;
  /** btf__align_of of the variable's type (the emitter caps it at 4, as bpftool does). */
  align: number;
  /** btf__resolve_size of the variable's type for the size assert; null skips the assert. */
  typeSize: number | null;
  /** The type's layout for the Go and Rust emitters (skel-type.ts); absent: raw bytes of `size`. */
  type?: SkelType;
}

/** The skeleton pointer of a memory-mapped internal map (BPF_F_MMAPABLE). */
export interface LskelMmap {
  /** The map's initial image (value_size bytes): `.data`/`.rodata` contents, zeros for `.bss`. */
  initialValue: Uint8Array;
  /** roundup(roundup(value_size, 8) * max_entries, page size): see mmapSize(). */
  mmapSize: number;
  /** BPF_F_RDONLY_PROG set (`.rodata*`, `.kconfig`): finalize with PROT_READ only. */
  readOnly: boolean;
  /** Variables (non-static only) in offset order; [] for a map without a DATASEC. */
  vars: LskelVar[];
}

export interface LskelMap {
  /** libbpf's map name ('counts', 'obj.rodata'); informational. */
  name: string;
  /** C identifier in `maps` (see mapIdent()). */
  ident: string;
  /** Present iff the map is an internal map with BPF_F_MMAPABLE. */
  mmap: LskelMmap | null;
}

/** How `NAME__<prog>__attach()` attaches (see attachFor()). */
export type LskelAttach = { kind: 'raw_tracepoint'; target: string } | { kind: 'tracing' } | { kind: 'iter' } | { kind: 'none' };

export interface LskelProg {
  /** Program (function) name; subprograms are never listed. */
  name: string;
  attach: LskelAttach;
}

export interface LskelSignature {
  /** DER CMS signature embedded as `opts_sig[]`. */
  sig: Uint8Array;
  /** SHA-256 of the loader instructions, embedded as `opts_excl_hash[]` (32 bytes). */
  exclHash: Uint8Array;
}

export interface LightSkeletonInput {
  /** Skeleton name (bpftool's object name or `name N`): a C identifier. */
  name: string;
  /** Loader instructions (`opts_insn`), target byte order. */
  insns: Uint8Array;
  /** Loader blob (`opts_data`). */
  data: Uint8Array;
  /** All maps in object order (the loader's ctx map_desc order). */
  maps: LskelMap[];
  /** All non-subprogram programs in object order (the ctx prog_desc order). */
  progs: LskelProg[];
  /** Whether the object has BTF: bpftool emits `NAME__assert()` only then. */
  hasBtf: boolean;
  /** Signed loader (v1.7 only). */
  signature?: LskelSignature;
}

export interface LightSkeletonOptions {
  flavour: LskelFlavour;
  /** Replace `#include <bpf/skel_internal.h>` by a self-contained runtime. */
  standalone?: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** bpftool's sanitize_identifier: every char other than [A-Za-z0-9_] becomes `_`. */
export function sanitizeIdent(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/** bpftool's get_map_ident (the rule lives with the plan, which names the maps). */
export const mapIdent = skeletonIdent;

/** Size bpftool mmaps for an internal map: roundup(roundup(value_size, 8) * max_entries, page). */
export function mmapSize(valueSize: number, maxEntries: number, pageSize = 4096): number {
  const sz = Math.ceil(valueSize / 8) * 8 * maxEntries;
  return Math.ceil(sz / pageSize) * pageSize;
}

/** The attach flavour bpftool picks from program type, expected attach type and section. */
export function attachFor(type: string | null, expectedAttachType: string | null, section: string): LskelAttach {
  if (type === 'RAW_TRACEPOINT') {
    const slash = section.indexOf('/');
    if (slash < 0) return { kind: 'raw_tracepoint', target: '' };
    return { kind: 'raw_tracepoint', target: section.slice(slash + 1) };
  }
  if (type === 'TRACING' || type === 'LSM') return expectedAttachType === 'TRACE_ITER' ? { kind: 'iter' } : { kind: 'tracing' };
  return { kind: 'none' };
}

/** bpftool's print_hex: `\0` or `\xNN`, backslash-newline before a byte that would pass column 78. */
/** C string escapes of every byte value: "\\0" for zero, "\\xNN" otherwise (as bpftool prints them). */
const ESCAPES = Array.from({ length: 256 }, (_, b) => (b ? '\\x' + b.toString(16).padStart(2, '0') : '\\0'));

export function printHex(bytes: Uint8Array): string {
  let out = '';
  let len = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const w = b ? 4 : 2;
    len += w;
    if (len > 78) {
      out += '\\\n';
      len = w;
    }
    out += ESCAPES[b];
  }
  return out;
}

function check(input: LightSkeletonInput, opts: LightSkeletonOptions): void {
  const bad = (field: string, msg: string, got?: unknown): never => {
    throw new LoaderError('OBJECT_UNSUPPORTED', `light skeleton: ${msg}`, { field, got });
  };
  if (opts.flavour !== 'bpftool-7.1' && opts.flavour !== 'v1.7') bad('flavour', `unknown flavour ${String(opts.flavour)}`, opts.flavour);
  if (!IDENT.test(input.name)) bad('name', `skeleton name '${input.name}' is not a C identifier`, input.name);
  if (input.insns.length % 8 !== 0) bad('insns', `instruction bytes ${input.insns.length} not a multiple of 8`, input.insns.length);
  const seen = new Set<string>();
  for (const m of input.maps) {
    if (!IDENT.test(m.ident)) bad('maps', `map '${m.name}': identifier '${m.ident}' is not a C identifier`, m.ident);
    if (seen.has(m.ident)) bad('maps', `duplicate map identifier '${m.ident}'`, m.ident);
    seen.add(m.ident);
    if (!m.mmap) continue;
    let off = 0;
    for (const v of m.mmap.vars) {
      if (!Number.isInteger(v.offset) || v.offset < off)
        bad('maps', `map '${m.name}': variable '${v.name}' at offset ${v.offset} overlaps (already at ${off})`, v.offset);
      if (!Number.isInteger(v.align) || v.align <= 0)
        bad('maps', `map '${m.name}': variable '${v.name}' has alignment ${v.align}`, v.align);
      off = v.offset + v.size;
    }
  }
  for (const p of input.progs) if (!IDENT.test(p.name)) bad('progs', `program name '${p.name}' is not a C identifier`, p.name);
  if (input.signature) {
    if (opts.flavour !== 'v1.7') bad('signature', 'signed light skeletons need the v1.7 flavour');
    if (input.signature.exclHash.length !== 32)
      bad('signature', `excl_prog_hash is ${input.signature.exclHash.length} bytes, want 32`, input.signature.exclHash.length);
  }
}

/** The `struct NAME__ident { ... } *ident;` block of one mmapable map (bpftool codegen_datasec_def). */
function datasecStruct(name: string, m: LskelMap, mm: LskelMmap): string {
  let s = `\tstruct ${name}__${m.ident} {\n`;
  let off = 0;
  let pad = 0;
  for (const v of mm.vars) {
    const align = Math.min(v.align, 4);
    const alignOff = Math.ceil(off / align) * align;
    if (alignOff !== v.offset) s += `\t\tchar __pad${pad++}[${v.offset - off}];\n`;
    s += `\t\t${v.decl};\n`;
    off = v.offset + v.size;
  }
  return s + `\t} *${m.ident};\n`;
}

function structDef(input: LightSkeletonInput, opts: LightSkeletonOptions): string {
  const n = input.name;
  const guard = `__${n.toUpperCase()}_SKEL_H__`;
  let s = '/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */\n/* THIS FILE IS AUTOGENERATED BY BPFTOOL! */\n';
  s += `#ifndef ${guard}\n#define ${guard}\n\n`;
  s += opts.standalone ? lskelRuntime() : '#include <bpf/skel_internal.h>\n';
  s += `\nstruct ${n} {\n\tstruct bpf_loader_ctx ctx;\n`;
  if (input.maps.length) {
    s += '\tstruct {\n';
    for (const m of input.maps) s += `\t\tstruct bpf_map_desc ${m.ident};\n`;
    s += '\t} maps;\n';
  }
  if (input.progs.length) {
    s += '\tstruct {\n';
    for (const p of input.progs) s += `\t\tstruct bpf_prog_desc ${p.name};\n`;
    s += '\t} progs;\n\tstruct {\n';
    for (const p of input.progs) s += `\t\tint ${p.name}_fd;\n`;
    s += '\t} links;\n';
  }
  if (input.signature) s += '\t__s32 keyring_id;\n';
  if (input.hasBtf) for (const m of input.maps) if (m.mmap) s += datasecStruct(n, m, m.mmap);
  return s + '};\n';
}

function attachDetach(input: LightSkeletonInput): string {
  const n = input.name;
  let s = '';
  for (const p of input.progs) {
    s += `\nstatic inline int\n${n}__${p.name}__attach(struct ${n} *skel)\n{\n\tint prog_fd = skel->progs.${p.name}.prog_fd;\n`;
    switch (p.attach.kind) {
      case 'raw_tracepoint':
        s += `\tint fd = skel_raw_tracepoint_open("${p.attach.target}", prog_fd);\n`;
        break;
      case 'iter':
        s += '\tint fd = skel_link_create(prog_fd, 0, BPF_TRACE_ITER);\n';
        break;
      case 'tracing':
        s += '\tint fd = skel_raw_tracepoint_open(NULL, prog_fd);\n';
        break;
      default:
        s += '\tint fd = ((void)prog_fd, 0); /* auto-attach not supported */\n';
    }
    s += `\n\tif (fd > 0)\n\t\tskel->links.${p.name}_fd = fd;\n\treturn fd;\n}\n`;
  }
  s += `\nstatic inline int\n${n}__attach(struct ${n} *skel)\n{\n\tint ret = 0;\n\n`;
  for (const p of input.progs) s += `\tret = ret < 0 ? ret : ${n}__${p.name}__attach(skel);\n`;
  s += `\treturn ret < 0 ? ret : 0;\n}\n\nstatic inline void\n${n}__detach(struct ${n} *skel)\n{\n`;
  for (const p of input.progs) s += `\tskel_closenz(skel->links.${p.name}_fd);\n`;
  return s + '}\n';
}

function destroy(input: LightSkeletonInput): string {
  const n = input.name;
  let s = `static void\n${n}__destroy(struct ${n} *skel)\n{\n\tif (!skel)\n\t\treturn;\n\t${n}__detach(skel);\n`;
  for (const p of input.progs) s += `\tskel_closenz(skel->progs.${p.name}.prog_fd);\n`;
  for (const m of input.maps) {
    if (m.mmap) s += `\tskel_free_map_data(skel->${m.ident}, skel->maps.${m.ident}.initial_value, ${m.mmap.mmapSize});\n`;
    s += `\tskel_closenz(skel->maps.${m.ident}.map_fd);\n`;
  }
  return s + '\tskel_free(skel);\n}\n';
}

function open(input: LightSkeletonInput, v17: boolean): string {
  const n = input.name;
  let s = `static inline struct ${n} *\n${n}__open(void)\n{\n\tstruct ${n} *skel;\n\n`;
  if (v17)
    s += `\tskel = (struct ${n} *)skel_alloc(sizeof(*skel));\n\tif (!skel)\n\t\tgoto cleanup;\n\tskel->ctx.sz = (char *)&skel->links - (char *)skel;\n`;
  else s += '\tskel = skel_alloc(sizeof(*skel));\n\tif (!skel)\n\t\tgoto cleanup;\n\tskel->ctx.sz = (void *)&skel->links - (void *)skel;\n';
  for (const m of input.maps) {
    const mm = m.mmap;
    if (!mm) continue;
    const id = m.ident;
    if (v17) {
      s += `\t{\n\t\tstatic const char data[] __attribute__((__aligned__(8))) = "\\\n${printHex(mm.initialValue)}";\n\n`;
      s += `\t\tskel->${id} = (__typeof__(skel->${id}))skel_prep_map_data((void *)data, ${mm.mmapSize},\n\t\t\t\t\t\tsizeof(data) - 1);\n`;
      s += `\t\tif (!skel->${id})\n\t\t\tgoto cleanup;\n\t\tskel->maps.${id}.initial_value = (__u64) (long) skel->${id};\n\t}\n`;
    } else {
      s += `\tskel->${id} = skel_prep_map_data((void *)"\\\n${printHex(mm.initialValue)}", ${mm.mmapSize}, ${mm.initialValue.length});\n`;
      s += `\tif (!skel->${id})\n\t\tgoto cleanup;\n\tskel->maps.${id}.initial_value = (__u64) (long) skel->${id};\n`;
    }
  }
  return s + `\treturn skel;\ncleanup:\n\t${n}__destroy(skel);\n\treturn NULL;\n}\n`;
}

function load(input: LightSkeletonInput, v17: boolean): string {
  const n = input.name;
  let s = `\nstatic inline int\n${n}__load(struct ${n} *skel)\n{\n\tstruct bpf_load_and_run_opts opts = {};\n\tint err;\n`;
  if (v17) {
    s += `\tstatic const char opts_data[] __attribute__((__aligned__(8))) = "\\\n${printHex(input.data)}";\n`;
    s += `\tstatic const char opts_insn[] __attribute__((__aligned__(8))) = "\\\n${printHex(input.insns)}";\n`;
    const sig = input.signature;
    if (sig) {
      s += `\tstatic const char opts_sig[] __attribute__((__aligned__(8))) = "\\\n${printHex(sig.sig)}";\n`;
      s += `\tstatic const char opts_excl_hash[] __attribute__((__aligned__(8))) = "\\\n${printHex(sig.exclHash)}";\n`;
      s += '\topts.signature = (void *)opts_sig;\n\topts.signature_sz = sizeof(opts_sig) - 1;\n';
      s += '\topts.excl_prog_hash = (void *)opts_excl_hash;\n\topts.excl_prog_hash_sz = sizeof(opts_excl_hash) - 1;\n';
      s += '\topts.keyring_id = skel->keyring_id;\n';
    }
    s += '\topts.ctx = (struct bpf_loader_ctx *)skel;\n\topts.data_sz = sizeof(opts_data) - 1;\n\topts.data = (void *)opts_data;\n';
    s += '\topts.insns_sz = sizeof(opts_insn) - 1;\n\topts.insns = (void *)opts_insn;\n\n';
  } else {
    s += '\n\topts.ctx = (struct bpf_loader_ctx *)skel;\n';
    s += `\topts.data_sz = ${input.data.length};\n\topts.data = (void *)"\\\n${printHex(input.data)}";\n`;
    s += `\topts.insns_sz = ${input.insns.length};\n\topts.insns = (void *)"\\\n${printHex(input.insns)}";\n`;
  }
  s += '\terr = bpf_load_and_run(&opts);\n\tif (err < 0)\n\t\treturn err;\n';
  for (const m of input.maps) {
    if (!m.mmap) continue;
    const id = m.ident;
    const prot = m.mmap.readOnly ? 'PROT_READ' : 'PROT_READ | PROT_WRITE';
    const cast = v17 ? `(__typeof__(skel->${id}))` : '';
    s += `\tskel->${id} = ${cast}skel_finalize_map_data(&skel->maps.${id}.initial_value,\n\t\t\t\t\t${m.mmap.mmapSize}, ${prot}, skel->maps.${id}.map_fd);\n`;
    s += `\tif (!skel->${id})\n\t\treturn -ENOMEM;\n`;
  }
  s += '\treturn 0;\n}\n';
  s += `\nstatic inline struct ${n} *\n${n}__open_and_load(void)\n{\n\tstruct ${n} *skel;\n\n\tskel = ${n}__open();\n\tif (!skel)\n\t\treturn NULL;\n`;
  s += `\tif (${n}__load(skel)) {\n\t\t${n}__destroy(skel);\n\t\treturn NULL;\n\t}\n\treturn skel;\n}\n\n`;
  return s;
}

function asserts(input: LightSkeletonInput): string {
  if (!input.hasBtf) return '';
  const n = input.name;
  let s = `__attribute__((unused)) static void\n${n}__assert(struct ${n} *s __attribute__((unused)))\n{\n#ifdef __cplusplus\n#define _Static_assert static_assert\n#endif\n`;
  for (const m of input.maps) {
    if (!m.mmap) continue;
    for (const v of m.mmap.vars) {
      if (v.typeSize === null) continue;
      const id = sanitizeIdent(v.name);
      s += `\t_Static_assert(sizeof(s->${m.ident}->${id}) == ${v.typeSize}, "unexpected size of '${id}'");\n`;
    }
  }
  return s + '#ifdef __cplusplus\n#undef _Static_assert\n#endif\n}\n';
}

/** Render the `.lskel.h` text. Throws LoaderError OBJECT_UNSUPPORTED for input bpftool could not print. */
export function emitLightSkeleton(input: LightSkeletonInput, opts: LightSkeletonOptions): string {
  check(input, opts);
  const v17 = opts.flavour === 'v1.7';
  const guard = `__${input.name.toUpperCase()}_SKEL_H__`;
  return (
    structDef(input, opts) +
    attachDetach(input) +
    destroy(input) +
    open(input, v17) +
    load(input, v17) +
    asserts(input) +
    `\n#endif /* ${guard} */\n`
  );
}
