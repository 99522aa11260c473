/**
 * ELF section-name conventions for BPF programs (`SEC("...")`), as libbpf
 * v1.7 interprets them, restricted to what the Linux 6.18 UAPI can express.
 *
 * The table below is a re-expression of libbpf's built-in section
 * definitions: each entry names a section prefix, the program type and
 * expected attach type libbpf assigns, and the behaviour flags that change
 * how the program is loaded. Matching rules (libbpf `sec_def_matches`):
 *
 *  - a plain entry matches only the exact section name ("xdp" matches "xdp",
 *    not "xdpfoo" nor "xdp/foo");
 *  - a `plus` entry ("kprobe+") matches the bare name ("kprobe") or the name
 *    followed by '/' and anything ("kprobe/do_sys_open"), but never the name
 *    followed by other characters ("kprobe.multi/x" is not "kprobe+");
 *  - an entry whose name ends in '/' matches any section starting with it
 *    (libbpf keeps this form for custom handlers; no built-in entry uses it);
 *  - the first matching entry, in table order, wins.
 *
 * A leading '?' in the section name means "autoload = false": libbpf strips
 * exactly one '?' before matching and forgets it afterwards, so every other
 * property (target, BTF lookup) is computed from the name without it.
 *
 * Functions in ".text" are subprograms, not entry points, and never consult
 * this table.
 */

import { ATTACH_TYPE, PROG_TYPE } from '../uapi/enums.js';
import type { AttachTypeName, ProgTypeName } from '../uapi/enums.js';

/** Behaviour flags of a section definition (libbpf `enum sec_def_flags`). */
export type SectionFlag =
  /** expected_attach_type is dropped (sent as 0) when the kernel does not support it */
  | 'EXP_ATTACH_OPT'
  /** legacy marker for programs attachable through BPF_PROG_ATTACH; no effect on loading */
  | 'ATTACHABLE'
  /** the attach target is a BTF id (kernel/module BTF, or the target program's BTF for EXT) */
  | 'ATTACH_BTF'
  /** program is loaded with BPF_F_SLEEPABLE */
  | 'SLEEPABLE'
  /** program is loaded with BPF_F_XDP_HAS_FRAGS */
  | 'XDP_FRAGS'
  /** USDT: expected attach type becomes TRACE_UPROBE_MULTI when the kernel has uprobe-multi links */
  | 'USDT';

/** One built-in section definition. */
export interface SectionDef {
  /** section name or prefix, without the '+' marker */
  readonly prefix: string;
  /** true for libbpf "name+" entries: exact name, or name + '/' + anything */
  readonly plus: boolean;
  readonly progType: ProgTypeName;
  /** null means libbpf passes expected_attach_type = 0 */
  readonly attachType: AttachTypeName | null;
  readonly flags: readonly SectionFlag[];
}

/** BPF_F_SLEEPABLE from linux/bpf.h. */
export const BPF_F_SLEEPABLE = 1 << 4;
/** BPF_F_XDP_HAS_FRAGS from linux/bpf.h. */
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;

const NONE: readonly SectionFlag[] = [];
const ATT: readonly SectionFlag[] = ['ATTACHABLE'];
const ATT_OPT: readonly SectionFlag[] = ['ATTACHABLE', 'EXP_ATTACH_OPT'];
const BTF: readonly SectionFlag[] = ['ATTACH_BTF'];
const BTF_S: readonly SectionFlag[] = ['ATTACH_BTF', 'SLEEPABLE'];
const S: readonly SectionFlag[] = ['SLEEPABLE'];

function d(name: string, progType: ProgTypeName, attachType: AttachTypeName | null, flags: readonly SectionFlag[]): SectionDef {
  const plus = name.endsWith('+');
  return { prefix: plus ? name.slice(0, -1) : name, plus, progType, attachType, flags };
}

/**
 * libbpf v1.7 built-in section definitions, in libbpf's matching order.
 * "name+" marks a `plus` entry. Entries that need UAPI newer than Linux 6.18
 * are left out; see {@link SECTIONS_BEYOND_TARGET}.
 */
export const SECTION_DEFS: readonly SectionDef[] = Object.freeze([
  d('socket', 'SOCKET_FILTER', null, NONE),
  d('sk_reuseport/migrate', 'SK_REUSEPORT', 'SK_REUSEPORT_SELECT_OR_MIGRATE', ATT),
  d('sk_reuseport', 'SK_REUSEPORT', 'SK_REUSEPORT_SELECT', ATT),
  d('kprobe+', 'KPROBE', null, NONE),
  d('uprobe+', 'KPROBE', null, NONE),
  d('uprobe.s+', 'KPROBE', null, S),
  d('kretprobe+', 'KPROBE', null, NONE),
  d('uretprobe+', 'KPROBE', null, NONE),
  d('uretprobe.s+', 'KPROBE', null, S),
  d('kprobe.multi+', 'KPROBE', 'TRACE_KPROBE_MULTI', NONE),
  d('kretprobe.multi+', 'KPROBE', 'TRACE_KPROBE_MULTI', NONE),
  d('kprobe.session+', 'KPROBE', 'TRACE_KPROBE_SESSION', NONE),
  d('uprobe.multi+', 'KPROBE', 'TRACE_UPROBE_MULTI', NONE),
  d('uretprobe.multi+', 'KPROBE', 'TRACE_UPROBE_MULTI', NONE),
  d('uprobe.session+', 'KPROBE', 'TRACE_UPROBE_SESSION', NONE),
  d('uprobe.multi.s+', 'KPROBE', 'TRACE_UPROBE_MULTI', S),
  d('uretprobe.multi.s+', 'KPROBE', 'TRACE_UPROBE_MULTI', S),
  d('uprobe.session.s+', 'KPROBE', 'TRACE_UPROBE_SESSION', S),
  d('ksyscall+', 'KPROBE', null, NONE),
  d('kretsyscall+', 'KPROBE', null, NONE),
  d('usdt+', 'KPROBE', null, ['USDT']),
  d('usdt.s+', 'KPROBE', null, ['USDT', 'SLEEPABLE']),
  d('tc/ingress', 'SCHED_CLS', 'TCX_INGRESS', NONE),
  d('tc/egress', 'SCHED_CLS', 'TCX_EGRESS', NONE),
  d('tcx/ingress', 'SCHED_CLS', 'TCX_INGRESS', NONE),
  d('tcx/egress', 'SCHED_CLS', 'TCX_EGRESS', NONE),
  d('tc', 'SCHED_CLS', null, NONE),
  d('classifier', 'SCHED_CLS', null, NONE),
  d('action', 'SCHED_ACT', null, NONE),
  d('netkit/primary', 'SCHED_CLS', 'NETKIT_PRIMARY', NONE),
  d('netkit/peer', 'SCHED_CLS', 'NETKIT_PEER', NONE),
  d('tracepoint+', 'TRACEPOINT', null, NONE),
  d('tp+', 'TRACEPOINT', null, NONE),
  d('raw_tracepoint+', 'RAW_TRACEPOINT', null, NONE),
  d('raw_tp+', 'RAW_TRACEPOINT', null, NONE),
  d('raw_tracepoint.w+', 'RAW_TRACEPOINT_WRITABLE', null, NONE),
  d('raw_tp.w+', 'RAW_TRACEPOINT_WRITABLE', null, NONE),
  d('tp_btf+', 'TRACING', 'TRACE_RAW_TP', BTF),
  d('fentry+', 'TRACING', 'TRACE_FENTRY', BTF),
  d('fmod_ret+', 'TRACING', 'MODIFY_RETURN', BTF),
  d('fexit+', 'TRACING', 'TRACE_FEXIT', BTF),
  d('fentry.s+', 'TRACING', 'TRACE_FENTRY', BTF_S),
  d('fmod_ret.s+', 'TRACING', 'MODIFY_RETURN', BTF_S),
  d('fexit.s+', 'TRACING', 'TRACE_FEXIT', BTF_S),
  d('freplace+', 'EXT', null, BTF),
  d('lsm+', 'LSM', 'LSM_MAC', BTF),
  d('lsm.s+', 'LSM', 'LSM_MAC', BTF_S),
  d('lsm_cgroup+', 'LSM', 'LSM_CGROUP', BTF),
  d('iter+', 'TRACING', 'TRACE_ITER', BTF),
  d('iter.s+', 'TRACING', 'TRACE_ITER', BTF_S),
  d('syscall', 'SYSCALL', null, S),
  d('xdp.frags/devmap', 'XDP', 'XDP_DEVMAP', ['XDP_FRAGS']),
  d('xdp/devmap', 'XDP', 'XDP_DEVMAP', ATT),
  d('xdp.frags/cpumap', 'XDP', 'XDP_CPUMAP', ['XDP_FRAGS']),
  d('xdp/cpumap', 'XDP', 'XDP_CPUMAP', ATT),
  d('xdp.frags', 'XDP', 'XDP', ['XDP_FRAGS']),
  d('xdp', 'XDP', 'XDP', ATT_OPT),
  d('perf_event', 'PERF_EVENT', null, NONE),
  d('lwt_in', 'LWT_IN', null, NONE),
  d('lwt_out', 'LWT_OUT', null, NONE),
  d('lwt_xmit', 'LWT_XMIT', null, NONE),
  d('lwt_seg6local', 'LWT_SEG6LOCAL', null, NONE),
  d('sockops', 'SOCK_OPS', 'CGROUP_SOCK_OPS', ATT_OPT),
  d('sk_skb/stream_parser', 'SK_SKB', 'SK_SKB_STREAM_PARSER', ATT_OPT),
  d('sk_skb/stream_verdict', 'SK_SKB', 'SK_SKB_STREAM_VERDICT', ATT_OPT),
  d('sk_skb/verdict', 'SK_SKB', 'SK_SKB_VERDICT', ATT_OPT),
  d('sk_skb', 'SK_SKB', null, NONE),
  d('sk_msg', 'SK_MSG', 'SK_MSG_VERDICT', ATT_OPT),
  d('lirc_mode2', 'LIRC_MODE2', 'LIRC_MODE2', ATT_OPT),
  d('flow_dissector', 'FLOW_DISSECTOR', 'FLOW_DISSECTOR', ATT_OPT),
  d('cgroup_skb/ingress', 'CGROUP_SKB', 'CGROUP_INET_INGRESS', ATT_OPT),
  d('cgroup_skb/egress', 'CGROUP_SKB', 'CGROUP_INET_EGRESS', ATT_OPT),
  d('cgroup/skb', 'CGROUP_SKB', null, NONE),
  d('cgroup/sock_create', 'CGROUP_SOCK', 'CGROUP_INET_SOCK_CREATE', ATT),
  d('cgroup/sock_release', 'CGROUP_SOCK', 'CGROUP_INET_SOCK_RELEASE', ATT),
  d('cgroup/sock', 'CGROUP_SOCK', 'CGROUP_INET_SOCK_CREATE', ATT_OPT),
  d('cgroup/post_bind4', 'CGROUP_SOCK', 'CGROUP_INET4_POST_BIND', ATT),
  d('cgroup/post_bind6', 'CGROUP_SOCK', 'CGROUP_INET6_POST_BIND', ATT),
  d('cgroup/bind4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_BIND', ATT),
  d('cgroup/bind6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_BIND', ATT),
  d('cgroup/connect4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_CONNECT', ATT),
  d('cgroup/connect6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_CONNECT', ATT),
  d('cgroup/connect_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_CONNECT', ATT),
  d('cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP4_SENDMSG', ATT),
  d('cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP6_SENDMSG', ATT),
  d('cgroup/sendmsg_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_SENDMSG', ATT),
  d('cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP4_RECVMSG', ATT),
  d('cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP6_RECVMSG', ATT),
  d('cgroup/recvmsg_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_RECVMSG', ATT),
  d('cgroup/getpeername4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_GETPEERNAME', ATT),
  d('cgroup/getpeername6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_GETPEERNAME', ATT),
  d('cgroup/getpeername_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_GETPEERNAME', ATT),
  d('cgroup/getsockname4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_GETSOCKNAME', ATT),
  d('cgroup/getsockname6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_GETSOCKNAME', ATT),
  d('cgroup/getsockname_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_GETSOCKNAME', ATT),
  d('cgroup/sysctl', 'CGROUP_SYSCTL', 'CGROUP_SYSCTL', ATT),
  d('cgroup/getsockopt', 'CGROUP_SOCKOPT', 'CGROUP_GETSOCKOPT', ATT),
  d('cgroup/setsockopt', 'CGROUP_SOCKOPT', 'CGROUP_SETSOCKOPT', ATT),
  d('cgroup/dev', 'CGROUP_DEVICE', 'CGROUP_DEVICE', ATT_OPT),
  d('struct_ops+', 'STRUCT_OPS', null, NONE),
  d('struct_ops.s+', 'STRUCT_OPS', null, S),
  d('sk_lookup', 'SK_LOOKUP', 'SK_LOOKUP', ATT),
  d('netfilter', 'NETFILTER', 'NETFILTER', NONE),
]);

/**
 * Section names newer libbpf trees know but whose attach types (or flag
 * semantics) the Linux 6.18 UAPI lacks; they are deliberately not matched.
 */
export const SECTIONS_BEYOND_TARGET: readonly string[] = Object.freeze([
  'fsession+',
  'fsession.s+', // BPF_TRACE_FSESSION (Linux 7.0)
  'fsession.multi+',
  'fsession.multi.s+',
  'fentry.multi+',
  'fexit.multi+',
  'fentry.multi.s+',
  'fexit.multi.s+',
  'tracepoint.s+',
  'tp.s+',
  'raw_tracepoint.s+',
  'raw_tp.s+',
  'tp_btf.s+', // sleepable tracepoints
]);

/** Where the BTF id of an ATTACH_BTF program's target is looked up. */
export type AttachBtfSource = 'kernel' | 'program';

/** An expected attach type libbpf switches to when the running kernel has a feature. */
export interface AttachTypeAlternative {
  /** libbpf feature probe that decides the switch */
  readonly when: 'FEAT_UPROBE_MULTI_LINK';
  readonly attachType: AttachTypeName;
  readonly attachTypeId: number;
}

/** Everything the section name alone tells about a program. */
export interface SectionInfo {
  /** section name as found in the ELF file (including any leading '?') */
  secName: string;
  /** the name libbpf matches and keeps: secName without one leading '?' */
  effectiveName: string;
  /** the table entry that matched */
  def: SectionDef;
  /** false when the section name starts with '?' */
  autoload: boolean;
  /** UAPI program type name without BPF_PROG_TYPE_ */
  progType: ProgTypeName;
  progTypeId: number;
  /** UAPI attach type name without BPF_, or null when libbpf sends 0 */
  expectedAttachType: AttachTypeName | null;
  /** value sent as expected_attach_type (0 when expectedAttachType is null) */
  expectedAttachTypeId: number;
  /** libbpf sends 0 instead when the kernel lacks expected_attach_type support (EXP_ATTACH_OPT) */
  expectedAttachTypeOptional: boolean;
  /** profile-dependent replacement of the expected attach type (USDT on uprobe-multi kernels) */
  expectedAttachTypeAlternative: AttachTypeAlternative | null;
  /** text after the prefix and its '/', for `plus` entries ("fentry/do_unlinkat" → "do_unlinkat") */
  attachTarget: string | null;
  /** a BTF id for the target must be found before loading */
  attachBtf: boolean;
  attachBtfSource: AttachBtfSource | null;
  /** exact BTF name libbpf looks up ("btf_trace_" + tp, "bpf_lsm_" + hook, "bpf_iter_" + iter, else the function) */
  attachBtfName: string | null;
  attachBtfKind: 'FUNC' | 'TYPEDEF' | null;
  /** module named by a "module:function" target ("vmlinux" included), else null */
  attachBtfModule: string | null;
  sleepable: boolean;
  xdpFrags: boolean;
  usdt: boolean;
  /** legacy ATTACHABLE marker */
  attachable: boolean;
  /** prog_flags bits implied by the section (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS) */
  progFlags: number;
  flags: SectionFlag[];
}

/** libbpf's matching rule for one definition name, given in its raw form ("kprobe+", "xdp", "custom/"). */
export function sectionDefMatches(defName: string, secName: string): boolean {
  if (defName.length === 0) return false;
  const last = defName[defName.length - 1];
  if (last === '/') return secName.startsWith(defName);
  if (last === '+') {
    const base = defName.slice(0, -1);
    if (!secName.startsWith(base)) return false;
    return secName.length === base.length || secName[base.length] === '/';
  }
  return secName === defName;
}

function rawName(def: SectionDef): string {
  return def.plus ? `${def.prefix}+` : def.prefix;
}

/**
 * sectionDefMatches(rawName(def), ·) for each SECTION_DEFS entry, same order (the table is
 * frozen), with the name split once instead of on every lookup.
 */
const MATCHERS: readonly ((secName: string) => boolean)[] = SECTION_DEFS.map((def) => {
  const raw = rawName(def);
  if (raw.length === 0) return () => false;
  const last = raw[raw.length - 1];
  if (last === '/') return (secName: string) => secName.startsWith(raw);
  if (last === '+') {
    const base = raw.slice(0, -1);
    return (secName: string) => secName.startsWith(base) && (secName.length === base.length || secName[base.length] === '/');
  }
  return (secName: string) => secName === raw;
});

/** The first built-in definition matching `name` (already stripped of '?'), or undefined. */
export function findSectionDef(name: string): SectionDef | undefined {
  for (let i = 0; i < SECTION_DEFS.length; i++) {
    if (MATCHERS[i](name)) return SECTION_DEFS[i];
  }
  return undefined;
}

/** True for the section whose functions libbpf treats as subprograms, not programs. */
export function isSubprogramSection(secName: string): boolean {
  return secName === '.text';
}

/** BTF name prefix and kind libbpf uses for a kernel BTF target, by expected attach type. */
function kernelBtfNaming(attachType: AttachTypeName | null): { prefix: string; kind: 'FUNC' | 'TYPEDEF' } {
  switch (attachType) {
    case 'TRACE_RAW_TP':
      return { prefix: 'btf_trace_', kind: 'TYPEDEF' };
    case 'LSM_MAC':
    case 'LSM_CGROUP':
      return { prefix: 'bpf_lsm_', kind: 'FUNC' };
    case 'TRACE_ITER':
      return { prefix: 'bpf_iter_', kind: 'FUNC' };
    default:
      return { prefix: '', kind: 'FUNC' };
  }
}

/**
 * Interprets a program's ELF section name the way libbpf v1.7 does.
 * Returns undefined for names no built-in definition matches (libbpf keeps
 * such programs with an unspecified type and refuses to load them).
 */
export function matchSection(secName: string): SectionInfo | undefined {
  const autoload = !secName.startsWith('?');
  const effectiveName = autoload ? secName : secName.slice(1);
  const def = findSectionDef(effectiveName);
  if (def === undefined) return undefined;

  const flags = [...def.flags];
  const has = (f: SectionFlag): boolean => def.flags.includes(f);

  let attachTarget: string | null = null;
  if (def.plus && effectiveName.length > def.prefix.length + 1) {
    attachTarget = effectiveName.slice(def.prefix.length + 1);
  }

  const attachBtf = has('ATTACH_BTF');
  let attachBtfSource: AttachBtfSource | null = null;
  let attachBtfName: string | null = null;
  let attachBtfKind: 'FUNC' | 'TYPEDEF' | null = null;
  let attachBtfModule: string | null = null;
  if (attachBtf) {
    if (def.progType === 'EXT') {
      // freplace: the target is a FUNC in the BTF of the program being replaced.
      attachBtfSource = 'program';
      attachBtfKind = 'FUNC';
      attachBtfName = attachTarget;
    } else {
      attachBtfSource = 'kernel';
      const naming = kernelBtfNaming(def.attachType);
      attachBtfKind = naming.kind;
      if (attachTarget !== null) {
        const colon = attachTarget.indexOf(':');
        const fn = colon >= 0 ? attachTarget.slice(colon + 1) : attachTarget;
        attachBtfModule = colon >= 0 ? attachTarget.slice(0, colon) : null;
        attachBtfName = naming.prefix + fn;
      }
    }
  }

  const sleepable = has('SLEEPABLE');
  const xdpFrags = has('XDP_FRAGS');
  const usdt = has('USDT');
  return {
    secName,
    effectiveName,
    def,
    autoload,
    progType: def.progType,
    progTypeId: PROG_TYPE[def.progType],
    expectedAttachType: def.attachType,
    expectedAttachTypeId: def.attachType === null ? 0 : ATTACH_TYPE[def.attachType],
    expectedAttachTypeOptional: has('EXP_ATTACH_OPT'),
    expectedAttachTypeAlternative: usdt
      ? { when: 'FEAT_UPROBE_MULTI_LINK', attachType: 'TRACE_UPROBE_MULTI', attachTypeId: ATTACH_TYPE.TRACE_UPROBE_MULTI }
      : null,
    attachTarget,
    attachBtf,
    attachBtfSource,
    attachBtfName,
    attachBtfKind,
    attachBtfModule,
    sleepable,
    xdpFrags,
    usdt,
    attachable: has('ATTACHABLE'),
    progFlags: (sleepable ? BPF_F_SLEEPABLE : 0) | (xdpFrags ? BPF_F_XDP_HAS_FRAGS : 0),
    flags,
  };
}
