/**
 * What the bpf() model needs to know about the kernel it models. src/kernel/profile
 * (kernel profiles) can produce one of these; `profileView` fills every field it is
 * not given from the version and the BTF, the way the kernel of that version behaves.
 */
import type { Btf } from '../../loader/btf/index.js';

/** How PROG_LOAD treats attr.signature. */
export type SignatureSupport =
  /** no signature fields (before 6.18): a non-zero tail past fd_array_cnt is E2BIG/EINVAL */
  | 'none'
  /** fields known, no CONFIG_SYSTEM_DATA_VERIFICATION: EOPNOTSUPP */
  | 'no-verification'
  /** 6.18: PKCS#7 over the instructions */
  | 'insns'
  /** bpf-next 2026 load-time scheme: PKCS#7 over insns ‖ frozen fd_array maps when fd_array_cnt > 0 */
  | 'insns-and-maps';

export interface RefusedAttachType {
  progType: number;
  attachType: number;
  errno: number;
}

export interface ModuleBtf {
  name: string;
  btf: Btf;
}

export interface ProfileView {
  name: string;
  /** KERNEL_VERSION(a, b, c) = (a << 16) + (b << 8) + c. */
  version: number;
  /** vmlinux BTF, or null when the kernel has none. */
  btf: Btf | null;
  modules: readonly ModuleBtf[];
  /**
   * The kernel's kallsyms: addresses bpf_kallsyms_lookup_name answers with, and what the
   * verifier looks typed ksyms (BTF VARs) and fentry/fexit/LSM targets up in (ENOENT when
   * absent). null: not known; lookups by the loader fail, the verifier's are taken to succeed.
   */
  kallsyms: Readonly<Record<string, bigint>> | null;
  /**
   * (program type, expected attach type) pairs this kernel refuses at BPF_PROG_LOAD before
   * verification, with the errno (a profile's probe found e.g. TRACING/TRACE_FENTRY → EPERM).
   */
  refusedAttach: readonly RefusedAttachType[];
  signature: SignatureSupport;
  /** bpf_prog_calc_tag: SHA-256 since 6.18 (the tag is its first 8 bytes), SHA-1 before. */
  tagHash: 'sha1' | 'sha256';
  /** OBJ_GET_INFO_BY_FD fills map->sha for arrays (6.18). */
  mapHash: boolean;
  /** The map hash needs a frozen map (6.18-stable fix a2c86aa621c2): else EPERM. */
  mapHashNeedsFrozen: boolean;
  /** MAP_CREATE knows excl_prog_hash (6.18). */
  exclusiveMaps: boolean;
  /** sizeof(union bpf_attr): bytes past it must be zero (E2BIG). */
  attrSize: number;
  /** struct bpf_map as the loader reads it: size and offsets of `sha` and `excl` (null when absent). */
  bpfMap: { size: number; sha: number | null; excl: number | null };
  /** Helper ids that need a GPL-compatible license. */
  gplOnlyHelpers: ReadonlySet<number>;
  /** Map / program types the kernel knows (value of the last enum member + 1). */
  maxMapType: number;
  maxProgType: number;
}

/** Helpers whose bpf_func_proto says gpl_only = true (kernel/trace/bpf_trace.c, kernel/bpf/helpers.c). */
export const GPL_ONLY_HELPERS: ReadonlySet<number> = new Set([
  4, // probe_read
  6, // trace_printk
  22, // perf_event_read
  25, // perf_event_output
  27, // get_stackid
  36, // probe_write_user
  45, // probe_read_str
  55, // perf_event_read_value
  56, // perf_prog_read_value
  58, // override_return
  67, // get_stack
  109, // send_signal
  111, // skb_output
  112, // probe_read_user
  113, // probe_read_kernel
  114, // probe_read_user_str
  115, // probe_read_kernel_str
  117, // send_signal_thread
  119, // xdp_output
  177, // trace_vprintk
]);

export interface ProfileViewInput extends Partial<ProfileView> {
  name: string;
}

function memberByteOffset(btf: Btf, structId: number, member: string): number | null {
  const m = btf.members(structId).find((x) => x.name === member);
  return m ? Math.floor(m.bitOffset / 8) : null;
}

/** A complete view from a partial one: the version (default 6.18) and the BTF decide the rest. */
export function profileView(input: ProfileViewInput): ProfileView {
  const version = input.version ?? 0x061200;
  const btf = input.btf ?? null;
  const v618 = version >= 0x061200;
  let bpfMap = input.bpfMap;
  let attrSize = input.attrSize;
  if (btf) {
    const id = btf.findByName('bpf_map', 'STRUCT');
    if (!bpfMap && id !== undefined) {
      bpfMap = { size: btf.sizeOf(id), sha: memberByteOffset(btf, id, 'sha'), excl: memberByteOffset(btf, id, 'excl') };
    }
    const attr = btf.findByName('bpf_attr', 'UNION');
    if (attrSize === undefined && attr !== undefined) attrSize = btf.sizeOf(attr);
  }
  return {
    name: input.name,
    version,
    btf,
    modules: input.modules ?? [],
    kallsyms: input.kallsyms === undefined ? null : input.kallsyms,
    refusedAttach: input.refusedAttach ?? [],
    signature: input.signature ?? (v618 ? 'insns' : 'none'),
    tagHash: input.tagHash ?? (v618 ? 'sha256' : 'sha1'),
    mapHash: input.mapHash ?? v618,
    mapHashNeedsFrozen: input.mapHashNeedsFrozen ?? v618,
    exclusiveMaps: input.exclusiveMaps ?? v618,
    attrSize: attrSize ?? (v618 ? 168 : 144),
    bpfMap: bpfMap ?? (v618 ? { size: 296, sha: 0, excl: null } : { size: 256, sha: null, excl: null }),
    gplOnlyHelpers: input.gplOnlyHelpers ?? GPL_ONLY_HELPERS,
    maxMapType: input.maxMapType ?? 34,
    maxProgType: input.maxProgType ?? 33,
  };
}
