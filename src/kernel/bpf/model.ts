/**
 * The bpf() model: one process's fd table and the kernel objects behind it, and
 * `sys(cmd, attrAddr, size)` answering like __sys_bpf: an fd or 0, or -errno. Every
 * call is recorded in `trace` with its decoded attr. Attr pointers are addresses in
 * the model's Memory (the VM's), whether they come from a program or from user space.
 */
import {
  BPF_F_TOKEN_FD,
  BPF_MAP_INFO,
  BTF_LOAD_FULL_ATTR,
  MAP_CREATE_EXCL_ATTR,
  MAP_FREEZE_ATTR,
  MAP_TYPE,
  MAP_TYPE_NAME,
  MAP_UPDATE_ELEM_ATTR,
  OBJ_GET_INFO_BY_FD_ATTR,
  readStruct,
  structReader,
  writeStruct,
  type StructReader,
} from '../../loader/uapi/index.js';
import type { Btf } from '../../loader/btf/index.js';
import type { Memory } from '../vm/index.js';
import { CMD, CMD_NAME, UserMemory, decodeAttr, readAttr, type Decoded } from './attr.js';
import { checkBtf } from './btf-check.js';
import { E, SysError, errnoName, fail } from './errno.js';
import { ARRAY_LIKE, MAP_F, MAP_IN_MAP, checkMapCreate, elemSize, lookupElem, mapHash, updateElem, type FdValue } from './maps.js';
import { FdTable, type KernelBtf, type KernelMap, type KernelObject, type KernelProg } from './objects.js';
import { objName, type ModelContext, type SignatureVerifier } from './context.js';
import { loadProgram } from './prog-load.js';
import type { KernelProfile } from '../profile/index.js';

export interface TraceEntry {
  seq: number;
  /** 'user': the replay's own syscalls (bpf_load_and_run); 'loader': bpf_sys_bpf and the other helpers. */
  caller: 'user' | 'loader';
  /** bpf command name, or the helper: 'close', 'btf_find_by_name_kind', 'kallsyms_lookup_name'. */
  op: string;
  cmd?: number;
  attrSize?: number;
  attr?: Decoded;
  /** Helper arguments, decoded. */
  args?: Record<string, number | string>;
  /** The return value: fd, 0, or -errno. */
  result: number | string;
  errno?: string;
  reason?: string;
  /** Loader pc of the helper call. */
  pc?: number;
  /** Id of the object the call created. */
  objectId?: number;
}

export interface BpfModelOptions {
  memory: Memory;
  profile: KernelProfile;
  /** Signature check for PROG_LOAD (a model keyring); absent: every keyring is empty, a signature that gets that far is ENOKEY. */
  verifySignature?: SignatureVerifier;
  /**
   * Serials (> 2) of the keys and keyrings the loading process can find: a positive keyring_id
   * naming another is EINVAL (see resolveKeyringId; 0-2 and the session, user and user-session
   * keyrings always resolve).
   */
  keyringSerials?: readonly number[];
}

export class BpfModel implements ModelContext {
  readonly memory: Memory;
  readonly um: UserMemory;
  readonly profile: KernelProfile;
  readonly order: 'le' | 'be';
  readonly fds = new FdTable();
  readonly trace: TraceEntry[] = [];
  /** Every object ever created, in creation order. */
  readonly objects: KernelObject[] = [];
  readonly verifySignature: SignatureVerifier | undefined;
  readonly keyringSerials: readonly number[];
  #nextId = 1;
  readonly #kernelBtfs = new Map<string, KernelBtf>();

  constructor(opts: BpfModelOptions) {
    this.memory = opts.memory;
    this.um = new UserMemory(opts.memory);
    this.profile = opts.profile;
    this.order = opts.memory.littleEndian ? 'le' : 'be';
    this.verifySignature = opts.verifySignature;
    this.keyringSerials = opts.keyringSerials ?? [];
  }

  get le(): boolean {
    return this.order === 'le';
  }

  newId(): number {
    return this.#nextId++;
  }

  record(e: Omit<TraceEntry, 'seq'>): TraceEntry {
    const entry = { seq: this.trace.length, ...e };
    this.trace.push(entry);
    return entry;
  }

  /** The kernel's BTF object for vmlinux or a module (one per name, like btf_vmlinux / module BTF). */
  kernelBtf(name: string, btf: Btf): KernelBtf {
    let k = this.#kernelBtfs.get(name);
    if (!k) {
      k = { kind: 'btf', id: this.newId(), bytes: new Uint8Array(0), btf, kernelName: name };
      this.#kernelBtfs.set(name, k);
    }
    return k;
  }

  /** bpf(cmd, attr, size) → fd / 0 / -errno, recorded in the trace. */
  sys(cmd: number, attrAddr: bigint, size: number, caller: 'user' | 'loader', pc?: number): number {
    const op = CMD_NAME[cmd] ?? `cmd ${cmd}`;
    let attr: Uint8Array | null = null;
    let created: number | undefined;
    try {
      if (
        caller === 'loader' &&
        ![
          CMD.MAP_CREATE,
          CMD.MAP_UPDATE_ELEM,
          CMD.MAP_DELETE_ELEM,
          CMD.MAP_FREEZE,
          CMD.MAP_GET_FD_BY_ID,
          CMD.PROG_LOAD,
          CMD.BTF_LOAD,
          CMD.LINK_CREATE,
          CMD.RAW_TRACEPOINT_OPEN,
        ].includes(cmd as 0)
      ) {
        fail(E.EINVAL, `${op} is not allowed from bpf_sys_bpf`);
      }
      attr = readAttr(this.um, cmd, attrAddr, size, this.profile);
      const r = this.#dispatch(cmd, attr, caller === 'loader');
      created = r.objectId;
      this.record({
        caller,
        op,
        cmd,
        attrSize: size,
        attr: decodeAttr(cmd, attr, size, this.profile, this.order),
        result: r.ret,
        pc,
        objectId: created,
      });
      return r.ret;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      this.record({
        caller,
        op,
        cmd,
        attrSize: size,
        attr: attr ? decodeAttr(cmd, attr, size, this.profile, this.order) : undefined,
        result: -e.errno,
        errno: errnoName(e.errno),
        reason: e.message,
        pc,
      });
      return -e.errno;
    }
  }

  /** close(fd) → 0 / -EBADF, recorded. */
  close(fd: number, caller: 'user' | 'loader', pc?: number): number {
    try {
      this.fds.close(fd);
      this.record({ caller, op: 'close', args: { fd }, result: 0, pc });
      return 0;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      this.record({ caller, op: 'close', args: { fd }, result: -e.errno, errno: errnoName(e.errno), reason: e.message, pc });
      return -e.errno;
    }
  }

  #dispatch(cmd: number, a: Uint8Array, fromKernel: boolean): { ret: number; objectId?: number } {
    switch (cmd) {
      case CMD.MAP_CREATE: {
        const m = this.#mapCreate(structReader(MAP_CREATE_EXCL_ATTR, a, this.order));
        return { ret: this.fds.install(m), objectId: m.id };
      }
      case CMD.MAP_UPDATE_ELEM: {
        const attr = structReader(MAP_UPDATE_ELEM_ATTR, a, this.order);
        const m = this.fds.map(attr.u32('map_fd'));
        const key = this.um.read(attr.u64('key'), m.keySize, 'key');
        const value = this.um.read(attr.u64('value'), m.valueSize, 'value');
        let fdv: FdValue | null = null;
        if (MAP_IN_MAP.has(m.type) || m.type === MAP_TYPE.PROG_ARRAY) {
          const fd = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, this.le);
          const o = this.fds.get(fd);
          if (!o) fail(E.EBADF, `value fd ${fd} is not open`);
          fdv = o.kind === 'map' ? { map: o } : o.kind === 'prog' ? { prog: o } : null;
        }
        updateElem(m, key, value, attr.u64('flags'), fdv, this.le);
        return { ret: 0 };
      }
      case CMD.MAP_LOOKUP_ELEM: {
        // Same fields as MAP_UPDATE_ELEM (union bpf_attr's BPF_MAP_*_ELEM struct).
        const attr = structReader(MAP_UPDATE_ELEM_ATTR, a, this.order);
        const m = this.fds.map(attr.u32('map_fd'));
        const key = this.um.read(attr.u64('key'), m.keySize, 'key');
        this.um.write(attr.u64('value'), lookupElem(m, key, this.le), 'value');
        return { ret: 0 };
      }
      case CMD.MAP_FREEZE: {
        const m = this.fds.map(structReader(MAP_FREEZE_ATTR, a, this.order).u32('map_fd'));
        if (m.type === MAP_TYPE.STRUCT_OPS) fail(E.ENOTSUPP, 'struct_ops maps cannot be frozen');
        if (m.frozen) fail(E.EBUSY, 'map is already frozen');
        if (m.flags & MAP_F.RDONLY) fail(E.EPERM, 'map is not writable');
        m.frozen = true;
        return { ret: 0 };
      }
      case CMD.BTF_LOAD: {
        const attr = structReader(BTF_LOAD_FULL_ATTR, a, this.order);
        const size = attr.u32('btf_size');
        const flags = attr.u32('btf_flags');
        if (flags & ~BPF_F_TOKEN_FD) fail(E.EINVAL, `btf_flags 0x${flags.toString(16)}`);
        const level = attr.u32('btf_log_level'),
          logSize = attr.u32('btf_log_size'),
          logBuf = attr.u64('btf_log_buf');
        if (level && (logBuf === 0n || logSize < 128)) fail(E.EINVAL, 'btf log: level without a buffer of at least 128 bytes');
        if (!level && (logBuf !== 0n || logSize)) fail(E.EINVAL, 'btf log buffer without a level');
        const bytes = this.um.read(attr.u64('btf'), size, 'btf');
        const btf = checkBtf(bytes);
        const k: KernelBtf = { kind: 'btf', id: this.newId(), bytes, btf, kernelName: null };
        this.objects.push(k);
        return { ret: this.fds.install(k), objectId: k.id };
      }
      case CMD.OBJ_GET_INFO_BY_FD: {
        const attr = structReader(OBJ_GET_INFO_BY_FD_ATTR, a, this.order);
        return { ret: this.#getInfo(attr.u32('bpf_fd'), attr.u32('info_len'), attr.u64('info')) };
      }
      case CMD.PROG_LOAD: {
        const p = loadProgram(this, a, fromKernel);
        this.objects.push(p);
        return { ret: this.fds.install(p), objectId: p.id };
      }
      default:
        fail(E.EINVAL, `command ${CMD_NAME[cmd] ?? cmd} is not modelled`);
    }
  }

  #mapCreate(attr: StructReader<keyof typeof MAP_CREATE_EXCL_ATTR.fields>): KernelMap {
    const p = this.profile;
    const type = attr.u32('map_type');
    if (type === 0 || type >= p.maxMapType) fail(E.EINVAL, `map_type ${type}`);
    const req = {
      type,
      keySize: attr.u32('key_size'),
      valueSize: attr.u32('value_size'),
      maxEntries: attr.u32('max_entries'),
      flags: attr.u32('map_flags'),
      mapExtra: attr.u64('map_extra'),
      btfVmlinuxValueTypeId: attr.u32('btf_vmlinux_value_type_id'),
      hasBtfValue: attr.u32('btf_value_type_id') !== 0,
    };
    const name = objName(attr.bytes('map_name'));
    checkMapCreate(req);
    const btfKeyTypeId = attr.u32('btf_key_type_id'),
      btfValueTypeId = attr.u32('btf_value_type_id');
    let btf: KernelBtf | null = null;
    if (btfKeyTypeId || btfValueTypeId || req.btfVmlinuxValueTypeId) {
      if (req.btfVmlinuxValueTypeId) {
        if (!p.vmlinux) fail(E.ENOTSUPP, 'no vmlinux BTF for a struct_ops map');
        btf = this.kernelBtf('vmlinux', p.vmlinux);
      } else {
        btf = this.fds.btf(attr.u32('btf_fd'));
      }
      if (btfValueTypeId) this.#checkMapBtf(btf.btf, btfKeyTypeId, btfValueTypeId, req.keySize, req.valueSize);
      else if (btfKeyTypeId) fail(E.EINVAL, 'btf_key_type_id without btf_value_type_id');
    }
    let innerMeta = null;
    const innerFd = attr.u32('inner_map_fd');
    if (MAP_IN_MAP.has(type)) {
      const inner = this.fds.map(innerFd);
      if (MAP_IN_MAP.has(inner.type) || inner.type === MAP_TYPE.PROG_ARRAY || inner.type === MAP_TYPE.STRUCT_OPS)
        fail(E.EINVAL, 'inner map type not supported');
      if (inner.exclProgHash) fail(E.EOPNOTSUPP, 'exclusive maps cannot be inner maps');
      innerMeta = {
        type: inner.type,
        keySize: inner.keySize,
        valueSize: inner.valueSize,
        maxEntries: inner.maxEntries,
        flags: inner.flags,
      };
    } else if (innerFd) {
      fail(E.EINVAL, 'inner_map_fd on a map that is not a map-in-map');
    }
    let exclProgHash: Uint8Array | null = null;
    if (p.exclusiveMaps) {
      const ptr = attr.u64('excl_prog_hash'),
        sz = attr.u32('excl_prog_hash_size');
      if (ptr !== 0n) {
        if (sz !== 32) fail(E.EINVAL, `excl_prog_hash_size ${sz} (want 32)`);
        exclProgHash = this.um.read(ptr, 32, 'excl_prog_hash');
      } else if (sz) {
        fail(E.EINVAL, 'excl_prog_hash_size without excl_prog_hash');
      }
    }
    const id = this.newId();
    const struct = this.memory.map('kernel', new Uint8Array(p.bpfMap.size), { name: `struct bpf_map#${id} (${name})`, writable: false });
    if (exclProgHash && p.bpfMap.excl !== null) struct.bytes[p.bpfMap.excl] = 1;
    const values = ARRAY_LIKE.has(type)
      ? this.memory.map('map_value', new Uint8Array(elemSize(req.valueSize) * req.maxEntries), { name: `map#${id} ${name} values` })
      : null;
    const m: KernelMap = {
      kind: 'map',
      id,
      type,
      keySize: req.keySize,
      valueSize: req.valueSize,
      maxEntries: req.maxEntries,
      flags: req.flags,
      name,
      numaNode: attr.u32('numa_node'),
      mapExtra: req.mapExtra,
      btf,
      btfKeyTypeId,
      btfValueTypeId,
      btfVmlinuxValueTypeId: req.btfVmlinuxValueTypeId,
      innerMeta,
      exclProgHash,
      frozen: false,
      struct,
      values,
      entries: new Map(),
      refs: new Map(),
      sha: new Uint8Array(32),
    };
    this.objects.push(m);
    return m;
  }

  #checkMapBtf(btf: Btf, keyId: number, valueId: number, keySize: number, valueSize: number): void {
    const size = (id: number, what: string): number => {
      if (id >= btf.totalCount) fail(E.EINVAL, `${what} type id ${id} out of range`);
      const r = btf.kind(btf.resolve(id));
      if (r === 'VOID' || r === 'FUNC' || r === 'FUNC_PROTO' || r === 'FWD' || r === 'VAR')
        fail(E.EINVAL, `${what} type [${id}] has no size`);
      return btf.sizeOf(id);
    };
    if (keyId && size(keyId, 'key') !== keySize) fail(E.EINVAL, `key type [${keyId}] size differs from key_size ${keySize}`);
    if (size(valueId, 'value') !== valueSize) fail(E.EINVAL, `value type [${valueId}] size differs from value_size ${valueSize}`);
  }

  #getInfo(fd: number, infoLen: number, infoPtr: bigint): number {
    const o = this.fds.get(fd);
    if (!o) fail(E.EBADF, `fd ${fd} is not open`);
    if (o.kind !== 'map') fail(E.EINVAL, 'the model answers OBJ_GET_INFO_BY_FD for maps only');
    const len = Math.min(infoLen, BPF_MAP_INFO.size);
    const buf = new Uint8Array(BPF_MAP_INFO.size);
    buf.set(this.um.read(infoPtr, len, 'info'));
    const given = readStruct(BPF_MAP_INFO, buf, this.order);
    const hashPtr = given.hash as bigint,
      hashSize = given.hash_size as number;
    if (hashPtr !== 0n) {
      if (!this.profile.mapHash) fail(E.EINVAL, 'map hashes are not supported');
      if (hashSize !== 32) fail(E.EINVAL, `hash_size ${hashSize} (want 32)`);
      if (this.profile.mapHashNeedsFrozen && !o.frozen) fail(E.EPERM, 'map hash needs a frozen map');
      const h = mapHash(o);
      o.sha.set(h);
      if (this.profile.bpfMap.sha !== null) o.struct.bytes.set(h, this.profile.bpfMap.sha);
      this.um.write(hashPtr, h, 'info.hash');
    } else if (hashSize) {
      fail(E.EINVAL, 'hash_size without hash');
    }
    const out = writeStruct(
      BPF_MAP_INFO,
      {
        type: o.type,
        id: o.id,
        key_size: o.keySize,
        value_size: o.valueSize,
        max_entries: o.maxEntries,
        map_flags: o.flags,
        name: o.name,
        btf_id: o.btf?.id ?? 0,
        btf_key_type_id: o.btfKeyTypeId,
        btf_value_type_id: o.btfValueTypeId,
        btf_vmlinux_value_type_id: o.btfVmlinuxValueTypeId,
        map_extra: o.mapExtra,
        hash: hashPtr,
        hash_size: hashSize,
      },
      this.order,
    );
    this.um.write(infoPtr, out.subarray(0, len), 'info');
    return 0;
  }

  /** Map type name for reports. */
  static mapTypeName(type: number): string {
    return MAP_TYPE_NAME[type] ?? `map type ${type}`;
  }
}

export type { KernelProg };
