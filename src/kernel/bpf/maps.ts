/**
 * Map semantics of the bpf() model: MAP_CREATE's per-type rules (map_alloc_check of
 * each map type), element updates and lookups from syscalls, freezing, and the
 * 6.18 map hash (array_map_get_hash: SHA-256 of round_up(value_size, 8) * max_entries).
 */
import { createHash } from 'node:crypto';
import { MAP_FLAG, MAP_TYPE as T } from '../../loader/uapi/index.js';
import { E, fail } from './errno.js';
import type { KernelMap, KernelProg } from './objects.js';

/** Map flags (BPF_F_*, generated from the kernel's BTF). */
export const MAP_F = MAP_FLAG;

const ACCESS = MAP_F.RDONLY | MAP_F.WRONLY | MAP_F.RDONLY_PROG | MAP_F.WRONLY_PROG;
const KMALLOC_MAX_SIZE = 4 << 20;
const MAX_BPF_STACK = 512;
/** The model refuses maps whose storage it would have to allocate beyond this (the kernel: ENOMEM at some size). */
const MODEL_MAX_BYTES = 256 << 20;

export interface MapCreateRequest {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  mapExtra: bigint;
  btfVmlinuxValueTypeId: number;
  hasBtfValue: boolean;
}

export const ARRAY_LIKE: ReadonlySet<number> = new Set([T.ARRAY, T.PERCPU_ARRAY]);
export const FD_ARRAYS: ReadonlySet<number> = new Set([T.PROG_ARRAY, T.PERF_EVENT_ARRAY, T.CGROUP_ARRAY, T.ARRAY_OF_MAPS]);
export const MAP_IN_MAP: ReadonlySet<number> = new Set([T.ARRAY_OF_MAPS, T.HASH_OF_MAPS]);
const HASHES: ReadonlySet<number> = new Set([T.HASH, T.PERCPU_HASH, T.LRU_HASH, T.LRU_PERCPU_HASH, T.HASH_OF_MAPS]);
const STORAGES: ReadonlySet<number> = new Set([T.SK_STORAGE, T.INODE_STORAGE, T.TASK_STORAGE, T.CGRP_STORAGE]);

/** round_up(value_size, 8): the array element stride. */
export function elemSize(valueSize: number): number {
  return (valueSize + 7) & ~7;
}

function flagsWithin(r: MapCreateRequest, allowed: number): void {
  if (r.flags & ~allowed) fail(E.EINVAL, `map_flags 0x${r.flags.toString(16)} not supported by this map type`);
}

function positive(r: MapCreateRequest, key: boolean): void {
  if (r.maxEntries === 0 || (key && r.keySize === 0) || r.valueSize === 0) fail(E.EINVAL, 'zero key_size, value_size or max_entries');
}

/** map_alloc_check of the map type, plus the generic checks of map_create. */
export function checkMapCreate(r: MapCreateRequest): void {
  if (r.flags & MAP_F.RDONLY && r.flags & MAP_F.WRONLY) fail(E.EINVAL, 'BPF_F_RDONLY and BPF_F_WRONLY together');
  if (r.flags & MAP_F.RDONLY_PROG && r.flags & MAP_F.WRONLY_PROG) fail(E.EINVAL, 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together');
  if (r.mapExtra !== 0n && r.type !== T.BLOOM_FILTER && r.type !== T.ARENA)
    fail(E.EINVAL, 'map_extra is only for bloom filters and arenas');
  if (r.btfVmlinuxValueTypeId && r.type !== T.STRUCT_OPS) fail(E.EINVAL, 'btf_vmlinux_value_type_id is only for struct_ops maps');
  const common = MAP_F.NUMA_NODE | ACCESS | MAP_F.INNER_MAP | MAP_F.TOKEN_FD;
  switch (r.type) {
    case T.ARRAY:
    case T.PERCPU_ARRAY:
      positive(r, true);
      if (r.keySize !== 4) fail(E.EINVAL, 'array key_size must be 4');
      flagsWithin(r, common | MAP_F.MMAPABLE | MAP_F.PRESERVE_ELEMS);
      if (r.type === T.PERCPU_ARRAY && r.flags & MAP_F.MMAPABLE) fail(E.EINVAL, 'percpu array cannot be mmapable');
      if (r.valueSize > KMALLOC_MAX_SIZE) fail(E.E2BIG, `value_size ${r.valueSize} too large`);
      if (elemSize(r.valueSize) * r.maxEntries > MODEL_MAX_BYTES) fail(E.ENOMEM, 'array too large');
      return;
    case T.PROG_ARRAY:
    case T.PERF_EVENT_ARRAY:
    case T.CGROUP_ARRAY:
    case T.ARRAY_OF_MAPS:
      positive(r, true);
      if (r.keySize !== 4 || r.valueSize !== 4) fail(E.EINVAL, 'fd array key_size and value_size must be 4');
      flagsWithin(r, common | (r.type === T.PERF_EVENT_ARRAY ? MAP_F.PRESERVE_ELEMS : 0));
      return;
    case T.HASH:
    case T.PERCPU_HASH:
    case T.LRU_HASH:
    case T.LRU_PERCPU_HASH:
    case T.HASH_OF_MAPS:
      positive(r, true);
      flagsWithin(
        r,
        common | MAP_F.NO_PREALLOC | MAP_F.ZERO_SEED | (r.type === T.LRU_HASH || r.type === T.LRU_PERCPU_HASH ? MAP_F.NO_COMMON_LRU : 0),
      );
      if (r.type === T.HASH_OF_MAPS && r.valueSize !== 4) fail(E.EINVAL, 'hash of maps value_size must be 4');
      if (r.keySize > MAX_BPF_STACK) fail(E.E2BIG, `key_size ${r.keySize} > ${MAX_BPF_STACK}`);
      if (r.valueSize >= KMALLOC_MAX_SIZE - MAX_BPF_STACK) fail(E.E2BIG, `value_size ${r.valueSize} too large`);
      return;
    case T.LPM_TRIE:
      positive(r, true);
      if (!(r.flags & MAP_F.NO_PREALLOC)) fail(E.EINVAL, 'LPM trie needs BPF_F_NO_PREALLOC');
      flagsWithin(r, common | MAP_F.NO_PREALLOC);
      if (r.keySize < 5 || r.keySize > 4 + 256) fail(E.EINVAL, 'LPM key_size out of range');
      return;
    case T.STACK_TRACE:
      positive(r, true);
      if (r.keySize !== 4 || r.valueSize % 8) fail(E.EINVAL, 'stack trace key 4, value a multiple of 8');
      flagsWithin(r, common | MAP_F.STACK_BUILD_ID);
      return;
    case T.DEVMAP:
    case T.DEVMAP_HASH:
    case T.CPUMAP:
    case T.SOCKMAP:
    case T.SOCKHASH:
    case T.REUSEPORT_SOCKARRAY:
      positive(r, true);
      if (r.type !== T.SOCKHASH && r.type !== T.DEVMAP_HASH && r.keySize !== 4) fail(E.EINVAL, 'key_size must be 4');
      if (r.valueSize !== 4 && r.valueSize !== 8 && !(r.type === T.CPUMAP && r.valueSize === 8))
        fail(E.EINVAL, 'value_size must be 4 or 8');
      flagsWithin(r, common);
      return;
    case T.XSKMAP:
      positive(r, true);
      if (r.keySize !== 4 || r.valueSize !== 4) fail(E.EINVAL, 'xskmap key and value 4');
      flagsWithin(r, common);
      return;
    case T.QUEUE:
    case T.STACK:
      if (r.keySize !== 0 || r.valueSize === 0 || r.maxEntries === 0) fail(E.EINVAL, 'queue/stack: key_size 0, value and max_entries > 0');
      flagsWithin(r, common);
      return;
    case T.RINGBUF:
    case T.USER_RINGBUF:
      if (r.keySize || r.valueSize) fail(E.EINVAL, 'ringbuf: key_size and value_size must be 0');
      if (r.flags & ~(MAP_F.NUMA_NODE | MAP_F.TOKEN_FD)) fail(E.EINVAL, 'ringbuf: unsupported flags');
      if (r.maxEntries === 0 || r.maxEntries & (r.maxEntries - 1) || r.maxEntries % 4096)
        fail(E.EINVAL, 'ringbuf: max_entries must be a power-of-2 multiple of the page size');
      return;
    case T.BLOOM_FILTER:
      if (r.keySize !== 0 || r.valueSize === 0 || r.maxEntries === 0) fail(E.EINVAL, 'bloom filter: key_size 0, value and max_entries > 0');
      if (r.mapExtra & ~0xfn) fail(E.EINVAL, 'bloom filter: map_extra > 15');
      flagsWithin(r, common | MAP_F.ZERO_SEED);
      return;
    case T.SK_STORAGE:
    case T.INODE_STORAGE:
    case T.TASK_STORAGE:
    case T.CGRP_STORAGE:
      if (r.keySize !== 4 || r.valueSize === 0 || r.maxEntries !== 0) fail(E.EINVAL, 'local storage: key 4, max_entries 0');
      if (!(r.flags & MAP_F.NO_PREALLOC)) fail(E.EINVAL, 'local storage needs BPF_F_NO_PREALLOC');
      flagsWithin(r, MAP_F.NO_PREALLOC | MAP_F.CLONE | MAP_F.TOKEN_FD);
      if (!r.hasBtfValue) fail(E.EINVAL, 'local storage needs BTF');
      return;
    case T.CGROUP_STORAGE:
    case T.PERCPU_CGROUP_STORAGE:
      if ((r.keySize !== 12 && r.keySize !== 8) || r.valueSize === 0 || r.maxEntries !== 0)
        fail(E.EINVAL, 'cgroup storage: key 8 or 12, max_entries 0');
      flagsWithin(r, common);
      return;
    case T.STRUCT_OPS:
      if (r.keySize !== 4 || r.maxEntries !== 1 || !r.btfVmlinuxValueTypeId)
        fail(E.EINVAL, 'struct_ops: key 4, max_entries 1, btf_vmlinux_value_type_id');
      return;
    case T.ARENA:
      if (r.keySize || r.valueSize || r.maxEntries === 0) fail(E.EINVAL, 'arena: key and value 0, max_entries pages');
      if (!(r.flags & MAP_F.MMAPABLE)) fail(E.EINVAL, 'arena needs BPF_F_MMAPABLE');
      return;
    default:
      fail(E.EINVAL, `map type ${r.type} not supported`);
  }
}

export function keyHex(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}

/** Syscall-side writability (map_get_sys_perms): frozen or BPF_F_RDONLY maps refuse writes. */
export function checkSysWrite(m: KernelMap): void {
  if (m.frozen) fail(E.EPERM, `map ${m.name || m.id} is frozen`);
  if (m.flags & MAP_F.RDONLY) fail(E.EPERM, `map ${m.name || m.id} is BPF_F_RDONLY`);
}

export type FdValue = { map: KernelMap } | { prog: KernelProg };

const BPF_NOEXIST = 1n;
const BPF_EXIST = 2n;
const BPF_F_LOCK = 4n;

/** MAP_UPDATE_ELEM from a syscall: the value (or, for fd maps, the object it names) is stored. */
export function updateElem(m: KernelMap, key: Uint8Array, value: Uint8Array, flags: bigint, fdValue: FdValue | null, le: boolean): void {
  checkSysWrite(m);
  if ((flags & ~BPF_F_LOCK) > BPF_EXIST) fail(E.EINVAL, `flags ${flags} not supported`);
  if (
    m.type === T.RINGBUF ||
    m.type === T.USER_RINGBUF ||
    m.type === T.QUEUE ||
    m.type === T.STACK ||
    m.type === T.STRUCT_OPS ||
    m.type === T.ARENA
  ) {
    fail(E.ENOTSUPP, 'update not supported by this map type');
  }
  const k = keyHex(key);
  if ((ARRAY_LIKE.has(m.type) || FD_ARRAYS.has(m.type)) && flags === BPF_NOEXIST) fail(E.EEXIST, 'array elements always exist');
  if (ARRAY_LIKE.has(m.type)) {
    const index = arrayIndex(key, le);
    if (index >= m.maxEntries) fail(E.E2BIG, `index ${index} >= max_entries ${m.maxEntries}`);
    m.values!.bytes.set(value.subarray(0, m.valueSize), index * elemSize(m.valueSize));
    return;
  }
  if (FD_ARRAYS.has(m.type)) {
    const index = arrayIndex(key, le);
    if (index >= m.maxEntries) fail(E.E2BIG, `index ${index} >= max_entries ${m.maxEntries}`);
    storeFd(m, k, fdValue);
    m.entries.set(k, value.slice(0, m.valueSize));
    return;
  }
  const exists = m.entries.has(k);
  if (flags === BPF_NOEXIST && exists) fail(E.EEXIST, 'element exists');
  if (flags === BPF_EXIST && !exists) fail(E.ENOENT, 'element does not exist');
  if (!exists && m.entries.size >= m.maxEntries && !(m.type === T.LRU_HASH || m.type === T.LRU_PERCPU_HASH)) fail(E.E2BIG, 'map is full');
  if (MAP_IN_MAP.has(m.type)) storeFd(m, k, fdValue);
  m.entries.set(k, value.slice(0, m.valueSize));
}

function storeFd(m: KernelMap, k: string, v: FdValue | null): void {
  if (m.type === T.ARRAY_OF_MAPS || m.type === T.HASH_OF_MAPS) {
    if (!v || !('map' in v)) fail(E.EBADF, 'value is not a map fd');
    const inner = v.map;
    const meta = m.innerMeta!;
    if (
      inner.type !== meta.type ||
      inner.keySize !== meta.keySize ||
      inner.valueSize !== meta.valueSize ||
      (inner.flags & ~MAP_F.INNER_MAP) !== (meta.flags & ~MAP_F.INNER_MAP) ||
      (!(meta.flags & MAP_F.INNER_MAP) && inner.maxEntries !== meta.maxEntries)
    ) {
      fail(E.EINVAL, "inner map does not match the outer map's template");
    }
    m.refs.set(k, inner);
  } else if (m.type === T.PROG_ARRAY) {
    if (!v || !('prog' in v)) fail(E.EBADF, 'value is not a program fd');
    m.refs.set(k, v.prog);
  } else {
    fail(E.EOPNOTSUPP, 'the model does not store perf event or cgroup fds');
  }
}

function arrayIndex(key: Uint8Array, le: boolean): number {
  if (key.length < 4) fail(E.EFAULT, 'short key');
  return new DataView(key.buffer, key.byteOffset, 4).getUint32(0, le);
}

/** MAP_LOOKUP_ELEM from a syscall: the value bytes, or ENOENT. */
export function lookupElem(m: KernelMap, key: Uint8Array, le: boolean): Uint8Array {
  if (m.flags & MAP_F.WRONLY) fail(E.EPERM, 'map is BPF_F_WRONLY');
  if (ARRAY_LIKE.has(m.type)) {
    const index = arrayIndex(key, le);
    if (index >= m.maxEntries) fail(E.ENOENT, `index ${index} >= max_entries`);
    const at = index * elemSize(m.valueSize);
    return m.values!.bytes.slice(at, at + m.valueSize);
  }
  if (FD_ARRAYS.has(m.type) || MAP_IN_MAP.has(m.type)) {
    const ref = m.refs.get(keyHex(key));
    if (!ref) fail(E.ENOENT, 'no element');
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, ref.id, le);
    return out;
  }
  const v = m.entries.get(keyHex(key));
  if (!v) fail(E.ENOENT, 'no element');
  return v.slice();
}

/** array_map_get_hash: SHA-256 over every element slot. Other map types: EINVAL. */
export function mapHash(m: KernelMap): Uint8Array {
  if (m.type !== T.ARRAY) fail(E.EINVAL, 'only array maps have a hash');
  return new Uint8Array(createHash('sha256').update(m.values!.bytes).digest());
}

export { HASHES, STORAGES };
