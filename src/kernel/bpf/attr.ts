/**
 * Reading a bpf_attr the way __sys_bpf does: bytes past sizeof(union bpf_attr)
 * must be zero (E2BIG), the rest is copied into a zeroed union, and bytes past the
 * command's last field must be zero (CHECK_ATTR: EINVAL). Also: decoding an attr
 * for the trace, and memory access that turns faults into EFAULT.
 */
import {
  BTF_LOAD_ATTR, MAP_CREATE_EXCL_ATTR, MAP_FREEZE_ATTR, MAP_UPDATE_ELEM_ATTR, OBJ_GET_INFO_BY_FD_ATTR, PROG_LOAD_SIGNED_ATTR,
  type StructLayout,
} from '../../loader/uapi/index.js';
import { isVmError } from '../errors.js';
import type { Memory } from '../vm/index.js';
import { E, fail } from './errno.js';
import type { KernelProfile } from '../profile/index.js';

export const CMD = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4, PROG_LOAD: 5,
  OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_RUN: 10, PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12,
  PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14, OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, RAW_TRACEPOINT_OPEN: 17,
  BTF_LOAD: 18, BTF_GET_FD_BY_ID: 19, TASK_FD_QUERY: 20, MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22,
  BTF_GET_NEXT_ID: 23, LINK_CREATE: 28,
} as const;

export const CMD_NAME: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(CMD).map(([k, v]) => [v, k]));

/** BTF_LOAD as 6.18 knows it (btf_log_true_size, btf_flags, btf_token_fd). */
export const BTF_LOAD_FULL_ATTR = {
  name: 'bpf_attr(BTF_LOAD)',
  size: 40,
  fields: { ...BTF_LOAD_ATTR.fields, btf_log_true_size: { offset: 28, type: 'u32' }, btf_flags: { offset: 32, type: 'u32' }, btf_token_fd: { offset: 36, type: 's32' } },
} as const satisfies StructLayout<string>;

/** The layout the trace decodes a command's attr with, and offsetofend of the command's last field. */
export function layoutOf(cmd: number, p: KernelProfile): { layout: StructLayout<string>; last: number } | null {
  switch (cmd) {
    case CMD.MAP_CREATE: return { layout: MAP_CREATE_EXCL_ATTR, last: p.exclusiveMaps ? 92 : 80 };
    case CMD.MAP_LOOKUP_ELEM: case CMD.MAP_UPDATE_ELEM: case CMD.MAP_DELETE_ELEM: return { layout: MAP_UPDATE_ELEM_ATTR, last: 32 };
    case CMD.MAP_FREEZE: return { layout: MAP_FREEZE_ATTR, last: 4 };
    case CMD.PROG_LOAD: return { layout: PROG_LOAD_SIGNED_ATTR, last: p.signature === 'none' ? 152 : 168 };
    case CMD.BTF_LOAD: return { layout: BTF_LOAD_FULL_ATTR, last: 40 };
    case CMD.OBJ_GET_INFO_BY_FD: return { layout: OBJ_GET_INFO_BY_FD_ATTR, last: 16 };
    default: return null;
  }
}

/** Memory access for commands: a fault reading or writing "user" memory is EFAULT. */
export class UserMemory {
  readonly mem: Memory;
  constructor(mem: Memory) { this.mem = mem; }

  read(addr: bigint, len: number, what: string): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    if (addr === 0n) fail(E.EFAULT, `${what}: NULL pointer`);
    try {
      return this.mem.read(addr, len);
    } catch (e) {
      if (isVmError(e)) fail(E.EFAULT, `${what}: ${e.message}`);
      throw e;
    }
  }

  write(addr: bigint, bytes: Uint8Array, what: string): void {
    try {
      this.mem.write(addr, bytes);
    } catch (e) {
      if (isVmError(e)) fail(E.EFAULT, `${what}: ${e.message}`);
      throw e;
    }
  }

  /** strncpy_from_user of at most max-1 bytes: the string up to its NUL (or truncated). */
  string(addr: bigint, max: number, what: string): string {
    if (addr === 0n) fail(E.EFAULT, `${what}: NULL pointer`);
    let out = '';
    for (let i = 0; i < max - 1; i++) {
      const b = this.read(addr + BigInt(i), 1, what)[0]!;
      if (b === 0) break;
      out += String.fromCharCode(b);
    }
    return out;
  }
}

/** The attr as the command sees it: profile.attrSize bytes, zero-extended. */
export function readAttr(um: UserMemory, cmd: number, addr: bigint, size: number, p: KernelProfile): Uint8Array {
  const buf = new Uint8Array(p.attrSize);
  if (size > p.attrSize) {
    const tail = um.read(addr + BigInt(p.attrSize), size - p.attrSize, 'attr tail');
    if (tail.some((b) => b !== 0)) fail(E.E2BIG, `attr size ${size}: non-zero bytes past sizeof(union bpf_attr) = ${p.attrSize}`);
  }
  buf.set(um.read(addr, Math.min(size, p.attrSize), 'attr'));
  const l = layoutOf(cmd, p);
  if (l) {
    for (let i = l.last; i < buf.length; i++) {
      if (buf[i] !== 0) fail(E.EINVAL, `attr byte ${i} is past the last field of ${CMD_NAME[cmd]} (offsetofend ${l.last}) and not zero`);
    }
  }
  return buf;
}

export type Decoded = Record<string, number | string>;

const utf8 = new TextDecoder();

/**
 * The attr's fields for the trace: numbers, names, pointers as 0x-hex strings; only fields inside
 * `size`, each read from the attr zero-extended to the layout's size (as loader/uapi readStruct reads it).
 */
export function decodeAttr(cmd: number, attr: Uint8Array, size: number, p: KernelProfile, order: 'le' | 'be'): Decoded {
  const l = layoutOf(cmd, p);
  if (!l) return {};
  const bytes = attr.length >= l.layout.size ? attr : (() => { const b = new Uint8Array(l.layout.size); b.set(attr); return b; })();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = order === 'le';
  const end = Math.min(size, l.last);
  const out: Decoded = {};
  for (const k of Object.keys(l.layout.fields)) {
    const f = l.layout.fields[k]!;
    if (f.offset >= end) continue;
    const at = f.offset;
    switch (f.type) {
      case 'u8': if (at + 1 <= bytes.length) out[k] = dv.getUint8(at); break;
      case 'u16': if (at + 2 <= bytes.length) out[k] = dv.getUint16(at, le); break;
      case 'u32': if (at + 4 <= bytes.length) out[k] = dv.getUint32(at, le); break;
      case 's32': if (at + 4 <= bytes.length) out[k] = dv.getInt32(at, le); break;
      case 'u64': if (at + 8 <= bytes.length) out[k] = `0x${dv.getBigUint64(at, le).toString(16)}`; break;
      case 'name': {
        const n = f.size ?? 16;
        if (at + n > bytes.length) break;
        const raw = bytes.subarray(at, at + n);
        const z = raw.indexOf(0);
        out[k] = utf8.decode(z < 0 ? raw : raw.subarray(0, z));
        break;
      }
    }
  }
  return out;
}
