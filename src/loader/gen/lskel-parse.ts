/**
 * Reads a light-skeleton header back: the loader it embeds (instructions, metadata blob, and for a
 * signed v1.7 header the PKCS#7 signature and excl_prog_hash), the skeleton's map and program
 * slots in ctx order, and the initial images of its mmapable maps — from our headers and from the
 * ones `bpftool gen skeleton -L` writes (`opts.data = (void *)"…"` with `opts.data_sz`). Auditors
 * meet such headers in the wild; `bpfsign replay FILE.lskel.h` runs what they would load.
 */
import { LoaderError } from '../errors.js';

export interface ParsedLightSkeleton {
  name: string;
  insns: Uint8Array;
  data: Uint8Array;
  /** Present in a signed v1.7 header. */
  signature: Uint8Array | null;
  exclProgHash: Uint8Array | null;
  /** struct NAME's maps and progs members, in ctx order. */
  maps: string[];
  progs: string[];
  /** Initial images of mmapable maps (skel_prep_map_data), by map index. */
  initialValues: Map<number, Uint8Array>;
}

const bad = (what: string, details: Record<string, unknown> = {}): never => {
  throw new LoaderError('OBJECT_MALFORMED', `light skeleton: ${what}`, { section: 'lskel.h', ...details });
};

const lineOf = (text: string, at: number) => text.slice(0, at).split('\n').length;

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, '"': 34, "'": 39, a: 7, b: 8, f: 12, v: 11, '?': 63 };

/** The value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Decodes the C string literal whose opening quote is at `at`; returns its bytes and the index
 * past the closing quote. Walks char codes into one preallocated buffer (a literal holds at most
 * one byte per character): headers embed tens of kilobytes as `\xNN` escapes.
 */
export function parseCString(text: string, at: number): { bytes: Uint8Array; end: number } {
  if (text.charCodeAt(at) !== 34) bad(`line ${lineOf(text, at)}: expected a string literal`, { offset: at });
  const out = new Uint8Array(text.length - at);
  let n = 0;
  let i = at + 1;
  for (;;) {
    if (i >= text.length) bad(`line ${lineOf(text, at)}: unterminated string literal`, { offset: at });
    const c = text.charCodeAt(i);
    if (c === 34) return { bytes: out.slice(0, n), end: i + 1 };
    if (c === 10) bad(`line ${lineOf(text, i)}: newline inside a string literal`, { offset: i });
    if (c !== 92) {
      if (c > 0x7e || c < 0x20) bad(`line ${lineOf(text, i)}: byte 0x${c.toString(16)} inside a string literal`, { offset: i });
      out[n++] = c;
      i++;
      continue;
    }
    const e = text.charCodeAt(i + 1);
    if (e === 10) {
      i += 2;
      continue;
    } // line continuation
    if (e === 120) {
      // \x: one or two hex digits
      const h1 = hexValue(text.charCodeAt(i + 2));
      if (h1 < 0) bad(`line ${lineOf(text, i)}: \\x without hex digits`, { offset: i });
      const h2 = hexValue(text.charCodeAt(i + 3));
      if (h2 < 0) {
        out[n++] = h1;
        i += 3;
      } else {
        out[n++] = h1 * 16 + h2;
        i += 4;
      }
      continue;
    }
    if (e >= 48 && e <= 55) {
      // octal: one to three digits
      let v = 0;
      let k = 1;
      while (k <= 3 && text.charCodeAt(i + k) >= 48 && text.charCodeAt(i + k) <= 55) v = v * 8 + (text.charCodeAt(i + k++) - 48);
      if (v > 0xff) bad(`line ${lineOf(text, i)}: octal escape \\${text.slice(i + 1, i + k)} is over 0xff`, { offset: i });
      out[n++] = v;
      i += k;
      continue;
    }
    const simple = SIMPLE_ESCAPES[text[i + 1]];
    if (simple === undefined) bad(`line ${lineOf(text, i)}: unknown escape \\${text[i + 1]}`, { offset: i });
    out[n++] = simple;
    i += 2;
  }
}

/** The members of `struct { … } <which>;` inside struct NAME: `struct bpf_map_desc x;` / `struct bpf_prog_desc y;`. */
function members(text: string, body: string, kind: 'bpf_map_desc' | 'bpf_prog_desc'): string[] {
  const re = new RegExp(`struct\\s+${kind}\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*;`, 'g');
  return [...body.matchAll(re)].map((m) => m[1]);
}

export function parseLightSkeleton(text: string): ParsedLightSkeleton {
  const head = /struct\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{\s*struct\s+bpf_loader_ctx\s+ctx\s*;/.exec(text);
  if (!head) bad('no `struct NAME { struct bpf_loader_ctx ctx; …`: not a light skeleton header');
  const name = head![1];
  const bodyEnd = text.indexOf('\n};', head!.index);
  if (bodyEnd < 0) bad(`struct ${name} is not closed`);
  const body = text.slice(head!.index, bodyEnd);
  const maps = members(text, body, 'bpf_map_desc');
  const progs = members(text, body, 'bpf_prog_desc');

  /** The literal assigned to a loader field, in either header style. */
  const literal = (arrayName: string, field: string): Uint8Array | null => {
    const a = new RegExp(
      `static\\s+const\\s+char\\s+${arrayName}\\[\\]\\s*(?:__attribute__\\(\\(__aligned__\\(8\\)\\)\\)\\s*)?=\\s*"`,
    ).exec(text);
    if (a) return parseCString(text, a.index + a[0].length - 1).bytes;
    const b = new RegExp(`opts\\.${field}\\s*=\\s*\\(void\\s*\\*\\)\\s*"`).exec(text);
    if (!b) return null;
    const bytes = parseCString(text, b.index + b[0].length - 1).bytes;
    const sz = new RegExp(`opts\\.${field}_sz\\s*=\\s*(\\d+)\\s*;`).exec(text);
    if (sz && Number(sz[1]) !== bytes.length)
      bad(`opts.${field}_sz is ${sz[1]} but its literal holds ${bytes.length} bytes`, {
        field: `${field}_sz`,
        got: bytes.length,
        want: Number(sz[1]),
      });
    return bytes;
  };
  const insns = literal('opts_insn', 'insns');
  const data = literal('opts_data', 'data');
  if (!insns) bad('no loader instructions (opts_insn / opts.insns)', { field: 'insns' });
  if (!data) bad('no loader metadata (opts_data / opts.data)', { field: 'data' });
  if (insns!.length === 0 || insns!.length % 8 !== 0)
    bad(`loader instructions are ${insns!.length} bytes, not a positive multiple of 8`, { field: 'insns', got: insns!.length });

  // Initial images: the literal given to skel_prep_map_data for skel->FIELD, which then becomes
  // skel->maps.IDENT.initial_value. Literals precede their assignment in both styles.
  const initialValues = new Map<number, Uint8Array>();
  const assign = /skel->maps\.([A-Za-z_][A-Za-z0-9_]*)\.initial_value\s*=\s*\(__u64\)\s*\(long\)\s*skel->([A-Za-z_][A-Za-z0-9_]*)\s*;/g;
  for (const m of text.matchAll(assign)) {
    const before = text.slice(0, m.index);
    const call = before.lastIndexOf('skel_prep_map_data(');
    if (call < 0) continue;
    // The literal: inline in the call, or the `data[]` array declared just before it.
    const inline = /^skel_prep_map_data\(\(void \*\)"/.exec(before.slice(call));
    const at = inline ? call + inline[0].length - 1 : before.lastIndexOf('= "', call) + 2;
    if (at < 2) continue;
    const idx = maps.indexOf(m[1]);
    if (idx < 0) bad(`skel->maps.${m[1]} is not a member of struct ${name}`, { field: m[1] });
    initialValues.set(idx, parseCString(text, at).bytes);
  }
  return {
    name,
    insns: insns!,
    data: data!,
    signature: literal('opts_sig', 'signature'),
    exclProgHash: literal('opts_excl_hash', 'excl_prog_hash'),
    maps,
    progs,
    initialValues,
  };
}
