import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { HELPER_NAMES, helperId, helperName } from '../../../src/loader/isa/index.js';
import { helpersFromBtf, parseHelperMapper, renderTable } from '../../../scripts/gen-helpers.js';
import { release } from 'node:os';

const HEADER = '/usr/include/linux/bpf.h';
const VMLINUX = '/sys/kernel/btf/vmlinux';

describe('helperName', () => {
  it('names the helpers whose ids are fixed by the kernel ABI', () => {
    // ids from the uapi enum bpf_func_id, fixed forever by the kernel ABI
    assert.equal(helperName(1), 'map_lookup_elem');
    assert.equal(helperName(6), 'trace_printk');
    assert.equal(helperName(12), 'tail_call');
    assert.equal(helperName(51), 'redirect_map');
  });
  it('returns undefined for 0, negative and unknown ids', () => {
    assert.equal(helperName(0), undefined);
    assert.equal(helperName(-1), undefined);
    assert.equal(helperName(1e6), undefined);
    assert.equal(helperName(1.5), undefined);
  });
  it('maps names back to ids, with or without bpf_', () => {
    assert.equal(helperId('bpf_map_lookup_elem'), 1);
    assert.equal(helperId('tail_call'), 12);
    assert.equal(helperId('unspec'), undefined);
    assert.equal(helperId('nope'), undefined);
  });
});

describe('the generated helper table', () => {
  it("is what scripts/gen-helpers.ts makes from Linux 6.18's enum bpf_func_id", () => {
    const committed = readFileSync('src/loader/isa/helpers-table.ts', 'utf8');
    assert.match(committed, /^\/\/ Source: Linux 6\.18\.\d+ vmlinux BTF enum bpf_func_id \(sha256 [0-9a-f]{64}\), 212 helpers$/m);
    assert.equal(HELPER_NAMES.length, 212);
    assert.equal(HELPER_NAMES[211], 'cgrp_storage_delete');
  });
  it(
    "is what the running 6.18 kernel's BTF lists",
    { skip: existsSync(VMLINUX) && /^6\.18\./.test(release()) ? false : 'not a 6.18 kernel with BTF' },
    () => {
      const entries = helpersFromBtf(new Uint8Array(readFileSync(VMLINUX)));
      assert.deepEqual(
        HELPER_NAMES,
        entries.map((e) => e.name),
      );
      const committed = readFileSync('src/loader/isa/helpers-table.ts', 'utf8');
      const source = /^\/\/ Source: (.*)$/m.exec(committed)![1]!;
      assert.equal(committed, renderTable(entries, source));
    },
  );
  it(
    'agrees with the installed 6.1 header on every helper that header has',
    { skip: existsSync(HEADER) ? false : `${HEADER} missing` },
    () => {
      const entries = parseHelperMapper(readFileSync(HEADER, 'utf8'));
      assert.deepEqual(
        HELPER_NAMES.slice(0, entries.length),
        entries.map((e) => e.name),
      );
    },
  );
  it('parses both the old and the new mapper syntax', () => {
    const old = '#define __BPF_FUNC_MAPPER(FN)\t\\\n\tFN(unspec),\t\\\n\tFN(map_lookup_elem),\t\\\n\tFN(map_update_elem),\n';
    const neu =
      '#define ___BPF_FUNC_MAPPER(FN, ctx...)\t\\\n\tFN(unspec, 0, ##ctx)\t\\\n\tFN(map_lookup_elem, 1, ##ctx)\t\\\n\tFN(map_update_elem, 2, ##ctx)\t\\\n\t/* */\n';
    assert.deepEqual(parseHelperMapper(old), parseHelperMapper(neu));
    assert.equal(parseHelperMapper(neu)[2]!.name, 'map_update_elem');
  });
  it('rejects gaps in the ids', () => {
    assert.throws(
      () => parseHelperMapper('#define ___BPF_FUNC_MAPPER(FN, ctx...)\t\\\n\tFN(unspec, 0, ##ctx)\t\\\n\tFN(x, 5, ##ctx)\n'),
      /expected 1/,
    );
  });
});
