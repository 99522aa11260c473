/**
 * The model against this kernel: the same unsigned loader runs through
 * test/kernel-runner/runner.c (real bpf()) and through replay; maps (name, type, sizes,
 * flags, contents, frozen) and programs (name, type, tag, and the xlated length wherever the
 * model says its prediction is exact) must agree, and where the kernel
 * refuses, the model must refuse the same step with the same errno (and a verifier refusal
 * for the reason the kernel's verifier log gives). Skips with the reason when bpf() is not
 * permitted here, and for objects our generator makes no loader for.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { replay } from '../../../src/kernel/replay/index.js';
import { runLoader, runnerSkipReason } from '../../kernel-runner/harness.js';
import { allObjects, planFor } from '../../loader/gen/support.js';
import { hostProfile } from './support.js';

describe('replay against this kernel', () => {
  const why = runnerSkipReason();
  for (const o of allObjects().filter((x) => !x.name.includes('-eb'))) {
    it(`${o.name}: the outcome, maps, program types and tags equal the kernel's`, (t) => {
      if (why) return t.skip(why);
      let plan, g;
      try {
        plan = planFor(o);
        g = generateLoader(plan, { scheme: 'unsigned' });
      } catch (e) {
        return t.skip(`no loader: ${(e as Error).message}`);
      }
      const k = runLoader(`replay-${o.name}`, g.insns, g.data, g.ctxLayout.maps.length, g.ctxLayout.progs.length);
      const r = replay(g, hostProfile(), { ctx: g.ctxLayout });
      if (k.stage !== 'ok') {
        // The kernel refused a step: the model must refuse the same step with the same errno,
        // and where the refusal is the verifier's, for the reason the verifier logs.
        const refusal = r.trace.filter((x) => x.errno || (typeof x.result === 'number' && x.result < 0 && x.op !== 'close')).at(-1);
        t.diagnostic(
          `kernel: ${k.stage} errno ${k.errno}; model: ${r.stage} errno ${r.errno}: ${refusal ? `${refusal.op} ${JSON.stringify(refusal.args ?? {})} = ${refusal.result} ${refusal.reason ?? ''}` : 'no refused call'}`,
        );
        assert.equal(r.stage, k.stage, 'the step that failed');
        assert.equal(r.errno, k.errno, 'errno');
        const verifier = refusal?.op === 'PROG_LOAD' ? /^[A-Z0-9]+: insn \d+: (.*)$/.exec(refusal.reason ?? '') : null;
        if (verifier) {
          const logged = runLoader(`replay-log-${o.name}`, g.insns, g.data, g.ctxLayout.maps.length, g.ctxLayout.progs.length, {
            log: true,
          });
          assert.equal(logged.errno, k.errno, 'the same loader with a verifier log');
          assert.ok(
            (logged.ctx_log_tail ?? '').includes(verifier[1]!),
            `the kernel's verifier log says why: want '${verifier[1]}' in …${(logged.ctx_log_tail ?? '').slice(-300)}`,
          );
        }
        return;
      }
      assert.equal(r.stage, 'ok', `model: ${r.stage} errno ${r.errno}: ${JSON.stringify(r.trace.filter((x) => x.errno))}`);
      assert.equal(r.retval, k.retval, 'loader return value');
      const maps = r.maps.filter((m) => m.ctxIndex !== null).sort((a, b) => a.ctxIndex! - b.ctxIndex!);
      assert.equal(maps.length, k.maps.filter((m) => m.fd > 0).length, 'number of maps');
      for (const km of k.maps.filter((x) => x.fd > 0)) {
        const m = maps.find((x) => x.ctxIndex === km.index);
        assert.ok(m, `map ${km.index} missing in the model`);
        const p = `map ${km.index} (${km.name})`;
        assert.equal(m.name, km.name, `${p} name`);
        assert.equal(m.type, km.type, `${p} type`);
        assert.equal(m.keySize, km.key_size, `${p} key_size`);
        assert.equal(m.valueSize, km.value_size, `${p} value_size`);
        assert.equal(m.maxEntries, km.max_entries, `${p} max_entries`);
        assert.equal(m.flags, km.flags, `${p} flags`);
        if (km.contents !== null && km.contents !== undefined) assert.equal(m.contents, km.contents, `${p} contents`);
        if (km.frozen !== null && km.frozen !== undefined) assert.equal(m.frozen, km.frozen, `${p} frozen`);
      }
      assert.equal(r.progs.length, k.progs.filter((x) => x.fd > 0).length, 'number of programs');
      for (const kp of k.progs.filter((x) => x.fd > 0)) {
        const p = r.progs.find((x) => x.ctxIndex === kp.index);
        assert.ok(p, `program ${kp.index} missing in the model`);
        assert.equal(p.name, kp.name, `program ${kp.index} name`);
        assert.equal(p.type, kp.type, `program ${kp.name} type`);
        assert.equal(p.tag, kp.tag, `program ${kp.name} tag`);
        const kernelXlated = kp.xlated_prog_len! / 8;
        if (p.xlated.exact)
          assert.equal(p.xlated.insnCnt, kernelXlated, `program ${kp.name}: the model's xlated length (loaded ${p.insnCnt})`);
        else
          t.diagnostic(
            `${kp.name}: ${p.insnCnt} insns loaded, model ~${p.xlated.insnCnt} (not exact: ${p.xlated.unmodelled.join('; ')}), kernel's xlated length ${kernelXlated}`,
          );
      }
    });
  }
});
