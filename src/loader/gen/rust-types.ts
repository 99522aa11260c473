/**
 * Rust declarations of a light skeleton's global variables: one `#[repr(C)]` struct per
 * memory-mapped map (`NAME__ident`, as bpftool names the C struct), one per struct-typed
 * variable or member (`NAME__ident__var`, `..__member`), from the language-neutral layouts of
 * skel-type.ts. Integers keep their size and sign (`bool` is `u8`: the mapped memory may hold
 * any byte), `bytes` layouts (unions, bitfields, pointers, 128-bit integers) are `[u8; N]`.
 *
 * Every member sits at its BTF offset: explicit `__padN` bytes where natural alignment would
 * not put it there, `[u8; N]` for a member the Rust type would misalign, and a struct whose
 * size Rust cannot reproduce (a packed one) becomes `[u8; N]` as a whole. Lines are printed as
 * rustfmt prints them (rustLine), so the module passes `rustfmt --check`.
 */
import { sanitizeIdent, type LskelVar } from './lskel.js';
import type { SkelField, SkelType } from './skel-type.js';

const MAX_WIDTH = 100;

/** Words Rust reserves; `r#` escapes all but the path keywords. */
const KEYWORDS = new Set(
  (
    'as async await break const continue dyn else enum extern false fn for gen if impl in let loop match mod move mut pub ref ' +
    'return static struct trait true type unsafe use where while abstract become box do final macro override priv try typeof unsized virtual yield'
  ).split(' '),
);
const PATH_KEYWORDS = new Set(['crate', 'self', 'Self', 'super', '_']);

/** A C identifier as a Rust identifier: `r#type`, `self_`. */
export function rustIdent(name: string): string {
  if (PATH_KEYWORDS.has(name)) return `${name}_`;
  return KEYWORDS.has(name) ? `r#${name}` : name;
}

/** `    pub name: Type,` or, past rustfmt's width, the type on its own line. */
export function fieldLine(indent: string, name: string, type: string): string {
  const one = `${indent}pub ${name}: ${type},`;
  return one.length <= MAX_WIDTH ? one : `${indent}pub ${name}:\n${indent}    ${type},`;
}

/**
 * A method signature `pub fn f(&self) -> R {` as rustfmt breaks it when too wide: the parameter
 * on its own line, and (rustfmt's own fallback) no space before `{` when even `) -> R {` is.
 */
export function fnSig(indent: string, head: string, param: string, ret: string): string {
  const one = `${indent}${head}(${param}) -> ${ret} {`;
  if (one.length <= MAX_WIDTH) return one;
  const last = `${indent}) -> ${ret} {`;
  return `${indent}${head}(\n${indent}    ${param},\n${last.length <= MAX_WIDTH ? last : `${indent}) -> ${ret}{`}`;
}

/** `pub struct NAME {`, with the brace on the next line past rustfmt's width. */
export function structHead(name: string): string {
  const one = `pub struct ${name} {`;
  return one.length <= MAX_WIDTH ? one : `pub struct ${name}\n{`;
}

/** `const _: () = assert!(...);` (rustfmt's break after `=`); null when even that is too wide. */
export function constAssert(cond: string): string | null {
  const one = `const _: () = assert!(${cond});`;
  if (one.length <= MAX_WIDTH) return one;
  const two = `    assert!(${cond});`;
  return two.length <= MAX_WIDTH ? `const _: () =\n${two}` : null;
}

interface Layout {
  text: string;
  size: number;
  align: number;
}
interface Members {
  lines: string[];
  align: number;
  texts: string[];
}

/** The struct definitions a module needs, in dependency order. */
export class RustTypes {
  readonly defs: string[] = [];
  readonly #used = new Set<string>();

  constructor(reserved: Iterable<string>) {
    for (const n of reserved) this.#used.add(n);
  }

  #name(want: string): string {
    let name = want;
    for (let n = 2; this.#used.has(name); n++) name = `${want}_${n}`;
    this.#used.add(name);
    return name;
  }

  /**
   * The Rust type of `t`; structs are defined under `path` (dedupe adds `_2`, ...) and documented
   * as the type of `label` (where the type is used, `var.member`).
   */
  type(t: SkelType, path: string, label: string): Layout {
    switch (t.kind) {
      case 'int':
        return { text: `${t.signed && !t.bool ? 'i' : 'u'}${t.size * 8}`, size: t.size, align: t.size };
      case 'float':
        return { text: `f${t.size * 8}`, size: t.size, align: t.size };
      case 'array': {
        const e = this.type(t.elem, path, `${label}[]`);
        return { text: `[${e.text}; ${t.len}]`, size: e.size * t.len, align: e.align };
      }
      case 'struct':
        return this.#struct(t.fields, t.size, path, label);
      default:
        return { text: `[u8; ${t.size}]`, size: t.size, align: 1 };
    }
  }

  #struct(fields: SkelField[], size: number, path: string, label: string): Layout {
    const body = this.members(
      fields.map((f, i) => ({ name: f.name || `__anon${i}`, offset: f.offset, type: f.type })),
      size,
      path,
      label,
    );
    if (!body) return { text: `[u8; ${size}]`, size, align: 1 };
    const name = this.#name(path);
    this.defs.push(structText(name, body.lines, `The type of \`${label}\` (${size} bytes).`));
    return { text: name, size, align: body.align };
  }

  /**
   * Member lines placing each member at its offset, or null when `size` (the exact size, or null
   * for a datasec struct, which only needs its members' offsets) cannot be reproduced.
   */
  members(
    fields: { name: string; offset: number; type: SkelType | undefined; size?: number }[],
    size: number | null,
    path: string,
    label: string,
  ): Members | null {
    const lines: string[] = [];
    const texts: string[] = [];
    const taken = new Set(fields.map((f) => sanitizeIdent(f.name)));
    let off = 0,
      pad = 0,
      align = 1;
    const padName = () => {
      while (taken.has(`__pad${pad}`)) pad++;
      return `__pad${pad++}`;
    };
    for (const f of fields) {
      const fsize = f.type?.size ?? f.size ?? 0;
      let l = f.type
        ? this.type(f.type, `${path}__${sanitizeIdent(f.name)}`, label ? `${label}.${f.name}` : f.name)
        : { text: `[u8; ${fsize}]`, size: fsize, align: 1 };
      if (f.offset % l.align !== 0) l = { text: `[u8; ${l.size}]`, size: l.size, align: 1 };
      if (f.offset < off) return null;
      if (Math.ceil(off / l.align) * l.align !== f.offset) lines.push(fieldLine('    ', padName(), `[u8; ${f.offset - off}]`));
      lines.push(fieldLine('    ', rustIdent(sanitizeIdent(f.name)), l.text));
      texts.push(l.text);
      off = f.offset + l.size;
      align = Math.max(align, l.align);
    }
    if (size === null) return { lines, align, texts };
    if (Math.ceil(off / align) * align !== size && size > off) lines.push(fieldLine('    ', padName(), `[u8; ${size - off}]`));
    return size % align === 0 ? { lines, align, texts } : null;
  }

  /**
   * The datasec struct `name` of one mmapped map (members in offset order) and each variable's
   * Rust type. Variables overlap only in a malformed input, which check() refuses first.
   */
  datasec(name: string, vars: LskelVar[], doc: string): { def: string; types: string[] } {
    this.#used.add(name);
    const body = this.members(
      vars.map((v) => ({ name: v.name, offset: v.offset, type: v.type, size: v.size })),
      null,
      name,
      '',
    );
    return { def: structText(name, body?.lines ?? [], doc), types: body?.texts ?? [] };
  }
}

function structText(name: string, lines: string[], doc: string): string {
  const head = `/// ${doc}\n#[repr(C)]\n#[derive(Clone, Copy, Debug)]\n${structHead(name)}`;
  return lines.length ? `${head}\n${lines.join('\n')}\n}\n` : `${head}}\n`;
}
