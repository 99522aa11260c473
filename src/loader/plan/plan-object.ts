/**
 * planObject: the kernel operations libbpf's bpf_object__load() records in gen_loader mode
 * (§5 of loader-format.md), in order, with their bytes; plus what we do beyond libbpf
 * (pinning recorded for the skeleton, PROG_ARRAY initial slots, > 32 programs).
 */
import { LoaderError } from '../errors.js';
import { parseElf, type ElfFile } from '../elf/index.js';
import type { MapSpec, ObjectSpec } from '../object/index.js';
import { MAP_TYPE } from '../uapi/index.js';
import { editBtf, hiddenSubprograms } from './btf-edits.js';
import { kconfigImage } from './kconfig.js';
import type { HostInputs, MapCreateAttr, Plan, PlanMap, PlanOp, PlanOptions } from './plan.js';
import { planProgram } from './program.js';

export const DEFAULT_KERNEL_VERSION = 0x061200;
const MAX_USED_MAPS = 64;
const MAX_STACK = 512;

/** Map types whose BTF key/value ids libbpf zeroes before MAP_CREATE. */
const NO_BTF_KV: ReadonlySet<string> = new Set([
  'PERF_EVENT_ARRAY',
  'CGROUP_ARRAY',
  'STACK_TRACE',
  'ARRAY_OF_MAPS',
  'HASH_OF_MAPS',
  'DEVMAP',
  'DEVMAP_HASH',
  'CPUMAP',
  'XSKMAP',
  'SOCKMAP',
  'SOCKHASH',
  'QUEUE',
  'STACK',
  'ARENA',
]);

/**
 * bpftool's get_map_ident: the map name for a non-internal map; for an internal map the text
 * after the dot of the first of `.data`, `.rodata`, `.bss`, `.kconfig` found in the name,
 * non-identifier characters → `_`. null when an internal map matches none (bpftool skips it).
 */
export function skeletonIdent(name: string, internal: boolean): string | null {
  if (!internal) return name;
  for (const sfx of ['.data', '.rodata', '.bss', '.kconfig']) {
    const at = name.indexOf(sfx);
    if (at >= 0) return name.slice(at + 1).replace(/[^A-Za-z0-9_]/g, '_');
  }
  return null;
}

/** The identifier of a spec map in plans and skeletons (sanitized name when bpftool's rule finds none). */
export function mapIdent(m: { name: string; origin: string }): string {
  const internal = !(m.origin === 'btf' || m.origin === 'legacy' || m.origin === 'struct_ops');
  return skeletonIdent(m.name, internal) ?? m.name.replace(/[^A-Za-z0-9_]/g, '_');
}

function resolveHost(o: PlanOptions): HostInputs {
  const ksyms: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.ksymAddresses ?? {})) ksyms[k] = '0x' + BigInt.asUintN(64, v).toString(16);
  const pageSize = o.pageSize ?? 4096;
  if (!Number.isInteger(pageSize) || pageSize <= 0 || (pageSize & (pageSize - 1)) !== 0) {
    throw new LoaderError('OBJECT_UNSUPPORTED', `plan: pageSize ${pageSize} is not a power of two`, { field: 'pageSize', got: pageSize });
  }
  const cpus = o.possibleCpus ?? 1;
  if (!Number.isInteger(cpus) || cpus <= 0)
    throw new LoaderError('OBJECT_UNSUPPORTED', `plan: possibleCpus ${cpus} is not a positive integer`, {
      field: 'possibleCpus',
      got: cpus,
    });
  return {
    kconfig: { ...(o.kconfig ?? {}) },
    kernelVersion: o.kernelVersion ?? DEFAULT_KERNEL_VERSION,
    ksymAddresses: ksyms,
    possibleCpus: cpus,
    pageSize,
    usdtUprobeMulti: o.usdtUprobeMulti ?? true,
    hostByteOrder: o.hostByteOrder ?? 'le',
  };
}

/** libbpf adjust_ringbuf_sz: round up to a power-of-two multiple of the page size. */
function ringbufSize(sz: number, page: number): number {
  if (sz !== 0 && sz % page === 0 && ((sz / page) & (sz / page - 1)) === 0) return sz;
  let mul = 1;
  while (mul * page < sz) mul *= 2;
  return mul * page;
}

function createAttr(m: MapSpec, hasBtf: boolean, host: HostInputs): MapCreateAttr {
  const type = (MAP_TYPE as Record<string, number>)[m.type] ?? m.typeId;
  let maxEntries = m.maxEntries;
  if (m.type === 'PERF_EVENT_ARRAY' && maxEntries === 0) maxEntries = host.possibleCpus;
  if (m.type === 'RINGBUF' || m.type === 'USER_RINGBUF') maxEntries = ringbufSize(maxEntries, host.pageSize);
  const zero = !hasBtf || NO_BTF_KV.has(m.type);
  return {
    name: m.name,
    type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries,
    flags: m.flags,
    numaNode: m.numaNode,
    ifindex: 0,
    btfKeyTypeId: zero ? 0 : m.btfKeyTypeId,
    btfValueTypeId: zero ? 0 : m.btfValueTypeId,
    mapExtra: m.mapExtra,
  };
}

function extRecSizes(elf: ElfFile): { func: number; line: number } {
  const s = elf.sections.find((x) => x.name === '.BTF.ext');
  if (!s || s.data.length < 24) return { func: 0, line: 0 };
  const dv = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
  const le = dv.getUint16(0, true) === 0xeb9f;
  const hdr = dv.getUint32(4, le);
  const read = (off: number, len: number) => (len >= 4 && hdr + off + 4 <= s.data.length ? dv.getUint32(hdr + off, le) : 0);
  return { func: read(dv.getUint32(8, le), dv.getUint32(12, le)), line: read(dv.getUint32(16, le), dv.getUint32(20, le)) };
}

/** Offsets of whole strings in the BTF string section (indexed on first use: most programs have no CO-RE records). */
function stringIndex(btf: Uint8Array | undefined): (s: string) => number {
  let map: Map<string, number> | undefined;
  return (s: string) => {
    map ??= indexStrings(btf);
    const off = map.get(s);
    if (off === undefined) throw new LoaderError('BTF_NOT_FOUND', `btf: CO-RE access string '${s}' not in the string section`, { got: s });
    return off;
  };
}

function indexStrings(btf: Uint8Array | undefined): Map<string, number> {
  const map = new Map<string, number>();
  if (btf && btf.length >= 24) {
    const dv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
    const le = dv.getUint16(0, true) === 0xeb9f;
    const hdr = dv.getUint32(4, le),
      start = hdr + dv.getUint32(16, le),
      len = dv.getUint32(20, le);
    const dec = new TextDecoder();
    let off = 0;
    while (off < len && start + off < btf.length) {
      let e = off;
      while (e < len && btf[start + e] !== 0) e++;
      const s = dec.decode(btf.subarray(start + off, start + e));
      if (!map.has(s)) map.set(s, off);
      off = e + 1;
    }
  }
  return map;
}

export function planObject(spec: ObjectSpec, options: PlanOptions): Plan {
  const host = resolveHost(options);
  const elf = options.elf ?? parseElf(options.object);
  const order = spec.byteOrder;
  const btfSec = elf.sections.find((s) => s.name === '.BTF');
  const hasBtf = !!btfSec && spec.btf !== null;

  for (const m of spec.maps) {
    if (m.origin === 'struct_ops' || m.structOps)
      throw new LoaderError('OBJECT_UNSUPPORTED', `map '${m.name}': struct_ops maps are not supported by the loader`, {
        symbol: m.name,
        field: 'struct_ops',
      });
    if (m.type === 'ARENA')
      throw new LoaderError('OBJECT_UNSUPPORTED', `map '${m.name}': arena maps are not supported by the loader`, {
        symbol: m.name,
        field: 'arena',
      });
  }
  if (spec.maps.length > MAX_USED_MAPS) {
    throw new LoaderError('OBJECT_UNSUPPORTED', `object has ${spec.maps.length} maps; the loader's fd_array holds ${MAX_USED_MAPS}`, {
      field: 'maps',
      got: spec.maps.length,
      want: `<= ${MAX_USED_MAPS}`,
    });
  }
  const nrPrograms = spec.programs.length + spec.subprograms.length;
  const stackSize = 8 + 4 * Math.max(32, nrPrograms);
  if (stackSize > MAX_STACK) {
    throw new LoaderError(
      'OBJECT_UNSUPPORTED',
      `object has ${nrPrograms} programs (subprograms included); the loader's stack area would need ${stackSize} bytes, more than ${MAX_STACK}`,
      { field: 'programs', got: nrPrograms },
    );
  }

  const ops: PlanOp[] = [];
  if (hasBtf) {
    ops.push({ op: 'btf_load', btf: editBtf({ btf: btfSec!.data, elf, externs: spec.externs, hiddenSubprogs: hiddenSubprograms(elf) }) });
  }
  const maps: PlanMap[] = [];
  const progArraySlots: { mapIndex: number; slot: number; prog: string }[] = [];
  for (const m of spec.maps) {
    if (m.inner) ops.push({ op: 'map_create', mapIndex: -1, attr: createAttr(m.inner, hasBtf, host) });
    const attr = createAttr(m, hasBtf, host);
    ops.push({ op: 'map_create', mapIndex: m.index, attr });
    const internal = m.origin === 'data' || m.origin === 'rodata' || m.origin === 'bss' || m.origin === 'kconfig';
    if (internal) {
      const value =
        m.origin === 'kconfig'
          ? kconfigImage(spec.externs, m.valueSize, {
              kconfig: host.kconfig,
              kernelVersion: host.kernelVersion,
              hostByteOrder: host.hostByteOrder,
            })
          : (m.initialValue ?? new Uint8Array(m.valueSize));
      ops.push({ op: 'map_update', mapIndex: m.index, value });
      if (m.frozen || m.origin === 'kconfig') ops.push({ op: 'map_freeze', mapIndex: m.index });
    }
    for (const s of m.slots) {
      if (m.type === 'PROG_ARRAY') {
        progArraySlots.push({ mapIndex: m.index, slot: s.index, prog: s.target });
        continue;
      }
      const inner = spec.maps.find((x) => x.name === s.target);
      if (!inner || s.targetKind !== 'map')
        throw new LoaderError('OBJECT_MALFORMED', `map '${m.name}': slot ${s.index} names unknown map '${s.target}'`, {
          symbol: m.name,
          field: 'values',
        });
      ops.push({ op: 'populate_outer_map', outerIndex: m.index, slot: s.index, innerIndex: inner.index });
    }
    maps.push({
      name: m.name,
      ident: mapIdent(m),
      index: m.index,
      internal,
      mmapable: m.mmapable,
      valueSize: m.valueSize,
      maxEntries: attr.maxEntries,
      flags: m.flags,
      pin: m.pinning === 'by_name' ? { path: `/sys/fs/bpf/${m.name}` } : null,
    });
  }

  const rec = extRecSizes(elf);
  const ctx = {
    order,
    license: spec.license,
    maps: spec.maps,
    externs: spec.externs,
    ksymAddresses: options.ksymAddresses ?? {},
    usdtUprobeMulti: host.usdtUprobeMulti,
    funcInfoRecSize: rec.func,
    lineInfoRecSize: rec.line,
    stringOffset: stringIndex(btfSec?.data),
  };
  const loadIndex = new Map<string, number>();
  for (const p of spec.programs) {
    if (!p.autoload) continue;
    const prog = planProgram(p, ctx);
    loadIndex.set(p.name, loadIndex.size);
    ops.push({ op: 'prog_load', loadIndex: loadIndex.size - 1, prog });
  }
  for (const s of progArraySlots) {
    const n = loadIndex.get(s.prog);
    if (n === undefined)
      throw new LoaderError(
        'OBJECT_UNSUPPORTED',
        `map ${spec.maps[s.mapIndex].name}: slot ${s.slot} names program '${s.prog}', which is not loaded`,
        { symbol: s.prog, field: 'values' },
      );
    ops.push({ op: 'prog_array_update', mapIndex: s.mapIndex, slot: s.slot, loadIndex: n });
  }
  return {
    objectName: spec.name,
    byteOrder: order,
    nrPrograms,
    nrMaps: spec.maps.length,
    stackSize,
    ops,
    maps,
    programs: spec.programs.map((p) => ({ name: p.name, loaded: p.autoload })),
    host,
  };
}
