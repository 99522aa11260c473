import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

import {
  BPF_F_SLEEPABLE,
  BPF_F_XDP_HAS_FRAGS,
  SECTION_DEFS,
  SECTIONS_BEYOND_TARGET,
  findSectionDef,
  isSubprogramSection,
  matchSection,
  sectionDefMatches,
} from '../../../src/loader/object/sections.js';
import type { SectionInfo } from '../../../src/loader/object/sections.js';
import { ATTACH_TYPE, ATTACH_TYPE_NAME, MAP_TYPE, MAP_TYPE_NAME, PROG_TYPE, PROG_TYPE_NAME } from '../../../src/loader/uapi/enums.js';

/**
 * Expected interpretations, written by hand from libbpf v1.7's section
 * table and its prepare-load logic. Only the listed fields are compared;
 * booleans not listed are expected to be false, lists not listed empty.
 */
interface Expect {
  progType: string;
  attach: string | null;
  target?: string | null;
  autoload?: boolean;
  sleepable?: boolean;
  xdpFrags?: boolean;
  usdt?: boolean;
  optional?: boolean;
  btf?: { source: 'kernel' | 'program'; name: string | null; kind: 'FUNC' | 'TYPEDEF'; module?: string | null };
}

const CASES: Array<[string, Expect]> = [
  ['xdp', { progType: 'XDP', attach: 'XDP', optional: true }],
  ['xdp.frags', { progType: 'XDP', attach: 'XDP', xdpFrags: true }],
  ['xdp/devmap', { progType: 'XDP', attach: 'XDP_DEVMAP' }],
  ['xdp.frags/cpumap', { progType: 'XDP', attach: 'XDP_CPUMAP', xdpFrags: true }],
  ['tc', { progType: 'SCHED_CLS', attach: null }],
  ['classifier', { progType: 'SCHED_CLS', attach: null }],
  ['action', { progType: 'SCHED_ACT', attach: null }],
  ['tcx/ingress', { progType: 'SCHED_CLS', attach: 'TCX_INGRESS' }],
  ['tc/egress', { progType: 'SCHED_CLS', attach: 'TCX_EGRESS' }],
  ['netkit/primary', { progType: 'SCHED_CLS', attach: 'NETKIT_PRIMARY' }],
  ['kprobe/foo', { progType: 'KPROBE', attach: null, target: 'foo' }],
  ['kprobe/do_sys_open', { progType: 'KPROBE', attach: null, target: 'do_sys_open' }],
  ['kprobe', { progType: 'KPROBE', attach: null, target: null }],
  ['kretprobe/foo', { progType: 'KPROBE', attach: null, target: 'foo' }],
  ['kprobe.multi/foo*', { progType: 'KPROBE', attach: 'TRACE_KPROBE_MULTI', target: 'foo*' }],
  ['kretprobe.multi/bar_*', { progType: 'KPROBE', attach: 'TRACE_KPROBE_MULTI', target: 'bar_*' }],
  ['kprobe.session/vfs_*', { progType: 'KPROBE', attach: 'TRACE_KPROBE_SESSION', target: 'vfs_*' }],
  ['uprobe', { progType: 'KPROBE', attach: null }],
  ['uprobe.s//usr/bin/bash:readline', { progType: 'KPROBE', attach: null, sleepable: true, target: '/usr/bin/bash:readline' }],
  ['uprobe.multi/libc.so.6:malloc', { progType: 'KPROBE', attach: 'TRACE_UPROBE_MULTI', target: 'libc.so.6:malloc' }],
  ['uprobe.session.s', { progType: 'KPROBE', attach: 'TRACE_UPROBE_SESSION', sleepable: true }],
  ['ksyscall/openat', { progType: 'KPROBE', attach: null, target: 'openat' }],
  ['usdt', { progType: 'KPROBE', attach: null, usdt: true }],
  ['usdt.s/libc.so.6:libc:setjmp', { progType: 'KPROBE', attach: null, usdt: true, sleepable: true, target: 'libc.so.6:libc:setjmp' }],
  ['tracepoint/a/b', { progType: 'TRACEPOINT', attach: null, target: 'a/b' }],
  ['tracepoint/syscalls/sys_enter_openat', { progType: 'TRACEPOINT', attach: null, target: 'syscalls/sys_enter_openat' }],
  ['tp/a/b', { progType: 'TRACEPOINT', attach: null, target: 'a/b' }],
  ['raw_tp/x', { progType: 'RAW_TRACEPOINT', attach: null, target: 'x' }],
  ['raw_tracepoint/sched_switch', { progType: 'RAW_TRACEPOINT', attach: null, target: 'sched_switch' }],
  ['raw_tracepoint.w/x', { progType: 'RAW_TRACEPOINT_WRITABLE', attach: null, target: 'x' }],
  [
    'tp_btf/x',
    { progType: 'TRACING', attach: 'TRACE_RAW_TP', target: 'x', btf: { source: 'kernel', name: 'btf_trace_x', kind: 'TYPEDEF' } },
  ],
  ['fentry/x', { progType: 'TRACING', attach: 'TRACE_FENTRY', target: 'x', btf: { source: 'kernel', name: 'x', kind: 'FUNC' } }],
  [
    'fentry/do_unlinkat',
    { progType: 'TRACING', attach: 'TRACE_FENTRY', target: 'do_unlinkat', btf: { source: 'kernel', name: 'do_unlinkat', kind: 'FUNC' } },
  ],
  ['fexit/x', { progType: 'TRACING', attach: 'TRACE_FEXIT', target: 'x', btf: { source: 'kernel', name: 'x', kind: 'FUNC' } }],
  ['fmod_ret/x', { progType: 'TRACING', attach: 'MODIFY_RETURN', target: 'x', btf: { source: 'kernel', name: 'x', kind: 'FUNC' } }],
  [
    'fentry.s/x',
    { progType: 'TRACING', attach: 'TRACE_FENTRY', target: 'x', sleepable: true, btf: { source: 'kernel', name: 'x', kind: 'FUNC' } },
  ],
  [
    'fentry/bpf_testmod:bpf_testmod_test_read',
    {
      progType: 'TRACING',
      attach: 'TRACE_FENTRY',
      target: 'bpf_testmod:bpf_testmod_test_read',
      btf: { source: 'kernel', name: 'bpf_testmod_test_read', kind: 'FUNC', module: 'bpf_testmod' },
    },
  ],
  ['fentry', { progType: 'TRACING', attach: 'TRACE_FENTRY', target: null, btf: { source: 'kernel', name: null, kind: 'FUNC' } }],
  ['lsm/x', { progType: 'LSM', attach: 'LSM_MAC', target: 'x', btf: { source: 'kernel', name: 'bpf_lsm_x', kind: 'FUNC' } }],
  [
    'lsm/file_open',
    { progType: 'LSM', attach: 'LSM_MAC', target: 'file_open', btf: { source: 'kernel', name: 'bpf_lsm_file_open', kind: 'FUNC' } },
  ],
  [
    'lsm.s/x',
    { progType: 'LSM', attach: 'LSM_MAC', target: 'x', sleepable: true, btf: { source: 'kernel', name: 'bpf_lsm_x', kind: 'FUNC' } },
  ],
  ['lsm_cgroup/x', { progType: 'LSM', attach: 'LSM_CGROUP', target: 'x', btf: { source: 'kernel', name: 'bpf_lsm_x', kind: 'FUNC' } }],
  [
    'iter/task',
    { progType: 'TRACING', attach: 'TRACE_ITER', target: 'task', btf: { source: 'kernel', name: 'bpf_iter_task', kind: 'FUNC' } },
  ],
  [
    'iter.s/task',
    {
      progType: 'TRACING',
      attach: 'TRACE_ITER',
      target: 'task',
      sleepable: true,
      btf: { source: 'kernel', name: 'bpf_iter_task', kind: 'FUNC' },
    },
  ],
  ['freplace/x', { progType: 'EXT', attach: null, target: 'x', btf: { source: 'program', name: 'x', kind: 'FUNC' } }],
  ['syscall', { progType: 'SYSCALL', attach: null, sleepable: true }],
  ['struct_ops/x', { progType: 'STRUCT_OPS', attach: null, target: 'x' }],
  ['struct_ops.s/x', { progType: 'STRUCT_OPS', attach: null, target: 'x', sleepable: true }],
  ['struct_ops', { progType: 'STRUCT_OPS', attach: null }],
  ['cgroup_skb/ingress', { progType: 'CGROUP_SKB', attach: 'CGROUP_INET_INGRESS', optional: true }],
  ['cgroup_skb/egress', { progType: 'CGROUP_SKB', attach: 'CGROUP_INET_EGRESS', optional: true }],
  ['cgroup/skb', { progType: 'CGROUP_SKB', attach: null }],
  ['cgroup/connect4', { progType: 'CGROUP_SOCK_ADDR', attach: 'CGROUP_INET4_CONNECT', target: null }],
  ['cgroup/connect_unix', { progType: 'CGROUP_SOCK_ADDR', attach: 'CGROUP_UNIX_CONNECT' }],
  ['cgroup/sock_create', { progType: 'CGROUP_SOCK', attach: 'CGROUP_INET_SOCK_CREATE' }],
  ['cgroup/sock', { progType: 'CGROUP_SOCK', attach: 'CGROUP_INET_SOCK_CREATE', optional: true }],
  ['cgroup/dev', { progType: 'CGROUP_DEVICE', attach: 'CGROUP_DEVICE', optional: true }],
  ['cgroup/setsockopt', { progType: 'CGROUP_SOCKOPT', attach: 'CGROUP_SETSOCKOPT' }],
  ['sockops', { progType: 'SOCK_OPS', attach: 'CGROUP_SOCK_OPS', optional: true }],
  ['sk_msg', { progType: 'SK_MSG', attach: 'SK_MSG_VERDICT', optional: true }],
  ['sk_skb/stream_verdict', { progType: 'SK_SKB', attach: 'SK_SKB_STREAM_VERDICT', optional: true }],
  ['sk_skb', { progType: 'SK_SKB', attach: null }],
  ['sk_reuseport/migrate', { progType: 'SK_REUSEPORT', attach: 'SK_REUSEPORT_SELECT_OR_MIGRATE' }],
  ['socket', { progType: 'SOCKET_FILTER', attach: null }],
  ['perf_event', { progType: 'PERF_EVENT', attach: null }],
  ['sk_lookup', { progType: 'SK_LOOKUP', attach: 'SK_LOOKUP' }],
  ['netfilter', { progType: 'NETFILTER', attach: 'NETFILTER' }],
  ['flow_dissector', { progType: 'FLOW_DISSECTOR', attach: 'FLOW_DISSECTOR', optional: true }],
  ['lwt_xmit', { progType: 'LWT_XMIT', attach: null }],
  ['?tc', { progType: 'SCHED_CLS', attach: null, autoload: false }],
  [
    '?fentry/do_unlinkat',
    {
      progType: 'TRACING',
      attach: 'TRACE_FENTRY',
      target: 'do_unlinkat',
      autoload: false,
      btf: { source: 'kernel', name: 'do_unlinkat', kind: 'FUNC' },
    },
  ],
];

const NO_MATCH = [
  'xdpfoo',
  'xdp/foo',
  'xdp.fragsx',
  'tcfoo',
  'kprobefoo',
  'kprobe.multifoo',
  'uprobe.x/foo',
  'cgroup/connect4/x',
  'sk_lookup/x',
  'syscall/x',
  'foo/bar',
  '',
  '?',
  '??tc',
  '.text',
  'license',
  '.maps',
  'fsession/x',
  'tp.s/a/b',
];

function check(info: SectionInfo, secName: string, e: Expect): void {
  assert.equal(info.secName, secName);
  assert.equal(info.autoload, e.autoload ?? true, 'autoload');
  assert.equal(info.progType, e.progType, 'progType');
  assert.equal(info.progTypeId, PROG_TYPE[e.progType as keyof typeof PROG_TYPE], 'progTypeId');
  assert.equal(info.expectedAttachType, e.attach, 'expectedAttachType');
  const wantId = e.attach === null ? 0 : ATTACH_TYPE[e.attach as keyof typeof ATTACH_TYPE];
  assert.equal(info.expectedAttachTypeId, wantId, 'expectedAttachTypeId');
  assert.equal(info.expectedAttachTypeOptional, e.optional ?? false, 'expectedAttachTypeOptional');
  if ('target' in e) assert.equal(info.attachTarget, e.target, 'attachTarget');
  assert.equal(info.sleepable, e.sleepable ?? false, 'sleepable');
  assert.equal(info.xdpFrags, e.xdpFrags ?? false, 'xdpFrags');
  assert.equal(info.usdt, e.usdt ?? false, 'usdt');
  const wantFlags = ((e.sleepable ?? false) ? BPF_F_SLEEPABLE : 0) | ((e.xdpFrags ?? false) ? BPF_F_XDP_HAS_FRAGS : 0);
  assert.equal(info.progFlags, wantFlags, 'progFlags');
  assert.equal(info.attachBtf, e.btf !== undefined, 'attachBtf');
  assert.equal(info.attachBtfSource, e.btf?.source ?? null, 'attachBtfSource');
  assert.equal(info.attachBtfName, e.btf?.name ?? null, 'attachBtfName');
  assert.equal(info.attachBtfKind, e.btf?.kind ?? null, 'attachBtfKind');
  assert.equal(info.attachBtfModule, e.btf?.module ?? null, 'attachBtfModule');
  if (e.usdt) {
    assert.deepEqual(info.expectedAttachTypeAlternative, {
      when: 'FEAT_UPROBE_MULTI_LINK',
      attachType: 'TRACE_UPROBE_MULTI',
      attachTypeId: 48,
    });
  } else {
    assert.equal(info.expectedAttachTypeAlternative, null);
  }
}

describe('matchSection', () => {
  describe('for each libbpf section convention', () => {
    for (const [name, e] of CASES) {
      it(`interprets ${JSON.stringify(name)} as ${e.progType}/${e.attach ?? '0'}`, () => {
        const info = matchSection(name);
        assert.ok(info, `expected ${name} to match`);
        check(info, name, e);
      });
    }
    it('covers at least 40 section names', () => {
      assert.ok(CASES.length >= 40, `only ${CASES.length} cases`);
    });
  });

  describe('when no definition matches', () => {
    for (const name of NO_MATCH) {
      it(`returns undefined for ${JSON.stringify(name)}`, () => {
        assert.equal(matchSection(name), undefined);
      });
    }
  });

  describe('when the name starts with ?', () => {
    it('strips exactly one ? and reports autoload=false with the stripped effective name', () => {
      const info = matchSection('?xdp.frags');
      assert.ok(info);
      assert.equal(info.autoload, false);
      assert.equal(info.effectiveName, 'xdp.frags');
      assert.equal(info.secName, '?xdp.frags');
      assert.equal(info.xdpFrags, true);
    });
  });

  describe('numeric ids', () => {
    it('uses the Linux UAPI values for well-known types', () => {
      // Values from include/uapi/linux/bpf.h, written out independently of enums.ts.
      assert.equal(matchSection('socket')?.progTypeId, 1);
      assert.equal(matchSection('kprobe/x')?.progTypeId, 2);
      assert.equal(matchSection('xdp')?.progTypeId, 6);
      assert.equal(matchSection('xdp')?.expectedAttachTypeId, 37);
      assert.equal(matchSection('fentry/x')?.progTypeId, 26);
      assert.equal(matchSection('fentry/x')?.expectedAttachTypeId, 24);
      assert.equal(matchSection('fexit/x')?.expectedAttachTypeId, 25);
      assert.equal(matchSection('lsm/x')?.progTypeId, 29);
      assert.equal(matchSection('lsm/x')?.expectedAttachTypeId, 27);
      assert.equal(matchSection('cgroup/connect4')?.expectedAttachTypeId, 10);
      assert.equal(matchSection('tcx/ingress')?.expectedAttachTypeId, 46);
      assert.equal(matchSection('netfilter')?.progTypeId, 32);
      assert.equal(matchSection('kprobe.session/x')?.expectedAttachTypeId, 56);
    });
  });
});

describe('sectionDefMatches', () => {
  it('matches a plus definition exactly or before a slash only', () => {
    assert.equal(sectionDefMatches('kprobe+', 'kprobe'), true);
    assert.equal(sectionDefMatches('kprobe+', 'kprobe/'), true);
    assert.equal(sectionDefMatches('kprobe+', 'kprobe/a/b'), true);
    assert.equal(sectionDefMatches('kprobe+', 'kprobe.multi/a'), false);
    assert.equal(sectionDefMatches('kprobe+', 'kprob'), false);
  });
  it('matches a plain definition only exactly', () => {
    assert.equal(sectionDefMatches('xdp', 'xdp'), true);
    assert.equal(sectionDefMatches('xdp', 'xdpfoo'), false);
    assert.equal(sectionDefMatches('xdp', 'xdp/'), false);
  });
  it('matches a definition ending in a slash as a plain prefix', () => {
    assert.equal(sectionDefMatches('custom/', 'custom/x'), true);
    assert.equal(sectionDefMatches('custom/', 'custom'), false);
  });
});

describe('SECTION_DEFS', () => {
  it('names only program and attach types the enums know', () => {
    for (const def of SECTION_DEFS) {
      assert.ok(def.progType in PROG_TYPE, def.prefix);
      if (def.attachType !== null) assert.ok(def.attachType in ATTACH_TYPE, def.prefix);
    }
  });
  it('has each definition reachable (no earlier entry shadows it)', () => {
    for (const def of SECTION_DEFS) assert.equal(findSectionDef(def.prefix), def, def.prefix);
  });
  it('leaves out the sections newer than the target UAPI', () => {
    for (const raw of SECTIONS_BEYOND_TARGET) assert.equal(findSectionDef(raw.replace(/\+$/, '')), undefined, raw);
  });
});

describe('isSubprogramSection', () => {
  it('is true for .text only', () => {
    assert.equal(isSubprogramSection('.text'), true);
    assert.equal(isSubprogramSection('.text.startup'), false);
    assert.equal(isSubprogramSection('xdp'), false);
  });
});

// ---------------------------------------------------------------------------
// UAPI enums against the running kernel's BTF and the installed UAPI header.

const VMLINUX = '/sys/kernel/btf/vmlinux';

function bpftoolSkipReason(): string | undefined {
  if (!existsSync(VMLINUX)) return `${VMLINUX} is missing`;
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
  } catch {
    return 'bpftool is not installed';
  }
  return undefined;
}

/** Parses `bpftool btf dump format raw` ENUM records into name -> value. */
function btfEnum(raw: string, enumName: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = raw.split('\n');
  const start = lines.findIndex((l) => / ENUM '/.test(l) && l.includes(`ENUM '${enumName}'`));
  assert.ok(start >= 0, `enum ${enumName} not in BTF`);
  for (let i = start + 1; i < lines.length && /^\s+'/.test(lines[i]); i++) {
    const m = /^\s+'([A-Za-z0-9_]+)' val=(-?\d+)/.exec(lines[i]);
    assert.ok(m, `unparsed line ${lines[i]}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

function compareWithBtf(btf: Map<string, number>, prefix: string, ours: Record<string, number>, names: Record<number, string>): void {
  const want: Record<string, number> = {};
  for (const [name, val] of btf) {
    if (name.startsWith('__MAX_')) continue;
    want[name.slice(prefix.length)] = val;
  }
  assert.deepEqual({ ...ours }, want);
  const values = new Set(Object.values(want));
  assert.deepEqual(
    Object.keys(names)
      .map(Number)
      .sort((a, b) => a - b),
    [...values].sort((a, b) => a - b),
  );
  for (const val of values) {
    const aliases = Object.keys(want).filter((k) => want[k] === val);
    const preferred = aliases.filter((k) => !k.endsWith('_DEPRECATED'));
    assert.ok((preferred.length ? preferred : aliases).includes(names[val]), `reverse name of ${val}: ${names[val]}`);
  }
}

describe('UAPI enums', () => {
  const skip = bpftoolSkipReason();
  if (skip) console.log(`# skipping BTF enum checks: ${skip}`);
  const raw = skip ? '' : execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw'], { maxBuffer: 1 << 30 }).toString();

  it('PROG_TYPE equals enum bpf_prog_type of the running kernel', { skip }, () => {
    compareWithBtf(btfEnum(raw, 'bpf_prog_type'), 'BPF_PROG_TYPE_', PROG_TYPE, PROG_TYPE_NAME);
  });
  it('ATTACH_TYPE equals enum bpf_attach_type of the running kernel', { skip }, () => {
    compareWithBtf(btfEnum(raw, 'bpf_attach_type'), 'BPF_', ATTACH_TYPE, ATTACH_TYPE_NAME);
  });
  it('MAP_TYPE equals enum bpf_map_type of the running kernel', { skip }, () => {
    compareWithBtf(btfEnum(raw, 'bpf_map_type'), 'BPF_MAP_TYPE_', MAP_TYPE, MAP_TYPE_NAME);
  });
  it('reverse maps prefer the non-deprecated alias', () => {
    assert.equal(MAP_TYPE_NAME[MAP_TYPE.CGROUP_STORAGE], 'CGROUP_STORAGE');
    assert.equal(PROG_TYPE_NAME[6], 'XDP');
    assert.equal(ATTACH_TYPE_NAME[37], 'XDP');
    assert.ok(MAP_TYPE.ARENA >= 33);
  });

  const header = '/usr/include/linux/bpf.h';
  it(
    'agrees with the installed linux/bpf.h on every name it declares',
    { skip: existsSync(header) ? undefined : `${header} is missing` },
    () => {
      const text = readFileSync(header, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      let checked = 0;
      for (const [enumName, prefix, ours] of [
        ['bpf_prog_type', 'BPF_PROG_TYPE_', PROG_TYPE],
        ['bpf_attach_type', 'BPF_', ATTACH_TYPE],
        ['bpf_map_type', 'BPF_MAP_TYPE_', MAP_TYPE],
      ] as const) {
        const body = new RegExp(`enum ${enumName} \\{([^}]*)\\}`).exec(text);
        assert.ok(body, `enum ${enumName} not in ${header}`);
        const vals = new Map<string, number>();
        let next = 0;
        for (const item of body[1]
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)) {
          const [name, rhs] = item.split('=').map((s) => s.trim());
          const v = rhs === undefined ? next : /^\d+$/.test(rhs) ? Number(rhs) : vals.get(rhs);
          assert.ok(v !== undefined, `cannot evaluate ${item}`);
          vals.set(name, v);
          next = v + 1;
        }
        for (const [name, v] of vals) {
          if (name.startsWith('__MAX_')) continue;
          assert.equal((ours as Record<string, number>)[name.slice(prefix.length)], v, name);
          checked++;
        }
      }
      assert.ok(checked > 100, `checked only ${checked} names`);
    },
  );
});
