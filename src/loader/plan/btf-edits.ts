/**
 * The BTF bytes libbpf hands to BTF_LOAD in gen mode: the object's .BTF after the
 * deterministic edits of collect_externs (dummy_ksym, .ksyms/.kconfig DATASEC rewrite),
 * fixup_btf (DATASEC sizes/offsets from ELF, hidden VARs made static, secinfos sorted by
 * offset) and, at load, hidden global subprograms made static. Works on the raw bytes so
 * that everything libbpf leaves alone stays byte-identical.
 */
import { LoaderError } from '../errors.js';
import type { ElfFile, ElfSymbol } from '../elf/index.js';
import type { ExternSpec } from '../object/index.js';
import { BTF_KIND, UAPI_STRUCT } from '../uapi/index.js';

const { INT: KIND_INT, FUNC: KIND_FUNC, FUNC_PROTO: KIND_FUNC_PROTO, VAR: KIND_VAR, DATASEC: KIND_DATASEC } = BTF_KIND;
/** sizeof the UAPI records that follow a struct btf_type. */
const S = {
  type: UAPI_STRUCT.btf_type.size,
  u32: 4,
  array: UAPI_STRUCT.btf_array.size,
  member: UAPI_STRUCT.btf_member.size,
  enum: UAPI_STRUCT.btf_enum.size,
  param: UAPI_STRUCT.btf_param.size,
  secinfo: UAPI_STRUCT.btf_var_secinfo.size,
  enum64: UAPI_STRUCT.btf_enum64.size,
} as const;
const STT_OBJECT = 1,
  STT_FUNC = 2,
  STB_GLOBAL = 1,
  STB_WEAK = 2,
  STV_INTERNAL = 1,
  STV_HIDDEN = 2;

const utf8 = new TextDecoder();

interface RawType {
  id: number;
  pos: number;
  kind: number;
  vlen: number;
  nameOff: number;
}

class RawBtf {
  bytes: Uint8Array;
  dv: DataView;
  le: boolean;
  hdrLen: number;
  typeStart: number;
  typeLen: number;
  strStart: number;
  strLen: number;
  types: RawType[] = [];

  constructor(src: Uint8Array) {
    if (src.length < 24)
      throw new LoaderError('BTF_MALFORMED', `btf: ${src.length} bytes is shorter than the header`, { got: src.length, want: 24 });
    // A copy of its own (a Node Buffer's slice() is a view into a larger pool or file buffer).
    this.bytes = new Uint8Array(src);
    this.dv = new DataView(this.bytes.buffer);
    const magicLe = this.dv.getUint16(0, true);
    if (magicLe === 0xeb9f) this.le = true;
    else if (magicLe === 0x9feb) this.le = false;
    else throw new LoaderError('BTF_MALFORMED', `btf: bad magic 0x${magicLe.toString(16)}`, { field: 'magic', got: magicLe, want: 0xeb9f });
    this.hdrLen = this.u32(4);
    this.typeStart = this.hdrLen + this.u32(8);
    this.typeLen = this.u32(12);
    this.strStart = this.hdrLen + this.u32(16);
    this.strLen = this.u32(20);
    if (this.typeStart + this.typeLen > this.bytes.length || this.strStart + this.strLen > this.bytes.length) {
      throw new LoaderError('BTF_MALFORMED', 'btf: type or string section past end of data', { got: this.bytes.length });
    }
    let pos = this.typeStart;
    const end = this.typeStart + this.typeLen;
    let id = 1;
    while (pos < end) {
      if (pos + S.type > end) throw new LoaderError('BTF_MALFORMED', `btf: type ${id} truncated`, { typeId: id, offset: pos });
      const info = this.u32(pos + 4);
      const kind = (info >>> 24) & 0x1f,
        vlen = info & 0xffff;
      this.types.push({ id, pos, kind, vlen, nameOff: this.u32(pos) });
      pos += S.type + extraSize(kind, vlen);
      id++;
    }
  }

  u32(at: number): number {
    return this.dv.getUint32(at, this.le);
  }
  setU32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, this.le);
  }
  type(id: number): RawType {
    const t = this.types[id - 1];
    if (!t) throw new LoaderError('BTF_NOT_FOUND', `btf: no type with id ${id}`, { typeId: id });
    return t;
  }
  str(off: number): string {
    const at = this.strStart + off;
    if (off >= this.strLen) return '';
    let e = at;
    while (e < this.strStart + this.strLen && this.bytes[e] !== 0) e++;
    return utf8.decode(this.bytes.subarray(at, e));
  }
  name(id: number): string {
    return this.str(this.type(id).nameOff);
  }
  findDatasec(name: string): RawType | undefined {
    return this.types.find((t) => t.kind === KIND_DATASEC && this.str(t.nameOff) === name);
  }
  setLinkage(t: RawType, linkage: number): void {
    // FUNC keeps linkage in vlen; VAR in the word after the common header.
    if (t.kind === KIND_FUNC) this.setU32(t.pos + 4, (this.u32(t.pos + 4) & ~0xffff) | linkage);
    else if (t.kind === KIND_VAR) this.setU32(t.pos + 12, linkage);
  }
}

function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case BTF_KIND.INT:
      return S.u32;
    case BTF_KIND.VAR:
      return UAPI_STRUCT.btf_var.size;
    case BTF_KIND.DECL_TAG:
      return UAPI_STRUCT.btf_decl_tag.size;
    case BTF_KIND.ARRAY:
      return S.array;
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION:
      return S.member * vlen;
    case BTF_KIND.ENUM:
      return S.enum * vlen;
    case BTF_KIND.FUNC_PROTO:
      return S.param * vlen;
    case BTF_KIND.DATASEC:
      return S.secinfo * vlen;
    case BTF_KIND.ENUM64:
      return S.enum64 * vlen;
    default:
      return 0;
  }
}

/** First INT type with 32 bits (libbpf find_int_btf_id); 0 when none. */
function findInt32(b: RawBtf): number {
  for (const t of b.types) if (t.kind === KIND_INT && (b.u32(t.pos + 12) & 0xff) === 32) return t.id;
  return 0;
}

/** Offset of an existing whole string `s` in the string section, or -1. */
function findString(b: RawBtf, s: string): number {
  const want = new TextEncoder().encode(s);
  let off = 0;
  while (off < b.strLen) {
    let e = off;
    while (e < b.strLen && b.bytes[b.strStart + e] !== 0) e++;
    if (e - off === want.length && want.every((c, i) => b.bytes[b.strStart + off + i] === c)) return off;
    off = e + 1;
  }
  return -1;
}

export interface BtfEditInput {
  btf: Uint8Array;
  elf: ElfFile;
  externs: readonly ExternSpec[];
  /** Names of global .text subprograms with hidden/internal visibility. */
  hiddenSubprogs: readonly string[];
}

/** The edited BTF bytes, exactly as libbpf's btf__raw_data() returns them in gen mode. */
export function editBtf(input: BtfEditInput): Uint8Array {
  let b = new RawBtf(input.btf);
  const { elf, externs } = input;
  const hasExtern = externs.length > 0;

  // 1a. dummy_ksym: appended when .ksyms holds a FUNC.
  let dummyId = 0;
  let dummyNameOff = 0;
  const ksyms0 = b.findDatasec('.ksyms');
  if (hasExtern && ksyms0 && secinfos(b, ksyms0).some((v) => b.type(v.type).kind === KIND_FUNC)) {
    const intId = findInt32(b);
    ({ btf: b, id: dummyId, nameOff: dummyNameOff } = appendVar(b, 'dummy_ksym', 1, intId));
  }
  // 1b. .ksyms: every entry becomes a 4-byte allocated variable.
  const ksyms = b.findDatasec('.ksyms');
  if (ksyms && externs.some((e) => e.kind === 'ksym')) {
    const intId = findInt32(b);
    secinfos(b, ksyms).forEach((vs, i) => {
      const t = b.type(vs.type);
      const name = b.str(t.nameOff);
      if (!externs.some((e) => e.name === name)) {
        throw new LoaderError('OBJECT_MALFORMED', `btf: .ksyms entry '${name}' has no extern symbol`, { symbol: name, section: '.ksyms' });
      }
      if (t.kind === KIND_FUNC) {
        const proto = b.type(b.u32(t.pos + 8));
        if (proto.kind === KIND_FUNC_PROTO) {
          for (let j = 0; j < proto.vlen; j++) {
            const p = proto.pos + S.type + S.param * j;
            if (b.u32(p) === 0 && b.u32(p + 4) !== 0) b.setU32(p, dummyNameOff);
          }
        }
        b.setU32(vs.at, dummyId);
        b.setLinkage(t, 1);
      } else {
        b.setLinkage(t, 1);
        b.setU32(t.pos + 8, intId);
      }
      b.setU32(vs.at + 4, 4 * i);
      b.setU32(vs.at + 8, 4);
    });
    b.setU32(ksyms.pos + 8, 4 * ksyms.vlen);
  }
  // 1c. .kconfig: externs laid out in sorted order.
  const kcfg = b.findDatasec('.kconfig');
  const kexterns = externs.filter((e) => e.kind === 'kconfig');
  if (kcfg && kexterns.length) {
    let end = 0;
    for (const e of kexterns) end = Math.max(end, (e.kconfig?.offset ?? 0) + (e.kconfig?.size ?? 0));
    b.setU32(kcfg.pos + 8, end);
    for (const vs of secinfos(b, kcfg)) {
      const t = b.type(vs.type);
      const name = b.str(t.nameOff);
      const e = kexterns.find((x) => x.name === name);
      if (!e?.kconfig)
        throw new LoaderError('OBJECT_MALFORMED', `btf: .kconfig entry '${name}' has no extern symbol`, {
          symbol: name,
          section: '.kconfig',
        });
      b.setLinkage(t, 1);
      b.setU32(vs.at + 4, e.kconfig.offset);
    }
  }

  // 2. fixup_btf: every DATASEC. The first global/weak OBJECT symbol of each name, indexed once.
  const objectSyms = new Map<string, ElfSymbol>();
  for (const s of elf.symbols) {
    if (s.type === STT_OBJECT && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && !objectSyms.has(s.name)) objectSyms.set(s.name, s);
  }
  for (const t of b.types) {
    if (t.kind !== KIND_DATASEC) continue;
    const secName = b.str(t.nameOff);
    const list = secinfos(b, t);
    if (secName !== '.kconfig' && secName !== '.ksyms') {
      let fixOffsets = false;
      if (b.u32(t.pos + 8) === 0) {
        const sec = elf.sections.find((s) => s.name === secName);
        if (!sec || !sec.size)
          throw new LoaderError('OBJECT_MALFORMED', `btf: DATASEC '${secName}' has no ELF section to take its size from`, {
            section: secName,
          });
        b.setU32(t.pos + 8, sec.size);
        fixOffsets = true;
      }
      for (const vs of list) {
        const v = b.type(vs.type);
        if (v.kind !== KIND_VAR)
          throw new LoaderError('OBJECT_MALFORMED', `btf: DATASEC '${secName}' holds a non-VAR type ${vs.type}`, {
            section: secName,
            typeId: vs.type,
          });
        const linkage = b.u32(v.pos + 12);
        if (linkage === 0 || linkage === 2) continue;
        const name = b.str(v.nameOff);
        const sym = objectSyms.get(name);
        if (!sym)
          throw new LoaderError('OBJECT_MALFORMED', `btf: DATASEC '${secName}': no ELF symbol for VAR '${name}'`, {
            section: secName,
            symbol: name,
          });
        if (fixOffsets) b.setU32(vs.at + 4, sym.value);
        if (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL) b.setLinkage(v, 0);
      }
    }
    sortSecinfos(b, t);
  }

  // 3. hidden global subprograms: FUNC linkage static (the first FUNC of each name).
  if (input.hiddenSubprogs.length) {
    const funcs = new Map<string, RawType>();
    for (const t of b.types) {
      if (t.kind !== KIND_FUNC) continue;
      const name = b.str(t.nameOff);
      if (!funcs.has(name)) funcs.set(name, t);
    }
    for (const name of input.hiddenSubprogs) {
      const f = funcs.get(name);
      if (f) b.setLinkage(f, 0);
    }
  }
  return b.bytes;
}

/** ELF symbols of global .text functions with hidden or internal visibility. */
export function hiddenSubprograms(elf: ElfFile): string[] {
  const text = elf.sections.find((s) => s.name === '.text');
  if (!text) return [];
  return elf.symbols
    .filter(
      (s) =>
        s.shndx === text.index &&
        s.type === STT_FUNC &&
        (s.bind === STB_GLOBAL || s.bind === STB_WEAK) &&
        (s.visibility === STV_HIDDEN || s.visibility === STV_INTERNAL),
    )
    .map((s) => s.name);
}

function secinfos(b: RawBtf, t: RawType): { at: number; type: number; offset: number; size: number }[] {
  const out = [];
  for (let i = 0; i < t.vlen; i++) {
    const at = t.pos + S.type + S.secinfo * i;
    out.push({ at, type: b.u32(at), offset: b.u32(at + 4), size: b.u32(at + 8) });
  }
  return out;
}

function sortSecinfos(b: RawBtf, t: RawType): void {
  const list = secinfos(b, t);
  const sorted = [...list].sort((x, y) => x.offset - y.offset);
  sorted.forEach((v, i) => {
    const at = t.pos + 12 + 12 * i;
    b.setU32(at, v.type);
    b.setU32(at + 4, v.offset);
    b.setU32(at + 8, v.size);
  });
}

/** Appends `VAR name` (btf__add_var): header | types | new type | strings [+ new string]. */
function appendVar(b: RawBtf, name: string, linkage: number, type: number): { btf: RawBtf; id: number; nameOff: number } {
  let nameOff = findString(b, name);
  const enc = new TextEncoder().encode(name);
  const addStr = nameOff < 0;
  if (addStr) nameOff = b.strLen;
  const typeLen = b.typeLen + 16;
  const strLen = b.strLen + (addStr ? enc.length + 1 : 0);
  const out = new Uint8Array(b.hdrLen + typeLen + strLen);
  out.set(b.bytes.subarray(0, b.hdrLen), 0);
  out.set(b.bytes.subarray(b.typeStart, b.typeStart + b.typeLen), b.hdrLen);
  const dv = new DataView(out.buffer);
  const at = b.hdrLen + b.typeLen;
  dv.setUint32(at, nameOff, b.le);
  dv.setUint32(at + 4, (KIND_VAR << 24) >>> 0, b.le);
  dv.setUint32(at + 8, type, b.le);
  dv.setUint32(at + 12, linkage, b.le);
  out.set(b.bytes.subarray(b.strStart, b.strStart + b.strLen), b.hdrLen + typeLen);
  if (addStr) out.set(enc, b.hdrLen + typeLen + b.strLen);
  dv.setUint32(8, 0, b.le);
  dv.setUint32(12, typeLen, b.le);
  dv.setUint32(16, typeLen, b.le);
  dv.setUint32(20, strLen, b.le);
  const nb = new RawBtf(out);
  return { btf: nb, id: nb.types.length, nameOff };
}
