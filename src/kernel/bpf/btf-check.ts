/**
 * BTF_LOAD validation: the kernel's rules (kernel/bpf/btf.c btf_parse) on top of
 * parseBtf's structural checks: header (magic, version, flags, section layout),
 * string section, per-kind meta (vlen, kind_flag, names, sizes), member and
 * variable placement, and type resolution without loops. Every refusal is a
 * SysError with the errno btf_parse returns.
 */
import { parseBtf, type Btf, type BtfType } from '../../loader/btf/index.js';
import { isLoaderError } from '../../loader/errors.js';
import { UAPI_STRUCT, structReader } from '../../loader/uapi/index.js';
import { E, fail } from './errno.js';

const BTF_MAX_SIZE = 16 * 1024 * 1024;
const HEADER = UAPI_STRUCT.btf_header;
/** sizeof(struct btf_header). */
const HDR = HEADER.size;
const KSYM_NAME_LEN = 512;

function validIdent(s: string): boolean {
  return s.length < KSYM_NAME_LEN && /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}
function validSection(s: string): boolean {
  return s.length > 0 && s.length < KSYM_NAME_LEN && /^[\x21-\x7e]+$/.test(s);
}

function header(bytes: Uint8Array): { le: boolean; typeOff: number; typeLen: number; strOff: number; strLen: number; hdrLen: number } {
  if (bytes.length < HEADER.fields.hdr_len.offset + 4) fail(E.EINVAL, 'btf: hdr_len not found');
  const magicLe = structReader(HEADER, bytes, 'le').u32('magic');
  const le = magicLe === 0xeb9f;
  // The kernel only accepts its own byte order; the model accepts the loader's (both are "native" for it).
  if (!le && structReader(HEADER, bytes, 'be').u32('magic') !== 0xeb9f) fail(E.EINVAL, `btf: invalid magic 0x${magicLe.toString(16)}`);
  // Each field is read when the checks above it have shown the bytes are there.
  const h = structReader(HEADER, bytes, le ? 'le' : 'be');
  const hdrLen = h.u32('hdr_len');
  if (hdrLen < HDR) fail(E.EINVAL, `btf: hdr_len ${hdrLen} < ${HDR}`);
  if (hdrLen > bytes.length) fail(E.EINVAL, `btf: hdr_len ${hdrLen} past the data (${bytes.length})`);
  for (let i = HDR; i < hdrLen; i++) if (bytes[i] !== 0) fail(E.E2BIG, 'btf: unsupported btf_header (non-zero tail)');
  if (h.u32('version') !== 1) fail(E.ENOTSUPP, `btf: unsupported version ${h.u32('version')}`);
  if (h.u32('flags') !== 0) fail(E.ENOTSUPP, `btf: unsupported flags ${h.u32('flags')}`);
  if (bytes.length === hdrLen) fail(E.EINVAL, 'btf: no data');
  const typeOff = h.u32('type_off'),
    typeLen = h.u32('type_len'),
    strOff = h.u32('str_off'),
    strLen = h.u32('str_len');
  const data = bytes.length - hdrLen;
  if (typeOff % 4) fail(E.EINVAL, 'btf: unaligned type_off');
  // btf_check_sec_info: sections sorted, no gaps before or between, no overlap, covering the data.
  const secs = [
    { off: typeOff, len: typeLen },
    { off: strOff, len: strLen },
  ].sort((a, b) => a.off - b.off);
  let expect = 0;
  for (const s of secs) {
    if (expect !== s.off) fail(E.EINVAL, s.off < expect ? 'btf: section overlap found' : 'btf: unsupported section found');
    if (s.off + s.len > data) fail(E.EINVAL, 'btf: total section length too long');
    expect = s.off + s.len;
  }
  if (expect !== data) fail(E.EINVAL, 'btf: unsupported section found');
  if (strLen === 0 || strLen > 0x7fffffff) fail(E.EINVAL, 'btf: invalid string section');
  if (strOff < typeOff) fail(E.EINVAL, 'btf: string section is not after the type section');
  const str = bytes.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
  if (str[0] !== 0 || str[str.length - 1] !== 0) fail(E.EINVAL, 'btf: invalid string section');
  return { le, typeOff, typeLen, strOff, strLen, hdrLen };
}

function checkType(btf: Btf, t: BtfType, typeOf: (id: number) => BtfType): void {
  const where = () => `btf: [${t.id}] ${t.kind} '${t.name}'`; // only for a refusal
  const bad = (why: string): never => fail(E.EINVAL, `${where()}: ${why}`);
  const noName = () => {
    if (t.name !== '') bad('invalid name');
  };
  const ident = (optional: boolean) => {
    if (t.name === '' ? !optional : !validIdent(t.name)) bad('invalid name');
  };
  if (t.kind === 'VOID') return;
  if (t.rawVlen !== undefined) bad('vlen != 0');
  if (t.rawSizeOrType !== undefined && t.kind === 'ARRAY') bad('size != 0');
  switch (t.kind) {
    case 'INT':
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      if (![1, 2, 4, 8, 16].includes(t.size)) bad('unsupported size');
      if (t.encoding && t.encoding !== 1 && t.encoding !== 2 && t.encoding !== 4) fail(E.ENOTSUPP, `${where()}: unsupported encoding`);
      if (t.name === '') bad('invalid name');
      return;
    case 'PTR':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      noName();
      return;
    case 'TYPEDEF':
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      ident(false);
      return;
    case 'TYPE_TAG':
      if (t.name === '') bad('invalid name');
      return;
    case 'ARRAY': {
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      noName();
      const ix = typeOf(btf.resolve(t.indexType));
      if (ix.kind !== 'INT' && ix.kind !== 'ENUM' && ix.kind !== 'ENUM64') bad('invalid index');
      const el = typeOf(btf.resolve(t.elemType));
      if (el.kind === 'VOID' || el.kind === 'FUNC' || el.kind === 'FUNC_PROTO' || el.kind === 'DATASEC' || el.kind === 'VAR')
        bad('invalid elem');
      return;
    }
    case 'STRUCT':
    case 'UNION': {
      ident(true);
      let last = -1;
      for (const m of t.members) {
        if (m.name !== '' && !validIdent(m.name)) bad(`invalid member name '${m.name}'`);
        if (t.kind === 'STRUCT' && m.bitOffset < last) bad('member bits_offset out of order');
        if (m.type === 0) bad(`member '${m.name}': invalid type_id`);
        const mt = typeOf(btf.resolve(m.type));
        if (['VOID', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FWD'].includes(mt.kind)) bad(`member '${m.name}': invalid member`);
        const bits = m.bitfieldSize || sizeBits(btf, m.type);
        if (m.bitOffset + bits > t.size * 8) bad(`member '${m.name}' exceeds struct_size`);
        last = m.bitOffset;
      }
      return;
    }
    case 'ENUM':
    case 'ENUM64':
      ident(true);
      if (![1, 2, 4, 8].includes(t.size)) bad('unexpected size');
      if (t.kind === 'ENUM' && t.size > 4) bad('unexpected size');
      for (const e of t.enumerators) if (!validIdent(e.name)) bad(`invalid enumerator name '${e.name}'`);
      return;
    case 'FWD':
      ident(false);
      return;
    case 'FUNC': {
      ident(false);
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      if (t.linkage > 2) bad('invalid func linkage');
      if (btf.kind(t.type) !== 'FUNC_PROTO') bad('invalid type_id');
      return;
    }
    case 'FUNC_PROTO':
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      noName();
      t.params.forEach((p, i) => {
        if (p.type === 0 && i !== t.params.length - 1) bad(`param ${i}: invalid arg#${i + 1}`);
        if (p.type === 0 && p.name !== '') bad('invalid varargs name');
        if (p.name !== '' && !validIdent(p.name)) bad(`invalid arg name '${p.name}'`);
        if (p.type !== 0) {
          const pt = typeOf(btf.resolve(p.type));
          if (pt.kind === 'VOID' || pt.kind === 'FUNC' || pt.kind === 'DATASEC' || pt.kind === 'VAR') bad(`invalid arg#${i + 1}`);
        }
      });
      return;
    case 'VAR': {
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      // Static variables keep their function's prefix ("func.var"): the kernel allows '.' here.
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(t.name) || t.name.length >= KSYM_NAME_LEN) bad('invalid name');
      if (t.linkage !== 0 && t.linkage !== 1) bad('linkage not supported');
      const vt = typeOf(btf.resolve(t.type));
      if (
        vt.kind === 'VOID' ||
        vt.kind === 'FUNC' ||
        vt.kind === 'FUNC_PROTO' ||
        vt.kind === 'DATASEC' ||
        vt.kind === 'VAR' ||
        vt.kind === 'FWD'
      )
        bad('invalid type');
      return;
    }
    case 'DATASEC': {
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      if (!validSection(t.name)) bad('invalid name');
      if (t.size === 0) bad('invalid size');
      let end = 0;
      for (const v of t.vars) {
        if (btf.kind(v.type) !== 'VAR') bad('not a VAR kind member');
        if (v.offset < end) bad('invalid offset');
        if (v.size === 0 || v.offset + v.size > t.size) bad('invalid offset+size');
        if (sizeBits(btf, typeOf(v.type).kind === 'VAR' ? (typeOf(v.type) as { type: number }).type : v.type) / 8 > v.size)
          bad('invalid size');
        end = v.offset + v.size;
      }
      return;
    }
    case 'FLOAT':
      if (t.kindFlag) bad('invalid btf_info kind_flag');
      ident(false);
      if (![2, 4, 8, 12, 16].includes(t.size)) bad('invalid type_size');
      return;
    case 'DECL_TAG': {
      if (t.name === '') bad('invalid name');
      if (t.componentIdx < -1) bad('invalid component_idx');
      const target = typeOf(t.type);
      if (!['STRUCT', 'UNION', 'FUNC', 'VAR', 'TYPEDEF'].includes(target.kind)) bad('invalid type');
      if (t.componentIdx >= 0) {
        const n =
          target.kind === 'STRUCT' || target.kind === 'UNION'
            ? target.members.length
            : target.kind === 'FUNC'
              ? (typeOf(target.type) as { params: unknown[] }).params.length
              : 0;
        if (t.componentIdx >= n) bad('invalid component_idx');
      }
      return;
    }
  }
}

function sizeBits(btf: Btf, id: number): number {
  try {
    return btf.sizeOf(id) * 8;
  } catch {
    fail(E.EINVAL, `btf: [${id}] size cannot be resolved`);
  }
}

/** Resolution without loops: every chain of non-pointer references must end. */
function checkLoops(btf: Btf, typeOf: (id: number) => BtfType): void {
  const state = new Uint8Array(btf.totalCount); // 0 new, 1 on stack, 2 done
  const edges = (t: BtfType): number[] => {
    switch (t.kind) {
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG':
      case 'VAR':
        return [t.type];
      case 'ARRAY':
        return [t.elemType];
      case 'STRUCT':
      case 'UNION':
        return t.members.map((m) => m.type);
      case 'DATASEC':
        return t.vars.map((v) => v.type);
      default:
        return [];
    }
  };
  for (let root = btf.startId; root < btf.totalCount; root++) {
    if (state[root]) continue;
    const stack: [number, number[]][] = [[root, edges(typeOf(root))]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const next = top[1].pop();
      if (next === undefined) {
        state[top[0]] = 2;
        stack.pop();
        continue;
      }
      if (next < btf.startId || state[next] === 2) continue;
      if (state[next] === 1) fail(E.EINVAL, `btf: [${next}] loop in type references`);
      state[next] = 1;
      stack.push([next, edges(typeOf(next))]);
    }
  }
}

/** Validates BTF bytes as BTF_LOAD does; returns the parsed BTF. */
export function checkBtf(bytes: Uint8Array): Btf {
  if (bytes.length > BTF_MAX_SIZE) fail(E.E2BIG, `btf: ${bytes.length} bytes is more than ${BTF_MAX_SIZE}`);
  header(bytes);
  let btf: Btf;
  try {
    btf = parseBtf(bytes);
  } catch (e) {
    if (isLoaderError(e)) fail(E.EINVAL, e.message);
    throw e;
  }
  // Each type decoded once (Btf.type decodes afresh on every call; nothing here changes a type).
  const decoded: (BtfType | undefined)[] = [];
  const typeOf = (id: number): BtfType => (decoded[id] ??= btf.type(id));
  checkLoops(btf, typeOf);
  for (let id = btf.startId; id < btf.totalCount; id++) {
    try {
      checkType(btf, typeOf(id), typeOf);
    } catch (e) {
      if (isLoaderError(e)) fail(E.EINVAL, e.message);
      throw e;
    }
  }
  return btf;
}
