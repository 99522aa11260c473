/**
 * The feature table: keywords naming what an object uses, derived from its spec only.
 * Tests compare these with what each fixture's catalogue entry (test/fixtures/catalog.json) says it exercises.
 */
import type { ObjectSpec } from './spec.js';

/** CO-RE relocation kinds (enum bpf_core_relo_kind, include/uapi/linux/bpf.h). */
export const CORE_RELO_KINDS = [
  'field_byte_offset',
  'field_byte_size',
  'field_exists',
  'field_signed',
  'field_lshift_u64',
  'field_rshift_u64',
  'type_id_local',
  'type_id_target',
  'type_exists',
  'type_size',
  'enumval_exists',
  'enumval_value',
  'type_matches',
] as const;

/** Every keyword detectFeatures can return, with what it means. */
export const FEATURES: Record<string, string> = {
  core_field: 'CO-RE field relocations (offset, size, signedness, bitfield shifts)',
  core_exists: 'CO-RE field existence checks',
  core_type: 'CO-RE type or enum-value relocations (exists, size, id, matches, value)',
  core_bitfield: 'CO-RE bitfield reads (lshift/rshift relocations)',
  kfunc: 'kfunc calls (extern functions in .ksyms)',
  ksym_typed: 'typed kernel symbols (.ksyms variables with a BTF type)',
  ksym_typeless: 'typeless kernel symbols (.ksyms variables of type void)',
  ksym_weak: 'weak .ksyms externs',
  kconfig: '.kconfig externs',
  kconfig_weak: 'weak .kconfig externs',
  map_in_map: 'ARRAY_OF_MAPS / HASH_OF_MAPS with an inner map definition',
  map_in_map_slots: 'map-in-map with initial slots',
  prog_array: 'PROG_ARRAY maps',
  prog_array_slots: 'PROG_ARRAY with initial slots',
  subprog_static: 'static subprograms (bpf-to-bpf calls)',
  subprog_global: 'global subprograms',
  callback: 'function addresses taken (ld_imm64 BPF_PSEUDO_FUNC, e.g. bpf_loop callbacks)',
  multi_prog_section: 'several programs in one section',
  data: '.data global data',
  rodata: '.rodata global data',
  bss: '.bss global data',
  data_custom: 'custom .data.* sections',
  rodata_custom: 'custom or compiler .rodata.* sections',
  bss_custom: 'custom .bss.* sections',
  perf_event_array: 'PERF_EVENT_ARRAY maps',
  ringbuf: 'RINGBUF maps',
  pinned_map: 'maps with pinning = LIBBPF_PIN_BY_NAME',
  map_extra: 'maps with map_extra (bloom filter hashes, arena address)',
  numa_node: 'maps with a NUMA node',
  legacy_maps: 'legacy SEC("maps") struct bpf_map_def definitions',
  struct_ops: 'struct_ops maps',
  sleepable: 'sleepable programs',
  xdp_frags: 'XDP programs with frags support',
  autoload_off: 'programs not loaded by default (SEC("?..."))',
  attach_btf: 'programs with a kernel BTF attach target (fentry, lsm, tp_btf, iter, ...)',
  unknown_section: 'programs in sections libbpf does not know',
  gpl: 'GPL-compatible license',
  kern_version: 'a version section',
  big_endian: 'big-endian object',
  btf: 'BTF',
  btf_ext: 'BTF.ext (func_info, line_info)',
};

export function detectFeatures(spec: ObjectSpec): string[] {
  const f = new Set<string>();
  const relos = spec.programs.flatMap((p) => p.coreRelos);
  for (const r of relos) {
    const k = CORE_RELO_KINDS[r.kind] ?? '';
    if (k === 'field_exists') f.add('core_exists');
    else if (k.startsWith('field_')) f.add('core_field');
    else if (k) f.add('core_type');
    if (k === 'field_lshift_u64' || k === 'field_rshift_u64') f.add('core_bitfield');
  }
  for (const e of spec.externs) {
    if (e.kind === 'kconfig') {
      f.add('kconfig');
      if (e.weak) f.add('kconfig_weak');
      continue;
    }
    f.add(e.func ? 'kfunc' : e.typed ? 'ksym_typed' : 'ksym_typeless');
    if (e.weak) f.add('ksym_weak');
  }
  for (const m of spec.maps) {
    if (m.type === 'ARRAY_OF_MAPS' || m.type === 'HASH_OF_MAPS') {
      f.add('map_in_map');
      if (m.slots.length) f.add('map_in_map_slots');
    }
    if (m.type === 'PROG_ARRAY') {
      f.add('prog_array');
      if (m.slots.length) f.add('prog_array_slots');
    }
    if (m.type === 'PERF_EVENT_ARRAY') f.add('perf_event_array');
    if (m.type === 'RINGBUF') f.add('ringbuf');
    if (m.pinning !== 'none') f.add('pinned_map');
    if (m.mapExtra !== 0n) f.add('map_extra');
    if (m.numaNode !== 0 || (m.flags & 0x4) !== 0) f.add('numa_node');
    if (m.origin === 'legacy') f.add('legacy_maps');
    if (m.origin === 'struct_ops') f.add('struct_ops');
    if (m.origin === 'data') f.add(m.section === '.data' ? 'data' : 'data_custom');
    if (m.origin === 'rodata') f.add(m.section === '.rodata' ? 'rodata' : 'rodata_custom');
    if (m.origin === 'bss') f.add(m.section === '.bss' ? 'bss' : 'bss_custom');
  }
  const perSection = new Map<string, number>();
  for (const p of spec.programs) {
    perSection.set(p.section, (perSection.get(p.section) ?? 0) + 1);
    if (p.sleepable) f.add('sleepable');
    if (p.xdpFrags) f.add('xdp_frags');
    if (!p.autoload) f.add('autoload_off');
    if (p.attachBtfName) f.add('attach_btf');
    if (p.type === null) f.add('unknown_section');
    for (const r of p.relocations) if (r.kind === 'subprog_addr') f.add('callback');
  }
  if ([...perSection.values()].some((n) => n > 1)) f.add('multi_prog_section');
  const linked = new Set(spec.programs.flatMap((p) => p.linked.map((l) => l.name)));
  for (const s of spec.subprograms) if (linked.has(s.name)) f.add(s.global ? 'subprog_global' : 'subprog_static');
  if (isGplCompatible(spec.license)) f.add('gpl');
  if (spec.kernVersion !== null) f.add('kern_version');
  if (spec.byteOrder === 'be') f.add('big_endian');
  if (spec.btf) f.add('btf');
  if (spec.btf?.ext) f.add('btf_ext');
  return [...f].sort();
}

/** The kernel's license_is_gpl_compatible() list (include/linux/license.h). */
export function isGplCompatible(license: string): boolean {
  return ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'].includes(license);
}
