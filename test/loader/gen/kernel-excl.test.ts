/**
 * The exclusivity check of linux-6.18 loaders follows the target kernel: this machine's vmlinux BTF
 * says whether `struct bpf_map` has `excl` after `sha`, and a loader generated for that profile
 * (with the check when it has the field) loads and runs here; the check itself is in the bytes
 * only when the profile asks for it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../support/objects.js';
import { runLoader, runnerSkipReason } from '../../kernel-runner/harness.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { hasBpfMapExcl } from '../../../src/kernel/profile/index.js';
import { buildLoader } from '../../../src/service/loader.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

describe("linux-6.18 loaders for this kernel's profile", () => {
  const why = !existsSync(VMLINUX) ? 'no vmlinux BTF' : runnerSkipReason();
  it('carry the exclusivity check exactly when the profile has map->excl, and load here', (t) => {
    if (why) return t.skip(why);
    const excl = hasBpfMapExcl(parseBtf(new Uint8Array(readFileSync(VMLINUX))));
    t.diagnostic(`this kernel's struct bpf_map ${excl ? 'has' : 'lacks'} excl after sha`);
    const obj = new Uint8Array(readFileSync(join(FIXTURES, 'obj/xdp_filter.clang-el.o')));
    const make = (mapExcl: boolean) =>
      buildLoader(obj, 'xdp_filter.o', {
        scheme: 'linux-6.18',
        name: 'xdp_filter',
        flavour: 'v1.7',
        standalone: false,
        mapExcl,
        host: { possibleCpus: 2 },
      });
    const withCheck = make(true),
      without = make(false);
    assert.ok(withCheck.loader.insns.length > without.loader.insns.length, 'the check adds instructions');
    const built = excl ? withCheck : without;
    const rep = runLoader('excl', built.loader.insns, built.loader.data, built.plan.nrMaps, built.plan.programs.length, {
      signed: true,
      excl: built.loader.insnsHash,
    });
    assert.equal(rep.stage, 'ok', JSON.stringify({ stage: rep.stage, errno: rep.errno, log: rep.log_tail }));
    assert.equal(rep.retval, 0);
    assert.equal(rep.leaked_fds, 0);
    assert.deepEqual(rep.progs.map((p) => p.name).sort(), built.spec.programs.map((p) => p.name.slice(0, 15)).sort());
  });
});
