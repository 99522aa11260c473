import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  ATTACH_TYPE,
  BTF_KIND,
  BTF_KIND_COUNT,
  CMD,
  HELPER,
  LINK_TYPE,
  MAP_FLAG,
  MAP_TYPE,
  MAP_TYPE_COUNT,
  PROG_TYPE,
  PROG_TYPE_COUNT,
  UPDATE_FLAG,
} from '../../../src/loader/uapi/index.js';
import { BTF_KIND as PARSER_BTF_KIND } from '../../../src/loader/btf/types.js';
import { HELPER_NAMES } from '../../../src/loader/isa/index.js';
import { HEADER, hasGcc, runOracle } from './gcc-oracle.js';

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

  it("agree with the BTF parser's own kind table", () => {
    const { UNKN, ...kinds } = BTF_KIND;
    assert.equal(UNKN, 0);
    assert.deepEqual({ ...kinds, VOID: 0 }, { ...PARSER_BTF_KIND });
  });

  it('agree with the generated helper table on the helper ids the loader calls', () => {
    for (const [name, id] of Object.entries(HELPER)) assert.equal(HELPER_NAMES[id], name, `helper ${name}`);
  });

  it(
    'agree with gcc and the installed 6.1 linux/bpf.h on every enumerator that header has',
    { skip: !existsSync(HEADER) ? `${HEADER} missing` : !hasGcc() ? 'gcc missing' : false },
    () => {
      const enums: [string, string, Record<string, number>][] = [
        ['BPF_PROG_TYPE_', 'PROG_TYPE', PROG_TYPE],
        ['BPF_', 'ATTACH_TYPE', ATTACH_TYPE],
        ['BPF_MAP_TYPE_', 'MAP_TYPE', MAP_TYPE],
        ['BPF_', 'CMD', CMD],
        ['BPF_LINK_TYPE_', 'LINK_TYPE', LINK_TYPE],
        ['BTF_KIND_', 'BTF_KIND', BTF_KIND],
        ['BPF_F_', 'MAP_FLAG', MAP_FLAG],
        ['BPF_', 'UPDATE_FLAG', UPDATE_FLAG],
      ];
      const names = enums.flatMap(([prefix, group, e]) =>
        Object.keys(e).map((k) => ({ c: prefix + k, id: `${group}.${k}`, value: e[k]! })),
      );
      // Enumerators are not macros (no #ifdef): the oracle drops the names gcc reports undeclared (newer than the header).
      const { output, dropped } = runOracle(
        names.map((n) => `printf("${n.id} %lld\\n", (long long)${n.c});`),
        [],
        /undeclared/,
      );
      const got = new Map(
        output
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
      const live = names.filter((_, i) => !dropped.includes(i));
      for (const n of live) assert.equal(Number(got.get(n.id)), n.value, n.c);
      console.log(
        `# ${live.length} of ${names.length} enumerators checked against ${HEADER}; ${dropped.length} newer: ${dropped.map((i) => names[i]!.c).join(', ')}`,
      );
      assert.equal(got.size, live.length);
      assert.ok(live.length > names.length / 2);
    },
  );
});
