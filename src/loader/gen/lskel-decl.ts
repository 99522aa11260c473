/**
 * C declarations of BTF types as libbpf's btf_dump__emit_type_decl prints them (the subset a
 * light skeleton needs for global variables), and btf__align_of.
 *
 * Covered: INT, FLOAT, TYPEDEF, named STRUCT/UNION/ENUM/FWD ("struct x"), anonymous
 * STRUCT/UNION (inline, members one per line, bitfields, libbpf's explicit bit padding) and
 * ENUM (inline), PTR, ARRAY (multi-dimensional too), CONST/VOLATILE/RESTRICT (dropped with
 * stripMods), TYPE_TAG (ignored), FUNC_PROTO (function pointers, parameter types only).
 * Pointer size is 8 (a 64-bit target), as bpftool assumes on x86-64.
 */
import { LoaderError } from '../errors.js';
import type { Btf, BtfType } from '../btf/index.js';

const PTR_SZ = 8;
const MAX_DEPTH = 64;

function fail(id: number, msg: string): never {
  throw new LoaderError('BTF_MALFORMED', `type [${id}]: ${msg}`, { typeId: id });
}

function typeAt(btf: Btf, id: number): BtfType {
  try {
    return btf.type(id);
  } catch (e) {
    if (e instanceof LoaderError) throw e;
    return fail(id, 'no such type');
  }
}

/** btf__align_of: natural alignment of a type (1 for a packed struct). */
export function btfAlignOf(btf: Btf, id: number, depth = 0): number {
  if (depth > MAX_DEPTH) fail(id, 'type chain too deep');
  const t = typeAt(btf, id);
  switch (t.kind) {
    case 'INT':
    case 'ENUM':
    case 'ENUM64':
    case 'FLOAT':
      return Math.min(PTR_SZ, Math.max(1, t.size));
    case 'PTR':
      return PTR_SZ;
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return btfAlignOf(btf, t.type, depth + 1);
    case 'ARRAY':
      return btfAlignOf(btf, t.elemType, depth + 1);
    case 'STRUCT':
    case 'UNION': {
      let max = 1;
      for (const m of t.members) {
        const a = btfAlignOf(btf, m.type, depth + 1);
        max = Math.max(max, a);
        if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
      }
      return t.size % max === 0 ? max : 1;
    }
    default:
      return fail(id, `cannot compute the alignment of a ${t.kind}`);
  }
}

function sizeOf(btf: Btf, id: number): number {
  try {
    return btf.sizeOf(id);
  } catch (e) {
    if (e instanceof LoaderError) throw e;
    return fail(id, 'cannot resolve size');
  }
}

function pfx(lvl: number): string {
  return '\t'.repeat(lvl);
}

function isMod(t: BtfType): boolean {
  return t.kind === 'CONST' || t.kind === 'VOLATILE' || t.kind === 'RESTRICT';
}

/** libbpf's btf_dump_emit_bit_padding (64-bit pointers). */
function bitPadding(cur: number, next: number, nextAlign: number, inBitfield: boolean, lvl: number): string {
  const diff = next - cur;
  if (diff <= 0) return '';
  if (!inBitfield && Math.ceil(cur / (nextAlign * 8)) * nextAlign * 8 === next) return '';
  let s = '';
  let off = cur;
  while (off < next) {
    const rem = next - off;
    let type: string;
    let bits: number;
    const chip = (w: number): number => {
      const inWord = off % w;
      return inWord ? Math.min(rem, w - inWord) : Math.min(rem, w);
    };
    if (rem > 32) {
      type = 'long';
      bits = chip(64);
    } else if (rem > 16) {
      type = 'int';
      bits = chip(32);
    } else if (rem > 8) {
      type = 'short';
      bits = chip(16);
    } else {
      type = 'char';
      bits = chip(8);
    }
    s += `\n${pfx(lvl)}${type}: ${bits};`;
    off += bits;
  }
  return s;
}

class DeclPrinter {
  constructor(
    private readonly btf: Btf,
    private readonly stripMods: boolean,
  ) {}

  decl(id: number, fname: string, lvl: number, depth = 0): string {
    if (depth > MAX_DEPTH) fail(id, 'type chain too deep');
    const stack: number[] = [];
    let cur = id;
    for (;;) {
      if (stack.length > MAX_DEPTH) fail(id, 'type chain too deep');
      const t = typeAt(this.btf, cur);
      if (isMod(t)) {
        if (!this.stripMods) stack.push(cur);
        cur = (t as { type: number }).type;
        continue;
      }
      if (t.kind === 'TYPE_TAG') {
        cur = t.type;
        continue;
      }
      stack.push(cur);
      if (t.kind === 'PTR' || t.kind === 'FUNC_PROTO') {
        cur = t.type;
        continue;
      }
      if (t.kind === 'ARRAY') {
        cur = t.elemType;
        continue;
      }
      break;
    }
    return this.chain(stack, fname, lvl, depth);
  }

  private mods(stack: number[]): string {
    let s = '';
    while (stack.length) {
      const t = typeAt(this.btf, stack[stack.length - 1]);
      if (!isMod(t)) break;
      stack.pop();
      s += t.kind === 'CONST' ? 'const ' : t.kind === 'VOLATILE' ? 'volatile ' : 'restrict ';
    }
    return s;
  }

  private chain(stack: number[], fname: string, lvl: number, depth: number): string {
    let s = '';
    let lastWasPtr = true;
    while (stack.length) {
      const id = stack.pop() as number;
      const t = typeAt(this.btf, id);
      switch (t.kind) {
        case 'VOID':
          s += this.mods(stack) + 'void';
          break;
        case 'INT':
        case 'FLOAT':
        case 'TYPEDEF':
          s += this.mods(stack) + t.name;
          break;
        case 'STRUCT':
        case 'UNION':
          s += this.mods(stack);
          s += t.name ? `${t.kind === 'STRUCT' ? 'struct' : 'union'} ${t.name}` : this.composite(t, lvl, depth);
          break;
        case 'ENUM':
        case 'ENUM64':
          s += this.mods(stack);
          s += t.name ? `enum ${t.name}` : this.enumDef(t, lvl);
          break;
        case 'FWD':
          s += this.mods(stack) + `${t.fwdKind} ${t.name}`;
          break;
        case 'PTR':
          s += lastWasPtr ? '*' : ' *';
          break;
        case 'CONST':
          s += ' const';
          break;
        case 'VOLATILE':
          s += ' volatile';
          break;
        case 'RESTRICT':
          s += ' restrict';
          break;
        case 'ARRAY': {
          while (stack.length && isMod(typeAt(this.btf, stack[stack.length - 1]))) stack.pop();
          if (!stack.length) return s + name(fname, lastWasPtr) + `[${t.nelems}]`;
          const multi = typeAt(this.btf, stack[stack.length - 1]).kind === 'ARRAY';
          if (fname && !lastWasPtr) s += ' ';
          if (!multi) s += '(';
          s += this.chain(stack, fname, lvl, depth + 1);
          if (!multi) s += ')';
          return s + `[${t.nelems}]`;
        }
        case 'FUNC_PROTO': {
          s += this.mods(stack);
          if (stack.length) s += ' (' + this.chain(stack, fname, lvl, depth + 1) + ')';
          else s += name(fname, lastWasPtr);
          const ps = t.params;
          if (ps.length === 0) return s + '(void)';
          const parts = ps.map((p, i) =>
            i === ps.length - 1 && p.type === 0 && ps.length > 1 ? '...' : this.decl(p.type, '', lvl, depth + 1),
          );
          return s + '(' + parts.join(', ') + ')';
        }
        default:
          return fail(id, `unexpected ${t.kind} in a declaration`);
      }
      lastWasPtr = t.kind === 'PTR';
    }
    return s + name(fname, lastWasPtr);
  }

  private composite(t: Extract<BtfType, { kind: 'STRUCT' | 'UNION' }>, lvl: number, depth: number): string {
    const isStruct = t.kind === 'STRUCT';
    const packed = btfAlignOf(this.btf, t.id) === 1 && t.members.length > 0 && t.size > 1;
    let s = `${isStruct ? 'struct' : 'union'} {`;
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const align = packed ? 1 : btfAlignOf(this.btf, m.type);
      const sz = m.bitfieldSize;
      const inBitfield = prevBitfield && sz > 0;
      if (isStruct) s += bitPadding(off, m.bitOffset, align, inBitfield, lvl + 1);
      s += `\n${pfx(lvl + 1)}` + this.decl(m.type, m.name, lvl + 1, depth + 1);
      if (sz) {
        s += `: ${sz}`;
        off = m.bitOffset + sz;
      } else {
        off = m.bitOffset + 8 * sizeOf(this.btf, m.type);
      }
      prevBitfield = sz > 0;
      s += ';';
    }
    if (isStruct) s += bitPadding(off, t.size * 8, packed ? 1 : btfAlignOf(this.btf, t.id), false, lvl + 1);
    if (t.members.length) s += '\n';
    s += `${pfx(lvl)}}`;
    return packed ? s + ' __attribute__((packed))' : s;
  }

  private enumDef(t: Extract<BtfType, { kind: 'ENUM' | 'ENUM64' }>, lvl: number): string {
    let s = 'enum {';
    const es =
      t.kind === 'ENUM'
        ? t.enumerators.map((e) => [e.name, String(e.value)])
        : t.enumerators.map((e) => [
            e.name,
            String(t.signed ? BigInt.asIntN(64, e.value) : BigInt.asUintN(64, e.value)) + (t.signed ? 'LL' : 'ULL'),
          ]);
    for (const [n, v] of es) s += `\n${pfx(lvl + 1)}${n} = ${v},`;
    if (es.length) s += '\n';
    return s + `${pfx(lvl)}}`;
  }
}

function name(fname: string, lastWasPtr: boolean): string {
  return lastWasPtr ? fname : (fname ? ' ' : '') + fname;
}

/**
 * The declaration of a variable of type `typeId` named `fname`, at indent level `lvl` (nested
 * lines of anonymous types get `lvl + 1` tabs). stripMods drops const/volatile/restrict.
 */
export function btfDecl(btf: Btf, typeId: number, fname: string, lvl: number, stripMods: boolean): string {
  return new DeclPrinter(btf, stripMods).decl(typeId, fname, lvl);
}
