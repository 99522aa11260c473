/**
 * Kernel profiles: one target kernel as plain data — the one type the bpf() model reads.
 * Built from already-read parts (profileFromParts: BTF, release, what a probe found),
 * serialised to / read from a set of files (profile.json, vmlinux.btf, modules/<name>.btf,
 * kallsyms), or put together from a few fields (profileView, for tests and BTF-only callers).
 * Whatever a profile does not say is filled in from its version and BTF, the way a kernel
 * of that version behaves. No I/O here: scripts/make-profile.ts and src/service read the host.
 */
import { type Btf, parseBtf } from '../../loader/btf/index.js';
import {
  ATTACH_TYPE,
  ATTACH_TYPE_NAME,
  MAP_TYPE,
  MAP_TYPE_COUNT,
  PROG_TYPE,
  PROG_TYPE_COUNT,
  PROG_TYPE_NAME,
} from '../../loader/uapi/enums.js';
import { BPF_ATTR_SIZE } from '../../loader/uapi/structs.js';
import { CoreNameIndex } from '../core/relocate.js';
import { E } from '../bpf/errno.js';
import { KernelError } from '../errors.js';
import { formatKallsyms, type KallsymsEntry, parseKallsyms } from './kallsyms.js';
import { type KernelVersion, parseKernelRelease } from './version.js';

export const PROFILE_FORMAT = 'bpfsign-kernel-profile/1';

/** An attach type the kernel refuses at load time, and how (e.g. TRACING / TRACE_FENTRY → EPERM); names as in the uapi enums. */
export interface RefusedAttach {
  progType: string;
  attachType: string;
  errno: string;
}

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

export interface ModuleBtf {
  name: string;
  /** Split BTF over vmlinux. */
  btf: Btf;
  /** The bytes as read (null when the profile was put together from a parsed BTF). */
  bytes: Uint8Array | null;
}

/** struct bpf_map as a loader reads it: size and the offsets of `sha` and `excl` (null when absent). */
export interface BpfMapLayout {
  size: number;
  sha: number | null;
  excl: number | null;
}

export interface KernelProfile {
  name: string;
  /** `uname -r` ('' when not known). */
  release: string;
  version: KernelVersion;
  /** vmlinux BTF, or null when the kernel has none. */
  vmlinux: Btf | null;
  /** The vmlinux BTF bytes as given (serialised unchanged); null when not known. */
  vmlinuxBytes: Uint8Array | null;
  /** Module BTFs, split over vmlinux, in name order. */
  modules: ModuleBtf[];
  /** The CO-RE candidate search's index of vmlinux and the modules: built as relocations first need it, kept with the profile. */
  coreNames: CoreNameIndex;
  /** Map type names (MAP_TYPE keys) the kernel creates (empty: not probed). */
  mapTypes: string[];
  /** Program type names (PROG_TYPE keys) the kernel loads (empty: not probed). */
  progTypes: string[];
  /**
   * Helper ids each program type may call, as probed (a non-sleepable program with the probe's
   * expected attach type); a type that is absent or null: not known, every helper is allowed.
   */
  helpers: Record<string, number[] | null>;
  /** (program type, attach type) pairs refused at BPF_PROG_LOAD before verification, and the errno. */
  refusedAttachTypes: RefusedAttach[];
  /**
   * The kernel's kallsyms: addresses bpf_kallsyms_lookup_name answers with, and what the
   * verifier looks typed ksyms and fentry/fexit/LSM targets up in (ENOENT when absent; a zero
   * address counts as absent). null: not known; the loader's lookups fail, the verifier's succeed.
   */
  kallsyms: ReadonlyMap<string, KallsymsEntry> | null;
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
  bpfMap: BpfMapLayout;
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

export interface ProfileParts {
  name?: string;
  release: string;
  vmlinuxBtf: Uint8Array;
  moduleBtf?: Record<string, Uint8Array>;
  mapTypes?: string[];
  progTypes?: string[];
  helpers?: Record<string, number[] | null>;
  refusedAttachTypes?: RefusedAttach[];
  /** What a signed BPF_PROG_LOAD found (false: EOPNOTSUPP); not given: the version's default. */
  signatureVerification?: boolean;
  /** Overrides signatureVerification (e.g. 'insns-and-maps', which no probe tells apart). */
  signature?: SignatureSupport;
  /** /proc/kallsyms text. */
  kallsyms?: string;
}

/** The JSON document stored as profile.json. */
export interface ProfileJson {
  format: typeof PROFILE_FORMAT;
  name: string;
  release: string;
  version: KernelVersion;
  vmlinux: string;
  modules: { name: string; file: string }[];
  mapTypes: string[];
  progTypes: string[];
  helpers: Record<string, number[] | null>;
  refusedAttachTypes: RefusedAttach[];
  signatureVerification: boolean;
  /** Only when signatureVerification cannot say it ('insns-and-maps'). */
  signature?: SignatureSupport;
  bpfMapExcl: boolean;
  kallsyms: string | null;
}

function invalid(message: string, details: Record<string, unknown> = {}): KernelError {
  return new KernelError('KERNEL_INVALID', `profile: ${message}`, details);
}

/** Whether `struct bpf_map` in `btf` has a member `excl` directly after `sha`. */
export function hasBpfMapExcl(btf: Btf): boolean {
  const id = btf.findByName('bpf_map', 'STRUCT');
  if (id === undefined) return false;
  const t = btf.type(id);
  if (t.kind !== 'STRUCT') return false;
  const i = t.members.findIndex((m) => m.name === 'sha');
  return i >= 0 && t.members[i + 1]?.name === 'excl';
}

function checkNames(what: string, names: string[], known: Record<string, number>): string[] {
  for (const n of names) if (!(n in known)) throw invalid(`unknown ${what} '${n}'`, { got: n });
  return [...new Set(names)].sort((a, b) => known[a] - known[b]);
}

function checkHelpers(h: Record<string, number[] | null>): Record<string, number[] | null> {
  const out: Record<string, number[] | null> = {};
  for (const k of Object.keys(h).sort((a, b) => (PROG_TYPE as Record<string, number>)[a] - (PROG_TYPE as Record<string, number>)[b])) {
    if (!(k in PROG_TYPE)) throw invalid(`helpers for unknown program type '${k}'`, { got: k });
    const v = h[k];
    if (v !== null && (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x <= 0)))
      throw invalid(`helpers of ${k} must be positive integers or null`, { got: v });
    out[k] = v === null ? null : [...new Set(v)].sort((a, b) => a - b);
  }
  return out;
}

function parseBtfOrThrow(what: string, bytes: Uint8Array, base?: Btf): Btf {
  try {
    return parseBtf(bytes, base ? { base } : {});
  } catch (e) {
    throw new KernelError('KERNEL_INVALID', `profile: ${what} is not valid BTF: ${(e as Error).message}`, { field: what }, { cause: e });
  }
}

function checkRefused(list: RefusedAttach[]): RefusedAttach[] {
  for (const r of list) {
    if (!(r.progType in PROG_TYPE)) throw invalid(`refused attach type with unknown program type '${r.progType}'`, { got: r.progType });
    if (!(r.attachType in ATTACH_TYPE))
      throw invalid(`refused attach type with unknown attach type '${r.attachType}'`, { got: r.attachType });
    if (errnoOf(r.errno) === null)
      throw invalid(`refused attach type ${r.progType}/${r.attachType} with unknown errno '${r.errno}'`, {
        got: r.errno,
        want: Object.keys(E),
      });
  }
  return list.slice().sort((a, b) => (a.attachType < b.attachType ? -1 : a.attachType > b.attachType ? 1 : 0));
}

/** errno of a name ('EPERM') or a number in a string; null when neither. */
export function errnoOf(name: string): number | null {
  if (name in E) return E[name as keyof typeof E];
  return /^\d+$/.test(name) ? Number(name) : null;
}

/** The errno the profile's kernel refuses (program type, expected attach type) with before verification, or null. */
export function refusedAttach(profile: KernelProfile, progType: number, attachType: number): number | null {
  const pt = PROG_TYPE_NAME[progType],
    at = ATTACH_TYPE_NAME[attachType];
  const r = profile.refusedAttachTypes.find((x) => x.progType === pt && x.attachType === at);
  return r ? errnoOf(r.errno) : null;
}

/** A kallsyms address of the profile's kernel; undefined when absent, hidden (zero) or not known. */
export function ksymAddress(profile: KernelProfile, name: string): bigint | undefined {
  const a = profile.kallsyms?.get(name)?.address;
  return a ? a : undefined;
}

/** Builds a profile from already-read parts (pure). */
export function profileFromParts(p: ProfileParts): KernelProfile {
  const version = parseKernelRelease(p.release);
  const vmlinux = parseBtfOrThrow('vmlinux BTF', p.vmlinuxBtf);
  const modules = Object.keys(p.moduleBtf ?? {})
    .sort()
    .map((name) => ({
      name,
      btf: parseBtfOrThrow(`module BTF '${name}'`, (p.moduleBtf ?? {})[name], vmlinux),
      bytes: (p.moduleBtf ?? {})[name],
    }));
  const v618 = version.code >= 0x061200;
  return profileView({
    name: p.name ?? `linux-${version.major}.${version.minor}`,
    release: p.release,
    version,
    vmlinux,
    vmlinuxBytes: p.vmlinuxBtf,
    modules,
    mapTypes: checkNames('map type', p.mapTypes ?? [], MAP_TYPE),
    progTypes: checkNames('program type', p.progTypes ?? [], PROG_TYPE),
    helpers: checkHelpers(p.helpers ?? {}),
    refusedAttachTypes: checkRefused(p.refusedAttachTypes ?? []),
    signature: p.signature ?? (!v618 ? 'none' : p.signatureVerification === false ? 'no-verification' : 'insns'),
    kallsyms: p.kallsyms === undefined ? null : parseKallsyms(p.kallsyms),
  });
}

/** A profile put together from some of its fields; `btf` is another name for `vmlinux`, `version` may be a KERNEL_VERSION code. */
export interface ProfileInput extends Partial<Omit<KernelProfile, 'version'>> {
  name: string;
  /** KERNEL_VERSION(a, b, c) or a parsed release (default 6.18.0). */
  version?: number | KernelVersion;
  btf?: Btf | null;
}

function memberByteOffset(btf: Btf, structId: number, member: string): number | null {
  const m = btf.members(structId).find((x) => x.name === member);
  return m ? Math.floor(m.bitOffset / 8) : null;
}

/** `__MAX_BPF_<what>_TYPE` of the BTF's enum, when the BTF has it. */
function enumMax(btf: Btf, enumName: string, maxName: string): number | undefined {
  const id = btf.findByName(enumName, 'ENUM');
  if (id === undefined) return undefined;
  const t = btf.type(id);
  return t.kind === 'ENUM' ? t.enumerators.find((e) => e.name === maxName)?.value : undefined;
}

/**
 * A complete profile from a partial one: the version (default 6.18) and the BTF decide
 * what is not given (attr and struct bpf_map layouts, the last map and program types,
 * signature support, tag hash, map hashes, exclusive maps).
 */
export function profileView(input: ProfileInput): KernelProfile {
  const version: KernelVersion =
    typeof input.version === 'object'
      ? input.version
      : input.version === undefined
        ? { major: 6, minor: 18, patch: 0, code: 0x061200 }
        : { major: input.version >> 16, minor: (input.version >> 8) & 0xff, patch: input.version & 0xff, code: input.version };
  const vmlinux = input.btf !== undefined ? input.btf : (input.vmlinux ?? null);
  const v618 = version.code >= 0x061200;
  let bpfMap = input.bpfMap;
  let attrSize = input.attrSize;
  let maxMapType = input.maxMapType,
    maxProgType = input.maxProgType;
  if (vmlinux) {
    const id = vmlinux.findByName('bpf_map', 'STRUCT');
    if (!bpfMap && id !== undefined) {
      bpfMap = { size: vmlinux.sizeOf(id), sha: memberByteOffset(vmlinux, id, 'sha'), excl: memberByteOffset(vmlinux, id, 'excl') };
    }
    const attr = vmlinux.findByName('bpf_attr', 'UNION');
    if (attrSize === undefined && attr !== undefined) attrSize = vmlinux.sizeOf(attr);
    maxMapType ??= enumMax(vmlinux, 'bpf_map_type', '__MAX_BPF_MAP_TYPE');
    maxProgType ??= enumMax(vmlinux, 'bpf_prog_type', '__MAX_BPF_PROG_TYPE');
  }
  return {
    name: input.name,
    release: input.release ?? '',
    version,
    vmlinux,
    vmlinuxBytes: input.vmlinuxBytes ?? null,
    modules: input.modules ?? [],
    coreNames: new CoreNameIndex(),
    mapTypes: input.mapTypes ?? [],
    progTypes: input.progTypes ?? [],
    helpers: input.helpers ?? {},
    refusedAttachTypes: input.refusedAttachTypes ?? [],
    kallsyms: input.kallsyms ?? null,
    signature: input.signature ?? (v618 ? 'insns' : 'none'),
    tagHash: input.tagHash ?? (v618 ? 'sha256' : 'sha1'),
    mapHash: input.mapHash ?? v618,
    mapHashNeedsFrozen: input.mapHashNeedsFrozen ?? v618,
    exclusiveMaps: input.exclusiveMaps ?? v618,
    attrSize: attrSize ?? (v618 ? BPF_ATTR_SIZE : 144),
    bpfMap: bpfMap ?? (v618 ? { size: 296, sha: 0, excl: null } : { size: 256, sha: null, excl: null }),
    gplOnlyHelpers: input.gplOnlyHelpers ?? GPL_ONLY_HELPERS,
    maxMapType: maxMapType ?? MAP_TYPE_COUNT,
    maxProgType: maxProgType ?? PROG_TYPE_COUNT,
  };
}

/** Whether program type `progType` may call helper `id`: true/false, or null when unknown. */
export function helperAllowed(profile: KernelProfile, progType: string, id: number): boolean | null {
  const h = profile.helpers[progType];
  if (h === undefined || h === null) return null;
  return h.includes(id);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The profile as files: relative path → bytes. */
export function profileToFiles(p: KernelProfile): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  if (!p.vmlinuxBytes || !p.vmlinux) throw invalid(`'${p.name}' has no vmlinux BTF bytes to write`, { field: 'vmlinuxBytes' });
  files.set('vmlinux.btf', p.vmlinuxBytes);
  const modules = p.modules.map((m) => ({ name: m.name, file: `modules/${m.name}.btf` }));
  p.modules.forEach((m, i) => {
    if (!m.bytes) throw invalid(`module BTF '${m.name}' has no bytes to write`, { field: `modules.${m.name}` });
    files.set(modules[i].file, m.bytes);
  });
  if (p.kallsyms) files.set('kallsyms', enc.encode(formatKallsyms(p.kallsyms)));
  const json: ProfileJson = {
    format: PROFILE_FORMAT,
    name: p.name,
    release: p.release,
    version: p.version,
    vmlinux: 'vmlinux.btf',
    modules,
    mapTypes: p.mapTypes,
    progTypes: p.progTypes,
    helpers: p.helpers,
    refusedAttachTypes: p.refusedAttachTypes,
    signatureVerification: p.signature === 'insns' || p.signature === 'insns-and-maps',
    ...(p.signature === 'insns-and-maps' ? { signature: p.signature } : {}),
    bpfMapExcl: hasBpfMapExcl(p.vmlinux),
    kallsyms: p.kallsyms ? 'kallsyms' : null,
  };
  files.set('profile.json', enc.encode(`${JSON.stringify(json, null, 1)}\n`));
  return files;
}

/** Reads a profile back from its files (pure: the caller reads them). */
export function profileFromFiles(files: ReadonlyMap<string, Uint8Array>): KernelProfile {
  const get = (f: string): Uint8Array => {
    const b = files.get(f);
    if (!b) throw invalid(`missing file '${f}'`, { field: f });
    return b;
  };
  let json: ProfileJson;
  try {
    json = JSON.parse(dec.decode(get('profile.json'))) as ProfileJson;
  } catch (e) {
    if (e instanceof KernelError) throw e;
    throw invalid(`profile.json is not JSON: ${(e as Error).message}`);
  }
  if (json.format !== PROFILE_FORMAT) throw invalid(`unknown format '${String(json.format)}'`, { got: json.format, want: PROFILE_FORMAT });
  const moduleBtf: Record<string, Uint8Array> = {};
  for (const m of json.modules ?? []) moduleBtf[m.name] = get(m.file);
  const p = profileFromParts({
    name: json.name,
    release: json.release,
    vmlinuxBtf: get(json.vmlinux),
    moduleBtf,
    mapTypes: json.mapTypes,
    progTypes: json.progTypes,
    helpers: json.helpers,
    refusedAttachTypes: json.refusedAttachTypes,
    signatureVerification: json.signatureVerification,
    signature: json.signature,
    kallsyms: json.kallsyms ? dec.decode(get(json.kallsyms)) : undefined,
  });
  const excl = hasBpfMapExcl(p.vmlinux!);
  if (excl !== json.bpfMapExcl) throw invalid('bpfMapExcl in profile.json disagrees with the BTF', { got: json.bpfMapExcl, want: excl });
  return p;
}
