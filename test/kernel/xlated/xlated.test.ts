/**
 * The xlated-length model: hand-made programs (pure), then every test object against this
 * kernel — the loader runs for real (test/kernel-runner) and in replay, and the model's
 * prediction for each program must equal bpf_prog_info.xlated_prog_len / 8 wherever the model
 * says it covers every rewrite the program needs. Kernel comparisons skip with the reason when
 * bpf() is not permitted here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeInsns } from '../../../src/loader/isa/index.js';
import { alu32, alu64, call, exit, jmp, ldMapFd, ldMapValue, ldx, mov64 } from '../../../src/loader/isa/dsl.js';
import type { Insn } from '../../../src/loader/isa/instruction.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { generateLoader } from '../../../src/loader/gen/index.js';
import type { Plan } from '../../../src/loader/plan/index.js';
import { MAP_TYPE, PROG_TYPE } from '../../../src/loader/uapi/index.js';
import { replay, xlatedInputFromReport } from '../../../src/kernel/replay/index.js';
import { globalFuncStarts, xlatedLength, type XlatedMap } from '../../../src/kernel/xlated/index.js';
import { runLoader, runnerSkipReason } from '../../kernel-runner/harness.js';
import { allObjects, planFor } from '../../loader/gen/support.js';
import { hostProfile } from '../replay/support.js';

const bytes = (insns: Insn[]) => encodeInsns(insns, 'le');
const rodata = (value: number[]): XlatedMap => ({
  type: MAP_TYPE.ARRAY,
  keySize: 4,
  valueSize: value.length,
  maxEntries: 1,
  flags: 0x80,
  frozen: true,
  contents: new Uint8Array(value),
});

describe('xlated length model', () => {
  it('removes the code a frozen read-only value makes unreachable, and the jump that skipped it', () => {
    // r1 = &rodata; r2 = *(u8 *)(r1 + 0); if r2 == 0 goto out; r0 = 1; r0 += 1; out: r0 = 2; exit
    const prog = [ldMapValue(1, 3, 0), ldx.b(2, 1, 0), jmp.jeq.imm(2, 0, 2), mov64.imm(0, 1), alu32.add.imm(0, 1), mov64.imm(0, 2), exit()];
    const r = xlatedLength({
      insns: bytes(prog),
      progType: PROG_TYPE.XDP,
      expectedAttachType: 0,
      maps: [{ insn: 0, pseudo: 2, map: rodata([0]), offset: 0 }],
    });
    assert.equal(r.count, 5, JSON.stringify(r.steps));
    assert.ok(r.exact);
    assert.deepEqual(r.steps.map((s) => s.kind).sort(), ['dead-code', 'nop']);
  });

  it('keeps both sides of a branch on a map value that is not frozen', () => {
    const m = { ...rodata([0]), frozen: false };
    const prog = [ldMapValue(1, 3, 0), ldx.b(2, 1, 0), jmp.jeq.imm(2, 0, 2), mov64.imm(0, 1), alu32.add.imm(0, 1), mov64.imm(0, 2), exit()];
    const r = xlatedLength({
      insns: bytes(prog),
      progType: PROG_TYPE.XDP,
      expectedAttachType: 0,
      maps: [{ insn: 0, pseudo: 2, map: m, offset: 0 }],
    });
    assert.equal(r.count, 8);
  });

  it('inlines an array map lookup as seven instructions and a hash lookup as three', () => {
    const lookup = [mov64.reg(2, 10), jmp.ja(0), ldMapFd(1, 3), call.helper(1), mov64.imm(0, 0), exit()];
    const arr: XlatedMap = { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, frozen: false, contents: null };
    const hash: XlatedMap = { ...arr, type: MAP_TYPE.HASH };
    const base = { insns: bytes(lookup), progType: PROG_TYPE.SOCKET_FILTER, expectedAttachType: 0 };
    // 7 slots, minus the `ja +0`, plus the inlined lookup
    assert.equal(xlatedLength({ ...base, maps: [{ insn: 2, pseudo: 1, map: arr, offset: 0 }] }).count, 7 - 1 + 6);
    assert.equal(xlatedLength({ ...base, maps: [{ insn: 2, pseudo: 1, map: hash, offset: 0 }] }).count, 7 - 1 + 2);
  });

  it('expands xdp_md->rx_queue_index into two loads and ingress_ifindex into three', () => {
    const prog = [ldx.w(2, 1, 16), ldx.w(3, 1, 12), mov64.imm(0, 2), exit()];
    const r = xlatedLength({ insns: bytes(prog), progType: PROG_TYPE.XDP, expectedAttachType: 0, maps: [] });
    assert.equal(r.count, 4 + 1 + 2);
  });

  it('guards a 64-bit division by a register against zero with three more instructions', () => {
    const prog = [mov64.imm(0, 7), mov64.imm(2, 1), alu64.div.reg(0, 2), exit()];
    const r = xlatedLength({ insns: bytes(prog), progType: PROG_TYPE.SOCKET_FILTER, expectedAttachType: 0, maps: [] });
    assert.equal(r.count, 4 + 3);
  });

  it('says it is not exact for ctx fields of program types it does not model', () => {
    const prog = [ldx.w(2, 1, 4), mov64.imm(0, 1), exit()];
    const r = xlatedLength({ insns: bytes(prog), progType: PROG_TYPE.SOCK_OPS, expectedAttachType: 0, maps: [] });
    assert.equal(r.exact, false);
    assert.match(r.unmodelled.join(';'), /ctx read at offset 4/);
  });
});

/** Global subprogram starts of the load with index `loadIndex`, from the plan's BTF and func_info. */
function globalFuncs(plan: Plan, loadIndex: number): number[] {
  const btfOp = plan.ops.find((o) => o.op === 'btf_load');
  const load = plan.ops.find((o) => o.op === 'prog_load' && o.loadIndex === loadIndex);
  if (!btfOp || btfOp.op !== 'btf_load' || !load || load.op !== 'prog_load' || !load.prog.funcInfoCnt) return [];
  const btf = parseBtf(btfOp.btf);
  const p = load.prog;
  const dv = new DataView(p.funcInfo.buffer, p.funcInfo.byteOffset, p.funcInfo.byteLength);
  const le = plan.byteOrder === 'le';
  const recs = Array.from({ length: p.funcInfoCnt }, (_, k) => ({
    insn: dv.getUint32(k * p.funcInfoRecSize, le),
    typeId: dv.getUint32(k * p.funcInfoRecSize + 4, le),
  }));
  return globalFuncStarts(btf, recs);
}

describe('xlated length against this kernel', () => {
  const why = runnerSkipReason();
  interface Row {
    object: string;
    program: string;
    loaded: number;
    model: number;
    kernel: number;
    exact: boolean;
    unmodelled: string[];
  }
  const render = (r: Row) =>
    `${r.object} ${r.program}: loaded ${r.loaded}, model ${r.model}, kernel ${r.kernel}${r.exact ? '' : ` (not exact: ${r.unmodelled.join('; ')})`}`;
  const rows: Row[] = [];
  /** Per object: 'compared', a skip reason, or 'incomplete' when its test stopped on a failed assertion. */
  const outcomes = new Map<string, string>();
  const objects = allObjects().filter((x) => !x.name.includes('-eb'));
  for (const o of objects) {
    it(`${o.name}: the predicted xlated length of each program equals the kernel's`, (t) => {
      if (why) return t.skip(why);
      const skip = (reason: string) => {
        outcomes.set(o.name, reason);
        t.skip(reason);
      };
      outcomes.set(o.name, 'incomplete');
      let plan, g;
      try {
        plan = planFor(o);
        g = generateLoader(plan, { scheme: 'unsigned' });
      } catch (e) {
        return skip(`no loader: ${(e as Error).message}`);
      }
      const k = runLoader(`xlated-${o.name}`, g.insns, g.data, g.ctxLayout.maps.length, g.ctxLayout.progs.length);
      if (k.stage !== 'ok') return skip(`the kernel refused the loader (${k.stage}, errno ${k.errno})`);
      const r = replay(g, hostProfile(), { ctx: g.ctxLayout });
      if (r.stage !== 'ok') return skip(`the model refused the loader (${r.stage}, errno ${r.errno})`);
      for (const kp of k.progs.filter((x) => x.fd > 0)) {
        const p = r.progs.find((x) => x.ctxIndex === kp.index);
        assert.ok(p, `program ${kp.index} missing in the model`);
        const res = xlatedLength(xlatedInputFromReport(p, r.maps, { globalFuncs: globalFuncs(plan, kp.index) }));
        const row: Row = {
          object: o.name,
          program: p.name,
          loaded: p.insnCnt,
          model: res.count,
          kernel: kp.xlated_prog_len! / 8,
          exact: res.exact,
          unmodelled: res.unmodelled,
        };
        rows.push(row);
        assert.deepEqual(
          { count: p.xlated.insnCnt, exact: p.xlated.exact },
          { count: res.count, exact: res.exact },
          `${p.name}: the replay report carries the same prediction`,
        );
        t.diagnostic(render(row));
        if (res.exact) assert.equal(res.count, row.kernel, `${p.name}: ${JSON.stringify(res.steps)}`);
      }
      outcomes.set(o.name, 'compared');
    });
  }
  it('prints the table: a row for every program the kernel loaded, every object accounted for, exact rows equal to the kernel', (t) => {
    if (why) return t.skip(why);
    // Runs after the per-object tests above (node:test runs a suite's tests in order).
    assert.deepEqual(
      [...outcomes.keys()],
      objects.map((o) => o.name),
      'every object has an outcome, in order',
    );
    assert.deepEqual(
      [...outcomes].filter(([, v]) => v === 'incomplete'),
      [],
      'no object stopped half way',
    );
    const compared = [...outcomes].filter(([, v]) => v === 'compared').map(([name]) => name);
    assert.ok(compared.length > 0, 'the kernel and the model loaded at least one object');
    assert.deepEqual(rows.filter((r) => !compared.includes(r.object)).map(render), [], 'rows come only from compared objects');
    assert.equal(new Set(rows.map((r) => `${r.object} ${r.program}`)).size, rows.length, 'one row per program');
    for (const r of rows) {
      assert.ok(Number.isInteger(r.kernel) && r.kernel > 0 && r.loaded > 0, render(r));
      if (r.exact) assert.equal(r.model, r.kernel, render(r));
      else assert.ok(r.unmodelled.length > 0, `${render(r)}: a row that is not exact says why`);
    }
    const table = rows.map(render);
    assert.equal(table.length, rows.length);
    for (const line of table) t.diagnostic(line);
    t.diagnostic(`${rows.length} programs, ${rows.filter((r) => r.exact).length} exact and equal to the kernel`);
  });
});
