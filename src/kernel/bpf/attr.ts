/**
 * Reading a bpf_attr the way __sys_bpf does: bytes past sizeof(union bpf_attr)
 * must be zero (E2BIG), the rest is copied into a zeroed union, and bytes past the
 * command's last field must be zero (CHECK_ATTR: EINVAL). Also: decoding an attr
 * for the trace, and memory access that turns faults into EFAULT.
 */
import {
  BTF_LOAD_FULL_ATTR,
  CMD as BPF_CMD,
  MAP_CREATE_EXCL_ATTR,
  MAP_FREEZE_ATTR,
  MAP_UPDATE_ELEM_ATTR,
  OBJ_GET_INFO_BY_FD_ATTR,
  PROG_LOAD_SIGNED_ATTR,
  endOf,
  readStruct,
  type StructLayout,
} from '../../loader/uapi/index.js';
import { isVmError } from '../errors.js';
import type { Memory } from '../vm/index.js';
import { E, fail } from './errno.js';
import type { KernelProfile } from '../profile/index.js';

/** The bpf_cmd values the model knows by name (values from the generated enum bpf_cmd). */
export const CMD = {
  MAP_CREATE: BPF_CMD.MAP_CREATE,
  MAP_LOOKUP_ELEM: BPF_CMD.MAP_LOOKUP_ELEM,
  MAP_UPDATE_ELEM: BPF_CMD.MAP_UPDATE_ELEM,
  MAP_DELETE_ELEM: BPF_CMD.MAP_DELETE_ELEM,
  MAP_GET_NEXT_KEY: BPF_CMD.MAP_GET_NEXT_KEY,
  PROG_LOAD: BPF_CMD.PROG_LOAD,
  OBJ_PIN: BPF_CMD.OBJ_PIN,
  OBJ_GET: BPF_CMD.OBJ_GET,
  PROG_ATTACH: BPF_CMD.PROG_ATTACH,
  PROG_DETACH: BPF_CMD.PROG_DETACH,
  PROG_RUN: BPF_CMD.PROG_RUN,
  PROG_GET_NEXT_ID: BPF_CMD.PROG_GET_NEXT_ID,
  MAP_GET_NEXT_ID: BPF_CMD.MAP_GET_NEXT_ID,
  PROG_GET_FD_BY_ID: BPF_CMD.PROG_GET_FD_BY_ID,
  MAP_GET_FD_BY_ID: BPF_CMD.MAP_GET_FD_BY_ID,
  OBJ_GET_INFO_BY_FD: BPF_CMD.OBJ_GET_INFO_BY_FD,
  PROG_QUERY: BPF_CMD.PROG_QUERY,
  RAW_TRACEPOINT_OPEN: BPF_CMD.RAW_TRACEPOINT_OPEN,
  BTF_LOAD: BPF_CMD.BTF_LOAD,
  BTF_GET_FD_BY_ID: BPF_CMD.BTF_GET_FD_BY_ID,
  TASK_FD_QUERY: BPF_CMD.TASK_FD_QUERY,
  MAP_LOOKUP_AND_DELETE_ELEM: BPF_CMD.MAP_LOOKUP_AND_DELETE_ELEM,
  MAP_FREEZE: BPF_CMD.MAP_FREEZE,
  BTF_GET_NEXT_ID: BPF_CMD.BTF_GET_NEXT_ID,
  LINK_CREATE: BPF_CMD.LINK_CREATE,
} as const;

export const CMD_NAME: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(CMD).map(([k, v]) => [v, k]));

/**
 * The layout the trace decodes a command's attr with, and offsetofend of the command's last field
 * (the kernel's CHECK_ATTR: MAP_CREATE ends at map_token_fd before exclusive maps, PROG_LOAD at fd_array_cnt
 * before signed programs).
 */
export function layoutOf(cmd: number, p: KernelProfile): { layout: StructLayout<string>; last: number } | null {
  switch (cmd) {
    case CMD.MAP_CREATE:
      return { layout: MAP_CREATE_EXCL_ATTR, last: endOf(MAP_CREATE_EXCL_ATTR, p.exclusiveMaps ? 'excl_prog_hash_size' : 'map_token_fd') };
    case CMD.MAP_LOOKUP_ELEM:
    case CMD.MAP_UPDATE_ELEM:
    case CMD.MAP_DELETE_ELEM:
      return { layout: MAP_UPDATE_ELEM_ATTR, last: endOf(MAP_UPDATE_ELEM_ATTR, 'flags') };
    case CMD.MAP_FREEZE:
      return { layout: MAP_FREEZE_ATTR, last: endOf(MAP_FREEZE_ATTR, 'map_fd') };
    case CMD.PROG_LOAD:
      return { layout: PROG_LOAD_SIGNED_ATTR, last: endOf(PROG_LOAD_SIGNED_ATTR, p.signature === 'none' ? 'fd_array_cnt' : 'keyring_id') };
    case CMD.BTF_LOAD:
      return { layout: BTF_LOAD_FULL_ATTR, last: endOf(BTF_LOAD_FULL_ATTR, 'btf_token_fd') };
    case CMD.OBJ_GET_INFO_BY_FD:
      return { layout: OBJ_GET_INFO_BY_FD_ATTR, last: endOf(OBJ_GET_INFO_BY_FD_ATTR, 'info') };
    default:
      return null;
  }
}

/** Memory access for commands: a fault reading or writing "user" memory is EFAULT. */
export class UserMemory {
  readonly mem: Memory;
  constructor(mem: Memory) {
    this.mem = mem;
  }

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

/**
 * The attr's fields for the trace: numbers, names, pointers as 0x-hex strings; only fields inside
 * `size`, each read by loader/uapi readStruct from the attr zero-extended to the layout's size.
 */
export function decodeAttr(cmd: number, attr: Uint8Array, size: number, p: KernelProfile, order: 'le' | 'be'): Decoded {
  const l = layoutOf(cmd, p);
  if (!l) return {};
  const bytes =
    attr.length >= l.layout.size
      ? attr
      : (() => {
          const b = new Uint8Array(l.layout.size);
          b.set(attr);
          return b;
        })();
  const values = readStruct(l.layout, bytes, order);
  const end = Math.min(size, l.last);
  const out: Decoded = {};
  for (const k of Object.keys(l.layout.fields)) {
    const v = values[k];
    if (l.layout.fields[k]!.offset >= end || v === undefined) continue;
    out[k] = typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
  }
  return out;
}
