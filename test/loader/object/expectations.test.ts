/**
 * What particular fixtures must parse to, written out by hand from their C sources
 * (test/fixtures/src) and libbpf's documented rules — not from our output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../support/objects.js';
import { parseObject, type ObjectSpec } from '../../../src/loader/object/index.js';

function fixture(file: string, name = 'fx'): ObjectSpec {
  return parseObject(new Uint8Array(readFileSync(join(FIXTURES, 'obj', file))), { name });
}

describe('map_in_map.bpf.c', () => {
  for (const order of ['el', 'eb']) {
    describe(`built for bpf${order}`, () => {
      const spec = fixture(`map_in_map.clang-${order}.o`);
      const map = (n: string) => spec.maps.find((m) => m.name === n)!;
      it('fills outer_array slots 0 and 2 with inner_a and inner_b', () => {
        assert.deepEqual(map('outer_array').slots, [
          { index: 0, target: 'inner_a', targetKind: 'map' },
          { index: 2, target: 'inner_b', targetKind: 'map' },
        ]);
      });
      it('fills outer_hash slots 1 and 5 with inner_h0 and inner_h1', () => {
        assert.deepEqual(map('outer_hash').slots, [
          { index: 1, target: 'inner_h0', targetKind: 'map' },
          { index: 5, target: 'inner_h1', targetKind: 'map' },
        ]);
      });
      it('gives every outer map a 4-byte value and its inner definition', () => {
        for (const [n, type, max, innerType, innerMax] of [
          ['outer_array', 'ARRAY_OF_MAPS', 4, 'ARRAY', 4],
          ['outer_hash', 'HASH_OF_MAPS', 8, 'HASH', 16],
          ['outer_empty', 'ARRAY_OF_MAPS', 2, 'ARRAY', 4],
        ] as const) {
          const m = map(n);
          assert.equal(m.type, type);
          assert.equal(m.maxEntries, max);
          assert.equal(m.valueSize, 4);
          assert.equal(m.inner?.name, `${n}.inner`);
          assert.equal(m.inner?.type, innerType);
          assert.equal(m.inner?.maxEntries, innerMax);
        }
        assert.deepEqual(map('outer_empty').slots, []);
      });
    });
  }
});

describe('tailcall.bpf.c', () => {
  const spec = fixture('tailcall.clang-el.o');
  it('fills jmp_table slots 1 and 3 with the programs tail_step_one and tail_step_three', () => {
    const jt = spec.maps.find((m) => m.name === 'jmp_table')!;
    assert.equal(jt.type, 'PROG_ARRAY');
    assert.deepEqual([jt.keySize, jt.valueSize, jt.maxEntries], [4, 4, 4]);
    assert.deepEqual(jt.slots, [
      { index: 1, target: 'tail_step_one', targetKind: 'prog' },
      { index: 3, target: 'tail_step_three', targetKind: 'prog' },
    ]);
  });
  it('links the static jump_to subprogram into tail_entry_const only', () => {
    const p = (n: string) => spec.programs.find((x) => x.name === n)!;
    assert.deepEqual(
      p('tail_entry_const').linked.map((l) => l.name),
      ['jump_to'],
    );
    assert.deepEqual(p('tail_entry').linked, []);
    assert.ok(p('tail_entry').helpers.includes(12), 'bpf_tail_call is helper 12');
  });
});

describe('subprogs.bpf.c', () => {
  const spec = fixture('subprogs.clang-el.o');
  const p = (n: string) => spec.programs.find((x) => x.name === n)!;
  it('appends subprograms depth-first in order of first reference, as libbpf does', () => {
    // sub_xdp calls mix_twice (→ mix), global_clamp (→ mix, already there), run_loops (→ loop_cb, loop_cb_other).
    assert.deepEqual(
      p('sub_xdp').linked.map((l) => l.name),
      ['mix_twice', 'mix', 'global_clamp', 'run_loops', 'loop_cb', 'loop_cb_other'],
    );
    assert.deepEqual(
      p('sub_tc').linked.map((l) => l.name),
      ['global_pkt_len', 'global_clamp', 'mix', 'run_loops', 'loop_cb', 'loop_cb_other'],
    );
  });
  it('places each subprogram right after the previous one', () => {
    for (const prog of spec.programs) {
      let next = prog.slots;
      for (const l of prog.linked) {
        assert.equal(l.start, next, `${prog.name}: ${l.name}`);
        next += l.slots;
      }
    }
  });
  it('patches every call so that it lands on its subprogram (imm = target - pc - 1)', () => {
    for (const prog of spec.programs) {
      const at = new Map<number, (typeof prog.insns)[number]>();
      let slot = 0;
      for (const i of prog.insns) {
        at.set(slot, i);
        slot += i.width;
      }
      const calls = prog.relocations.filter((r) => r.kind === 'call' || r.kind === 'subprog_addr');
      assert.ok(calls.length > 0);
      for (const r of calls) {
        const insn = at.get(r.insn)!;
        assert.equal(r.insn + insn.imm + 1, r.targetInsn, `${prog.name} slot ${r.insn} → ${r.target}`);
        assert.equal(insn.src, r.kind === 'call' ? 1 : 4, 'src_reg: BPF_PSEUDO_CALL or BPF_PSEUDO_FUNC');
      }
    }
  });
  it('takes the callbacks by address (ld_imm64 of a .text function)', () => {
    assert.deepEqual(
      p('sub_xdp')
        .relocations.filter((r) => r.kind === 'subprog_addr')
        .map((r) => r.kind === 'subprog_addr' && r.target),
      ['loop_cb', 'loop_cb_other'],
    );
  });
  it('marks static and global subprograms', () => {
    const g = Object.fromEntries(spec.subprograms.map((s) => [s.name, s.global]));
    assert.deepEqual([g.mix, g.mix_twice, g.global_clamp, g.global_pkt_len, g.run_loops], [false, false, true, true, false]);
  });
});

describe('ksyms.bpf.c', () => {
  const spec = fixture('ksyms.clang-el.o', 'ksyms');
  it('orders externs as libbpf: kconfig by alignment desc, size asc, name; then ksyms by name', () => {
    assert.deepEqual(
      spec.externs.map((e) => e.name),
      [
        'CONFIG_HZ',
        'CONFIG_TUN',
        'LINUX_KERNEL_VERSION',
        'CONFIG_BPF_SYSCALL',
        'CONFIG_DEFAULT_HOSTNAME',
        'bpf_prog_fops',
        'bpf_rcu_read_lock',
        'bpf_rcu_read_unlock',
        'bpf_task_acquire',
        'bpf_task_from_pid',
        'bpf_task_release',
        'bpfsign_missing_kfunc',
        'bpfsign_missing_ksym',
        'runqueues',
      ],
    );
  });
  it('lays kconfig values out at aligned offsets and sizes the .kconfig map to fit', () => {
    const k = Object.fromEntries(
      spec.externs.filter((e) => e.kconfig).map((e) => [e.name, [e.kconfig!.kind, e.kconfig!.offset, e.kconfig!.size]]),
    );
    assert.deepEqual(k, {
      CONFIG_HZ: ['int', 0, 4],
      CONFIG_TUN: ['tristate', 4, 4],
      LINUX_KERNEL_VERSION: ['int', 8, 4],
      CONFIG_BPF_SYSCALL: ['bool', 12, 1],
      CONFIG_DEFAULT_HOSTNAME: ['char_array', 13, 16],
    });
    const kc = spec.maps.find((m) => m.origin === 'kconfig')!;
    assert.equal(kc.name, 'ksyms.kconfig');
    assert.equal(kc.valueSize, 29);
    assert.equal(kc.frozen, true);
  });
  it('tells kfuncs, typed and typeless ksyms and weak ones apart', () => {
    const e = Object.fromEntries(
      spec.externs.map((x) => [x.name, `${x.func ? 'func' : x.typed ? 'typed' : 'typeless'}${x.weak ? ',weak' : ''}`]),
    );
    assert.equal(e.bpf_task_acquire, 'func');
    assert.equal(e.bpfsign_missing_kfunc, 'func,weak');
    assert.equal(e.runqueues, 'typed');
    assert.equal(e.bpf_prog_fops, 'typeless');
    assert.equal(e.bpfsign_missing_ksym, 'typeless,weak');
    assert.equal(e.LINUX_KERNEL_VERSION, 'typed');
    assert.equal(e.CONFIG_TUN, 'typed,weak');
  });
  it('resolves kfunc calls to extern_call and ksym/kconfig loads to extern_ld64', () => {
    const kinds = new Set(
      spec.programs.flatMap((p) =>
        p.relocations.map((r) => (r.kind === 'extern_call' || r.kind === 'extern_ld64' ? `${r.kind}:${r.extern}` : '')),
      ),
    );
    for (const k of [
      'extern_call:bpf_task_acquire',
      'extern_call:bpf_rcu_read_lock',
      'extern_ld64:runqueues',
      'extern_ld64:bpf_prog_fops',
      'extern_ld64:LINUX_KERNEL_VERSION',
    ]) {
      assert.ok(kinds.has(k), k);
    }
  });
});

describe('internal map names and flags', () => {
  it('prefixes with up to 15 - len(section) chars of the object name, and none for dotted custom sections', () => {
    const spec = fixture('globals.clang-el.o', 'globals_object');
    const names = spec.maps
      .filter((m) => m.origin === 'data' || m.origin === 'rodata' || m.origin === 'bss')
      .map((m) => [m.section, m.name]);
    for (const [sec, name] of names) {
      const custom = sec.indexOf('.', 1) >= 0;
      const sfx = Math.min(15, Math.max(7, sec.length));
      const expected = custom ? sec.slice(0, sfx) : 'globals_object'.slice(0, 15 - sfx) + sec.slice(0, sfx);
      assert.equal(name, expected.replace(/[^A-Za-z0-9_.]/g, '_'), sec);
    }
    assert.ok(names.some(([s]) => s === '.rodata') && names.some(([s]) => s === '.data') && names.some(([s]) => s === '.bss'));
  });
  it('freezes .rodata maps only, and makes them BPF_F_RDONLY_PROG', () => {
    const spec = fixture('globals.clang-el.o');
    for (const m of spec.maps.filter((x) => x.origin !== 'btf')) {
      assert.equal(m.frozen, m.origin === 'rodata', m.name);
      assert.equal((m.flags & 0x80) !== 0, m.origin === 'rodata', m.name);
    }
  });
});

describe('legacy_maps.bpf.c', () => {
  const spec = fixture('legacy_maps.clang-el.o');
  it('reads struct bpf_map_def maps, the non-GPL license and the version section', () => {
    assert.ok(spec.maps.length > 0 && spec.maps.every((m) => m.origin === 'legacy' && m.section === 'maps'));
    assert.notEqual(spec.license, 'GPL');
    assert.notEqual(spec.kernVersion, null);
  });
});
