/**
 * The loader's context (what the light skeleton passes to BPF_PROG_RUN): `struct bpf_loader_ctx`
 * followed by one `bpf_map_desc` per map and one `bpf_prog_desc` per program (skel_internal.h).
 */
import type { StructLayout } from './layout.js';

export const BPF_LOADER_CTX = {
  name: 'bpf_loader_ctx',
  size: 24,
  fields: {
    sz: { offset: 0, type: 'u32' },
    flags: { offset: 4, type: 'u32' },
    log_level: { offset: 8, type: 'u32' },
    log_size: { offset: 12, type: 'u32' },
    log_buf: { offset: 16, type: 'u64' },
  },
} as const satisfies StructLayout<string>;

export const BPF_MAP_DESC = {
  name: 'bpf_map_desc',
  size: 16,
  fields: { map_fd: { offset: 0, type: 's32' }, max_entries: { offset: 4, type: 'u32' }, initial_value: { offset: 8, type: 'u64' } },
} as const satisfies StructLayout<string>;

export const BPF_PROG_DESC = {
  name: 'bpf_prog_desc',
  size: 4,
  fields: { prog_fd: { offset: 0, type: 's32' } },
} as const satisfies StructLayout<string>;

/** Offsets inside the ctx for a loader with `nrMaps` maps. */
export const ctxOffsets = {
  mapDesc: (i: number) => BPF_LOADER_CTX.size + BPF_MAP_DESC.size * i,
  mapFd: (i: number) => BPF_LOADER_CTX.size + BPF_MAP_DESC.size * i + BPF_MAP_DESC.fields.map_fd.offset,
  mapMaxEntries: (i: number) => BPF_LOADER_CTX.size + BPF_MAP_DESC.size * i + BPF_MAP_DESC.fields.max_entries.offset,
  mapInitialValue: (i: number) => BPF_LOADER_CTX.size + BPF_MAP_DESC.size * i + BPF_MAP_DESC.fields.initial_value.offset,
  progFd: (nrMaps: number, j: number) => BPF_LOADER_CTX.size + BPF_MAP_DESC.size * nrMaps + BPF_PROG_DESC.size * j,
  /** ctx.sz: where the skeleton's `links` member starts. */
  size: (nrMaps: number, nrProgs: number) => BPF_LOADER_CTX.size + BPF_MAP_DESC.size * nrMaps + BPF_PROG_DESC.size * nrProgs,
} as const;
