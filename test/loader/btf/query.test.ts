import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BtfBuilder, parseBtf, type Btf } from '../../../src/loader/btf/index.js';
import { btfSections } from './elf-sections.js';
import {
  compileKindsObjects,
  HAVE_CLANG,
  HAVE_GCC,
  HAVE_VMLINUX,
  KINDS_SOURCE,
  readBytes,
  tempDir,
  VMLINUX,
  writeTemp,
} from './helpers.js';

/** A C expression evaluated by gcc on the host, and the query on our BTF that must agree. */
interface Probe {
  c: string;
  ours: (btf: Btf) => number;
}

const UAPI_HEADERS = ['linux/ip.h', 'linux/ipv6.h', 'linux/if_ether.h', 'linux/tcp.h', 'linux/udp.h', 'linux/bpf.h', 'linux/in.h'];

/** C helper: index of the lowest set bit after setting a bitfield to all-ones in a zeroed struct. */
const BITPOS = `
#define BITPOS(T, F) ({ T v; memset(&v, 0, sizeof v); v.F = ~0u; unsigned char *b = (unsigned char *)&v; int r = -1; \\
  for (int i = 0; i < (int)sizeof v * 8; i++) if (b[i / 8] & (1 << (i % 8))) { r = i; break; } r; })
`;

/** Compiles and runs a host program printing one number per probe. */
function evalWithGcc(includes: string[], prelude: string, probes: Probe[]): number[] {
  const dir = tempDir();
  const src = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <string.h>',
    ...includes.map((h) => `#include <${h}>`),
    prelude,
    BITPOS,
    'int main(void) {',
    ...probes.map((p) => `  printf("%lld\\n", (long long)(${p.c}));`),
    '  return 0;',
    '}',
  ].join('\n');
  const c = writeTemp(dir, 'probe.c', src);
  const exe = join(dir, 'probe');
  execFileSync('gcc', ['-O0', '-w', '-o', exe, c]);
  return execFileSync(exe, { encoding: 'utf8' }).trim().split('\n').map(Number);
}

function checkProbes(btf: Btf, includes: string[], prelude: string, probes: Probe[]): void {
  const want = evalWithGcc(includes, prelude, probes);
  probes.forEach((p, i) => assert.equal(p.ours(btf), want[i], p.c));
}

const S = (btf: Btf, name: string) => btf.getByName(name, 'STRUCT');
const off = (st: string, path: string) => (btf: Btf) => btf.memberOffset(S(btf, st), path).byteOffset;
const bit = (st: string, path: string) => (btf: Btf) => btf.memberOffset(S(btf, st), path).bitOffset;
const size = (st: string) => (btf: Btf) => btf.sizeOf(S(btf, st));
const msize = (st: string, path: string) => (btf: Btf) => btf.sizeOf(btf.memberOffset(S(btf, st), path).type);

const NO_GCC = HAVE_GCC ? false : 'gcc not installed';

describe('Btf queries on vmlinux', { skip: HAVE_VMLINUX ? NO_GCC : 'no /sys/kernel/btf/vmlinux' }, () => {
  const btf = HAVE_VMLINUX ? parseBtf(readBytes(VMLINUX)) : (undefined as unknown as Btf);

  it('agree with gcc on sizes and member offsets of stable UAPI structs', () => {
    checkProbes(btf, UAPI_HEADERS, '', [
      { c: 'sizeof(struct iphdr)', ours: size('iphdr') },
      { c: 'offsetof(struct iphdr, ttl)', ours: off('iphdr', 'ttl') },
      { c: 'offsetof(struct iphdr, protocol)', ours: off('iphdr', 'protocol') },
      { c: 'offsetof(struct iphdr, saddr)', ours: off('iphdr', 'saddr') },
      { c: 'offsetof(struct iphdr, daddr)', ours: off('iphdr', 'daddr') },
      { c: 'sizeof(struct ethhdr)', ours: size('ethhdr') },
      { c: 'offsetof(struct ethhdr, h_proto)', ours: off('ethhdr', 'h_proto') },
      { c: 'sizeof(((struct ethhdr *)0)->h_source)', ours: msize('ethhdr', 'h_source') },
      { c: 'offsetof(struct ethhdr, h_source[4])', ours: off('ethhdr', 'h_source[4]') },
      { c: 'sizeof(struct ipv6hdr)', ours: size('ipv6hdr') },
      { c: 'offsetof(struct ipv6hdr, saddr)', ours: off('ipv6hdr', 'saddr') },
      { c: 'offsetof(struct ipv6hdr, daddr)', ours: off('ipv6hdr', 'daddr') },
      { c: 'offsetof(struct ipv6hdr, hop_limit)', ours: off('ipv6hdr', 'hop_limit') },
      { c: 'sizeof(struct tcphdr)', ours: size('tcphdr') },
      { c: 'offsetof(struct tcphdr, seq)', ours: off('tcphdr', 'seq') },
      { c: 'offsetof(struct tcphdr, window)', ours: off('tcphdr', 'window') },
      { c: 'sizeof(struct udphdr)', ours: size('udphdr') },
      { c: 'offsetof(struct udphdr, len)', ours: off('udphdr', 'len') },
      { c: 'sizeof(struct bpf_insn)', ours: size('bpf_insn') },
      { c: 'offsetof(struct bpf_insn, off)', ours: off('bpf_insn', 'off') },
      { c: 'offsetof(struct bpf_insn, imm)', ours: off('bpf_insn', 'imm') },
      { c: 'sizeof(struct xdp_md)', ours: size('xdp_md') },
      { c: 'offsetof(struct xdp_md, data_end)', ours: off('xdp_md', 'data_end') },
      { c: 'offsetof(struct xdp_md, rx_queue_index)', ours: off('xdp_md', 'rx_queue_index') },
      { c: 'offsetof(struct __sk_buff, protocol)', ours: off('__sk_buff', 'protocol') },
      { c: 'offsetof(struct __sk_buff, cb[2])', ours: off('__sk_buff', 'cb[2]') },
      { c: 'offsetof(struct __sk_buff, data)', ours: off('__sk_buff', 'data') },
      { c: 'offsetof(struct __sk_buff, data_end)', ours: off('__sk_buff', 'data_end') },
      { c: 'sizeof(struct sockaddr_in)', ours: size('sockaddr_in') },
      { c: 'offsetof(struct sockaddr_in, sin_addr)', ours: off('sockaddr_in', 'sin_addr') },
      { c: 'sizeof(struct bpf_map_info) >= 80', ours: (b) => Number(b.sizeOf(S(b, 'bpf_map_info')) >= 80) },
    ]);
  });

  it('agree with gcc on bitfield positions (kflag bit offsets)', () => {
    checkProbes(btf, UAPI_HEADERS, '', [
      { c: 'BITPOS(struct iphdr, ihl)', ours: bit('iphdr', 'ihl') },
      { c: 'BITPOS(struct iphdr, version)', ours: bit('iphdr', 'version') },
      { c: 'BITPOS(struct tcphdr, doff)', ours: bit('tcphdr', 'doff') },
      { c: 'BITPOS(struct tcphdr, syn)', ours: bit('tcphdr', 'syn') },
      { c: 'BITPOS(struct tcphdr, ack)', ours: bit('tcphdr', 'ack') },
    ]);
    assert.equal(btf.memberOffset(S(btf, 'tcphdr'), 'doff').bitfieldSize, 4);
    assert.equal(btf.memberOffset(S(btf, 'tcphdr'), 'syn').bitfieldSize, 1);
  });

  it('resolves typedefs and modifiers, and finds types by name and kind', () => {
    const u32 = btf.getByName('u32', 'TYPEDEF');
    assert.equal(btf.kind(btf.resolve(u32)), 'INT');
    assert.equal(btf.name(btf.resolve(u32)), 'unsigned int');
    assert.equal(btf.sizeOf(u32), 4);
    const c = btf.findAllByName('int', 'INT')[0];
    const constInt = [...btf.types()].find((t) => t.kind === 'CONST' && t.type === c)!;
    assert.equal(btf.skipModifiers(constInt.id), c);
    assert.equal(btf.findByName('no_such_type_here'), undefined);
    assert.equal(btf.findByName('task_struct', 'FWD'), undefined);
    assert.equal(btf.kind(btf.findByName('task_struct')!), 'STRUCT');
    const names = btf.members(S(btf, 'list_head')).map((m) => m.name);
    assert.deepEqual(names, ['next', 'prev']);
  });

  it('throws BTF_NOT_FOUND for unsized kinds, missing members and unknown ids', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'none';
    };
    assert.equal(
      code(() => btf.sizeOf(btf.getByName('schedule', 'FUNC'))),
      'BTF_NOT_FOUND',
    );
    assert.equal(
      code(() => btf.memberOffset(S(btf, 'iphdr'), 'nope')),
      'BTF_NOT_FOUND',
    );
    assert.equal(
      code(() => btf.type(btf.totalCount)),
      'BTF_NOT_FOUND',
    );
    assert.equal(
      code(() => btf.members(btf.getByName('int', 'INT'))),
      'BTF_NOT_FOUND',
    );
  });
});

describe('Btf queries on a compiled object', { skip: !HAVE_CLANG ? 'clang not installed' : NO_GCC }, () => {
  it('agree with gcc on the layout of the same source (arrays, unions, anonymous paths)', () => {
    const { el, eb } = compileKindsObjects(tempDir());
    const decls = KINDS_SOURCE.split('\n')
      .filter((l) => /^(#define|typedef|struct|union|enum)/.test(l))
      .join('\n');
    const probes: Probe[] = [
      { c: 'sizeof(struct holder)', ours: size('holder') },
      { c: 'sizeof(struct bits)', ours: size('bits') },
      { c: 'sizeof(union un)', ours: (b) => b.sizeOf(b.getByName('un', 'UNION')) },
      { c: 'offsetof(struct holder, u.arr[2][3])', ours: off('holder', 'u.arr[2][3]') },
      { c: 'offsetof(struct holder, x)', ours: off('holder', 'x') },
      { c: 'offsetof(struct holder, b.p)', ours: off('holder', 'b.p') },
      { c: 'BITPOS(struct bits, b)', ours: bit('bits', 'b') },
      { c: 'BITPOS(struct bits, d)', ours: bit('bits', 'd') },
    ];
    for (const path of [el, eb]) {
      const btf = parseBtf(btfSections(readBytes(path)).btf!);
      if (btf.byteOrder === 'little') checkProbes(btf, [], decls, probes);
      else
        checkProbes(
          btf,
          [],
          decls,
          probes.filter((p) => !p.c.startsWith('BITPOS')),
        );
    }
  });
});

describe('Btf queries on malformed reference chains', () => {
  it('throw BTF_MALFORMED on a typedef loop instead of hanging', () => {
    const b = new BtfBuilder();
    const a = b.add({ kind: 'TYPEDEF', name: 'a', type: 2 });
    b.add({ kind: 'TYPEDEF', name: 'b', type: a });
    const btf = b.build();
    for (const f of [() => btf.sizeOf(a), () => btf.resolve(a), () => btf.members(a)]) {
      assert.throws(
        f,
        (e: unknown) => (e as { code?: string }).code === 'BTF_MALFORMED' && (e as { details: { typeId?: number } }).details.typeId === a,
      );
    }
    const c = new BtfBuilder();
    const k = c.add({ kind: 'CONST', type: 1 });
    assert.throws(
      () => c.build().skipModifiers(k),
      (e: unknown) => (e as { code?: string }).code === 'BTF_MALFORMED',
    );
  });
});
