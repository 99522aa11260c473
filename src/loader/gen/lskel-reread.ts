/**
 * Reads a light-skeleton header back into the emitter's input and prints it again: a header is
 * what `emitLightSkeleton` writes for its loader exactly when the two texts are equal, byte for
 * byte. This is how a verifier holds the C code people compile and ship to the signed loader
 * without the object: everything but the names, the declarations of global variables and the
 * embedded bytes is fixed text, so an edited runtime, attach or load routine, an extra statement
 * or a changed byte anywhere shows up as the first line that differs.
 *
 * What cannot be told from the text alone (a variable's BTF alignment, its byte size when no
 * size assert names it) is chosen so that the emitter prints the same padding again; the
 * comparison, not those choices, decides.
 */
import { LoaderError } from '../errors.js';
import { lskelRuntime } from './lskel-runtime.js';
import {
  emitLightSkeleton,
  type LightSkeletonInput,
  type LightSkeletonOptions,
  type LskelAttach,
  type LskelMap,
  type LskelProg,
  type LskelVar,
} from './lskel.js';
import { parseLightSkeleton, type ParsedLightSkeleton } from './lskel-parse.js';

export interface RereadLightSkeleton {
  parsed: ParsedLightSkeleton;
  input: LightSkeletonInput;
  options: LightSkeletonOptions;
}

export type LightSkeletonTextCheck =
  | { ok: true; reread: RereadLightSkeleton }
  | { ok: false; reread: RereadLightSkeleton | null; line: number; got: string; want: string; message: string };

const ID = '[A-Za-z_][A-Za-z0-9_]*';

const bad = (what: string, details: Record<string, unknown> = {}): never => {
  throw new LoaderError('OBJECT_MALFORMED', `light skeleton: ${what}`, { section: 'lskel.h', ...details });
};

/** The `struct NAME__IDENT { … } *IDENT;` blocks of struct NAME, by map identifier. */
function datasecBlocks(body: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = new RegExp(`\\n\\tstruct ${name}__(${ID}) \\{\\n([\\s\\S]*?)\\n?\\t\\} \\*(${ID});`, 'g');
  for (const m of body.matchAll(re)) {
    if (m[1] !== m[3]) bad(`struct ${name}__${m[1]} is declared as *${m[3]}`, { field: m[3] });
    out.set(m[3], m[2] === '' ? [] : m[2].split('\n'));
  }
  return out;
}

/** Declarations and padding of one datasec struct: `char __padN[K];` lines and whole declarations. */
function declarations(lines: string[], ident: string): ({ pad: number } | { decl: string })[] {
  const out: ({ pad: number } | { decl: string })[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i];
    if (!first.startsWith('\t\t') || first[2] === '\t')
      bad(`struct member of ${ident} is not at the struct's indent: ${JSON.stringify(first)}`, { field: ident });
    const pad = /^\t\tchar __pad\d+\[(\d+)\];$/.exec(first);
    if (pad) {
      out.push({ pad: Number(pad[1]) });
      i++;
      continue;
    }
    // A declaration runs until its braces close on a line ending with ';'.
    let depth = 0;
    const parts: string[] = [];
    for (;;) {
      if (i >= lines.length) bad(`unterminated declaration in struct of ${ident}`, { field: ident });
      const l = lines[i++];
      parts.push(l);
      for (const c of l) depth += c === '{' ? 1 : c === '}' ? -1 : 0;
      if (depth === 0 && l.endsWith(';')) break;
    }
    const text = parts.join('\n');
    out.push({ decl: text.slice(2, -1) });
  }
  return out;
}

/** Size asserts of NAME__assert: `sizeof(s->IDENT->VAR) == N`, in order. */
function sizeAsserts(text: string): { ident: string; name: string; size: number }[] {
  const re = new RegExp(`_Static_assert\\(sizeof\\(s->(${ID})->(${ID})\\) == (\\d+), "unexpected size of '${ID}'"\\);`, 'g');
  return [...text.matchAll(re)].map((m) => ({ ident: m[1], name: m[2], size: Number(m[3]) }));
}

function vars(lines: string[], ident: string, asserts: { name: string; size: number }[]): LskelVar[] {
  const out: LskelVar[] = [];
  let off = 0;
  let pending = 0;
  let a = 0;
  for (const d of declarations(lines, ident)) {
    if ('pad' in d) {
      pending += d.pad;
      continue;
    }
    const next = asserts[a];
    const named = next !== undefined && new RegExp(`(^|[^A-Za-z0-9_])${next.name}([^A-Za-z0-9_]|$)`).test(d.decl);
    if (named) a++;
    const size = named ? next.size : 0;
    // Alignment 1 makes the emitter print a pad exactly where the text has one.
    out.push({
      name: named ? next.name : `var${out.length}`,
      decl: d.decl,
      offset: off + pending,
      size,
      align: 1,
      typeSize: named ? size : null,
    });
    off = off + pending + size;
    pending = 0;
  }
  return out;
}

function attachOf(text: string, name: string, prog: string): LskelAttach {
  const head = `${name}__${prog}__attach(struct ${name} *skel)\n{\n\tint prog_fd = skel->progs.${prog}.prog_fd;\n`;
  const at = text.indexOf(head);
  if (at < 0) bad(`no ${name}__${prog}__attach()`, { field: prog });
  const line = text.slice(at + head.length, text.indexOf('\n', at + head.length));
  const rt = /^\tint fd = skel_raw_tracepoint_open\("([^"\\\n]*)", prog_fd\);$/.exec(line);
  if (rt) return { kind: 'raw_tracepoint', target: rt[1] };
  if (line === '\tint fd = skel_link_create(prog_fd, 0, BPF_TRACE_ITER);') return { kind: 'iter' };
  if (line === '\tint fd = skel_raw_tracepoint_open(NULL, prog_fd);') return { kind: 'tracing' };
  return { kind: 'none' };
}

/** Reads the emitter's input back from a header's text (ours or bpftool's, either flavour). */
export function rereadLightSkeleton(text: string): RereadLightSkeleton {
  const parsed = parseLightSkeleton(text);
  const name = parsed.name;
  const start = text.indexOf(`\nstruct ${name} {\n`);
  const end = text.indexOf('\n};\n', start);
  if (start < 0 || end < 0) bad(`struct ${name} is not laid out as a light skeleton prints it`, { field: name });
  const body = text.slice(start, end + 1);
  const blocks = datasecBlocks(body, name);
  const asserts = sizeAsserts(text);
  const v17 = /\n\tstatic const char opts_insn\[\] /.test(text);
  const standalone = !text.includes('\n#include <bpf/skel_internal.h>\n') && text.includes(lskelRuntime());
  const maps: LskelMap[] = parsed.maps.map((ident, index) => {
    const free = new RegExp(`\\tskel_free_map_data\\(skel->${ident}, skel->maps\\.${ident}\\.initial_value, (\\d+)\\);`).exec(text);
    if (!free) return { name: ident, ident, mmap: null };
    const prot = new RegExp(
      `skel_finalize_map_data\\(&skel->maps\\.${ident}\\.initial_value,\\n\\t+\\d+, (PROT_READ(?: \\| PROT_WRITE)?), `,
    ).exec(text);
    const initialValue = parsed.initialValues.get(index);
    if (!initialValue) bad(`map ${ident} is freed as mapped data but has no initial image`, { field: ident });
    return {
      name: ident,
      ident,
      mmap: {
        initialValue: initialValue!,
        mmapSize: Number(free[1]),
        readOnly: prot?.[1] === 'PROT_READ',
        vars: vars(
          blocks.get(ident) ?? [],
          ident,
          asserts.filter((x) => x.ident === ident),
        ),
      },
    };
  });
  const progs: LskelProg[] = parsed.progs.map((p) => ({ name: p, attach: attachOf(text, name, p) }));
  const input: LightSkeletonInput = {
    name,
    insns: parsed.insns,
    data: parsed.data,
    maps,
    progs,
    hasBtf: text.includes(`\n${name}__assert(struct ${name} *s __attribute__((unused)))\n`),
  };
  if (parsed.signature && parsed.exclProgHash) input.signature = { sig: parsed.signature, exclHash: parsed.exclProgHash };
  return { parsed, input, options: { flavour: v17 ? 'v1.7' : 'bpftool-7.1', standalone } };
}

/** The first line where two texts differ (1-based), with both lines (cut to 160 characters). */
export function firstDifference(got: string, want: string): { line: number; got: string; want: string } | null {
  if (got === want) return null;
  const g = got.split('\n'),
    w = want.split('\n');
  let i = 0;
  while (i < g.length && i < w.length && g[i] === w[i]) i++;
  const cut = (s: string | undefined) => (s === undefined ? '(end of file)' : s.length > 160 ? `${s.slice(0, 160)}…` : s);
  return { line: i + 1, got: cut(g[i]), want: cut(w[i]) };
}

/**
 * Whether a header is exactly what the emitter prints for the input read back from it. A header
 * that cannot be read back is reported at line 1 with the reading error.
 */
export function checkLightSkeletonText(text: string): LightSkeletonTextCheck {
  let reread: RereadLightSkeleton;
  let want: string;
  try {
    reread = rereadLightSkeleton(text);
    want = emitLightSkeleton(reread.input, reread.options);
  } catch (e) {
    return { ok: false, reread: null, line: 1, got: '', want: '', message: (e as Error).message };
  }
  const d = firstDifference(text, want);
  if (!d) return { ok: true, reread };
  return { ok: false, reread, ...d, message: `line ${d.line} is not what a light skeleton of this loader prints` };
}
