/**
 * `.kconfig` and `.ksyms` externs, collected and ordered as libbpf does.
 *
 * An extern is an undefined GLOBAL or WEAK NOTYPE symbol. Its BTF (VAR or FUNC with extern
 * linkage) says where it lives: DATASEC `.kconfig` (a value libbpf computes into the
 * `.kconfig` map) or `.ksyms` (a kernel symbol: typed or typeless variable, or a kfunc).
 * Order: kconfig before ksym; kconfig by alignment descending, size ascending, then name;
 * ksyms by name. Kconfig values are laid out in that order at aligned offsets.
 */
import { LoaderError } from '../errors.js';
import type { Btf } from '../btf/index.js';
import { SHN, STB, STT, type ElfSymbol } from '../elf/index.js';
import type { ExternSpec, KconfigKind } from './spec.js';
import { skipModsAndTypedefs } from './btfmaps.js';

const BTF_LINKAGE_EXTERN = 2;
const BTF_INT_SIGNED = 1;
const BTF_INT_BOOL = 4;

export function isExternSymbol(sym: ElfSymbol): boolean {
  return sym.shndx === SHN.UNDEF && (sym.bind === STB.GLOBAL || sym.bind === STB.WEAK) && sym.type === STT.NOTYPE && sym.name !== '';
}

function externError(name: string, message: string, extra: Record<string, unknown> = {}): LoaderError {
  return new LoaderError('OBJECT_MALFORMED', `extern '${name}': ${message}`, { symbol: name, ...extra });
}

/** Kconfig value kind, as libbpf's find_kcfg_type decides it. */
function kconfigKind(btf: Btf, id: number): { kind: KconfigKind; signed: boolean } {
  const t = skipModsAndTypedefs(btf, id);
  switch (t.kind) {
    case 'INT': {
      const signed = (t.encoding & BTF_INT_SIGNED) !== 0;
      if (t.encoding & BTF_INT_BOOL) return { kind: t.size === 1 ? 'bool' : 'unknown', signed };
      if (t.size === 1) return { kind: 'char', signed };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1)) !== 0) return { kind: 'unknown', signed };
      return { kind: 'int', signed };
    }
    case 'ENUM':
      if (t.size !== 4) return { kind: 'unknown', signed: false };
      return { kind: t.name === 'libbpf_tristate' ? 'tristate' : 'unknown', signed: false };
    case 'ARRAY': {
      if (t.nelems === 0) return { kind: 'unknown', signed: false };
      return { kind: kconfigKind(btf, t.elemType).kind === 'char' ? 'char_array' : 'unknown', signed: false };
    }
    default:
      return { kind: 'unknown', signed: false };
  }
}

/** Alignment of a type as libbpf's btf__align_of computes it (pointers are 8 bytes). */
export function alignOf(btf: Btf, id: number): number {
  const t = skipModsAndTypedefs(btf, id);
  switch (t.kind) {
    case 'INT':
    case 'ENUM':
    case 'ENUM64':
    case 'FLOAT':
      return Math.min(8, Math.max(1, t.size));
    case 'PTR':
      return 8;
    case 'ARRAY':
      return alignOf(btf, t.elemType);
    case 'STRUCT':
    case 'UNION': {
      let a = 1;
      for (const m of t.members) a = Math.max(a, alignOf(btf, m.type));
      return a;
    }
    default:
      return 1;
  }
}

/** Index of extern VAR/FUNC names → BTF id and containing DATASEC name. */
function externBtfIndex(btf: Btf): Map<string, { id: number; section: string | null; func: boolean }> {
  const out = new Map<string, { id: number; section: string | null; func: boolean }>();
  const inSec = new Map<number, string>();
  for (let id = btf.startId; id < btf.startId + btf.typeCount; id++) {
    const t = btf.type(id);
    if (t.kind === 'DATASEC') for (const v of t.vars) inSec.set(v.type, t.name);
  }
  for (let id = btf.startId; id < btf.startId + btf.typeCount; id++) {
    const t = btf.type(id);
    if ((t.kind === 'VAR' || t.kind === 'FUNC') && t.linkage === BTF_LINKAGE_EXTERN && !out.has(t.name)) {
      out.set(t.name, { id, section: inSec.get(id) ?? null, func: t.kind === 'FUNC' });
    }
  }
  return out;
}

export function collectExterns(symbols: ElfSymbol[], btf: Btf | null): ExternSpec[] {
  const syms = symbols.filter(isExternSymbol);
  if (syms.length === 0) return [];
  if (!btf) throw externError(syms[0].name, 'BTF is required for externs, but the object has no .BTF section', { section: '.BTF' });
  const index = externBtfIndex(btf);
  const out: ExternSpec[] = [];
  for (const sym of syms) {
    const found = index.get(sym.name);
    if (!found) throw externError(sym.name, 'no BTF VAR or FUNC with extern linkage', { section: '.BTF' });
    const weak = sym.bind === STB.WEAK;
    if (found.section === '.kconfig') {
      if (found.func) throw externError(sym.name, 'a function cannot be a kconfig extern', { section: '.kconfig' });
      const v = btf.type(found.id);
      const varType = v.kind === 'VAR' ? v.type : 0;
      const { kind, signed } = kconfigKind(btf, varType);
      if (kind === 'unknown')
        throw new LoaderError('OBJECT_UNSUPPORTED', `extern (kcfg) '${sym.name}': type is unsupported`, {
          symbol: sym.name,
          section: '.kconfig',
          typeId: varType,
        });
      let size: number;
      try {
        size = btf.sizeOf(varType);
      } catch (e) {
        throw externError(sym.name, `cannot size type [${varType}]: ${(e as Error).message}`, { typeId: varType });
      }
      out.push({
        name: sym.name,
        kind: 'kconfig',
        weak,
        btfId: found.id,
        func: false,
        typed: true,
        kconfig: { kind, size, align: alignOf(btf, varType), signed, offset: 0 },
      });
    } else if (found.section === '.ksyms') {
      let typed = true;
      if (!found.func) {
        const v = btf.type(found.id);
        typed = v.kind === 'VAR' && skipModsAndTypedefs(btf, v.type).kind !== 'VOID';
      }
      out.push({ name: sym.name, kind: 'ksym', weak, btfId: found.id, func: found.func, typed, kconfig: null });
    } else {
      throw new LoaderError('OBJECT_UNSUPPORTED', `extern '${sym.name}' is in unsupported section ${found.section ?? '(none)'}`, {
        symbol: sym.name,
        section: found.section ?? undefined,
        want: '.kconfig or .ksyms',
      });
    }
  }
  out.sort(compareExterns);
  let off = 0;
  for (const e of out) {
    if (!e.kconfig) continue;
    e.kconfig.offset = Math.ceil(off / e.kconfig.align) * e.kconfig.align;
    off = e.kconfig.offset + e.kconfig.size;
  }
  return out;
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareExterns(a: ExternSpec, b: ExternSpec): number {
  if (a.kind !== b.kind) return a.kind === 'kconfig' ? -1 : 1;
  if (a.kconfig && b.kconfig) {
    if (a.kconfig.align !== b.kconfig.align) return a.kconfig.align > b.kconfig.align ? -1 : 1;
    if (a.kconfig.size !== b.kconfig.size) return a.kconfig.size < b.kconfig.size ? -1 : 1;
  }
  return byteCompare(a.name, b.name);
}

/** Size of the `.kconfig` map value: end of the last laid-out kconfig extern. */
export function kconfigSize(externs: ExternSpec[]): number {
  let end = 0;
  for (const e of externs) if (e.kconfig) end = Math.max(end, e.kconfig.offset + e.kconfig.size);
  return end;
}
