import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ATTACH_TYPE, BTF_KIND, BTF_KIND_COUNT, CMD, HELPER, LINK_TYPE, MAP_FLAG, MAP_TYPE, MAP_TYPE_COUNT, PROG_TYPE, PROG_TYPE_COUNT, UPDATE_FLAG,
} from '../../../src/loader/uapi/index.js';
import { BTF_KIND as PARSER_BTF_KIND } from '../../../src/loader/btf/types.js';
import { HELPER_NAMES } from '../../../src/loader/isa/index.js';

const HEADER = '/usr/include/linux/bpf.h';

describe('the generated UAPI enums', () => {
  it('count past the last value of 6.18: 34 map types (ARENA last), 33 program types (NETFILTER last), 20 BTF kinds', () => {
    assert.equal(MAP_TYPE_COUNT, 34);
    assert.equal(MAP_TYPE.ARENA, 33);
    assert.equal(PROG_TYPE_COUNT, 33);
    assert.equal(PROG_TYPE.NETFILTER, 32);
    assert.equal(BTF_KIND_COUNT, 20);
  });

  it('name BPF_PROG_RUN and its older alias BPF_PROG_TEST_RUN with the same value', () => {
    assert.equal(CMD.PROG_RUN, 10);
    assert.equal(CMD.PROG_TEST_RUN, CMD.PROG_RUN);
  });

  it('agree with the BTF parser\'s own kind table', () => {
    const { UNKN, ...kinds } = BTF_KIND;
    assert.equal(UNKN, 0);
    assert.deepEqual({ ...kinds, VOID: 0 }, { ...PARSER_BTF_KIND });
  });

  it('agree with the generated helper table on the helper ids the loader calls', () => {
    for (const [name, id] of Object.entries(HELPER)) assert.equal(HELPER_NAMES[id], name, `helper ${name}`);
  });

  it('agree with gcc and the installed 6.1 linux/bpf.h on every enumerator that header has', { skip: existsSync(HEADER) ? false : `${HEADER} missing` }, () => {
    const enums: [string, string, Record<string, number>][] = [
      ['BPF_PROG_TYPE_', 'PROG_TYPE', PROG_TYPE], ['BPF_', 'ATTACH_TYPE', ATTACH_TYPE], ['BPF_MAP_TYPE_', 'MAP_TYPE', MAP_TYPE],
      ['BPF_', 'CMD', CMD], ['BPF_LINK_TYPE_', 'LINK_TYPE', LINK_TYPE], ['BTF_KIND_', 'BTF_KIND', BTF_KIND], ['BPF_F_', 'MAP_FLAG', MAP_FLAG],
      ['BPF_', 'UPDATE_FLAG', UPDATE_FLAG],
    ];
    const names = enums.flatMap(([prefix, group, e]) => Object.keys(e).map((k) => ({ c: prefix + k, id: `${group}.${k}`, value: e[k]! })));
    // Enumerators are not macros (no #ifdef): compile, drop the names gcc reports undeclared (newer than the header), compile again.
    const dir = mkdtempSync(join(tmpdir(), 'uapi-enums-'));
    try {
      let live = names;
      const missing: string[] = [];
      for (let round = 0; round < 5; round++) {
        const body = live.map((n) => `printf("${n.id} %lld\\n", (long long)${n.c});`);
        const pre = '#include <stdio.h>\n#include <linux/bpf.h>\n#include <linux/btf.h>\nint main(void) {\n';
        writeFileSync(join(dir, 'e.c'), `${pre}${body.join('\n')}\nreturn 0;\n}\n`);
        try {
          execFileSync('gcc', ['-w', '-o', join(dir, 'e'), join(dir, 'e.c')], { stdio: 'pipe' });
        } catch (e) {
          const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
          const bad = new Set([...stderr.matchAll(/e\.c:(\d+):\d+: error: (.*)/g)].map((m) => {
            assert.match(m[2]!, /undeclared/, `gcc: ${m[0]}`);
            return Number(m[1]) - 5;
          }));
          assert.ok(bad.size > 0, stderr);
          missing.push(...live.filter((_, i) => bad.has(i)).map((n) => n.c));
          live = live.filter((_, i) => !bad.has(i));
          continue;
        }
        const got = new Map(execFileSync(join(dir, 'e'), { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ') as [string, string]));
        for (const n of live) assert.equal(Number(got.get(n.id)), n.value, `${n.c}`);
        console.log(`# ${live.length} of ${names.length} enumerators checked against ${HEADER}; ${missing.length} newer: ${missing.join(', ')}`);
        assert.ok(live.length > names.length / 2);
        return;
      }
      assert.fail('the enum oracle did not compile after 5 rounds');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
