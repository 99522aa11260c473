/**
 * compareWithPlan: the replay's effects against a plan's expected operations —
 * which maps (attributes, contents, frozen, slots) and which programs (type,
 * expected attach type, flags, license, attach target, instructions). Instruction
 * fields the loader fills at run time from the kernel (kfunc / ksym BTF ids and
 * fd slots, typeless ksym addresses) are compared masked; what they resolved to is
 * in the report.
 *
 * Part of verification (the service), not of the kernel model: it reads the loader's Plan.
 */
import type { Plan, PlanOp } from '../loader/plan/index.js';
import type { ReplayReport, ReportMap } from '../kernel/replay/index.js';

export interface Difference {
  path: string;
  expected: unknown;
  actual: unknown;
}

export interface Comparison {
  equal: boolean;
  differences: Difference[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const NAME_MAX = 15;

/** Instructions with the loader-patched fields of extern relocations zeroed. */
function maskExterns(insns: Uint8Array, externs: readonly { insn: number; ld64: boolean }[], le: boolean): Uint8Array {
  const out = insns.slice();
  for (const x of externs) {
    const at = 8 * x.insn;
    if (at + 8 > out.length) continue;
    out.fill(0, at + 4, at + 8); // imm: BTF id / address low
    if (x.ld64) {
      if (at + 16 <= out.length) out.fill(0, at + 12, at + 16); // second imm: BTF obj fd / address high
      out[at + 1] = insns[at + 1]! & (le ? 0x0f : 0xf0); // src_reg: the loader clears it for an unresolved weak ksym
    } else {
      out.fill(0, at + 2, at + 4); // off: fd_array slot of the module BTF
    }
  }
  return out;
}

export function compareWithPlan(report: ReplayReport, plan: Plan): Comparison {
  const d: Difference[] = [];
  const diff = (path: string, expected: unknown, actual: unknown) => {
    if (expected !== actual) d.push({ path, expected, actual });
  };
  if (!report.ok) d.push({ path: 'stage', expected: 'ok', actual: `${report.stage} (errno ${report.errno})` });
  const ops = plan.ops;
  const creates = ops.filter((o): o is Extract<PlanOp, { op: 'map_create' }> => o.op === 'map_create' && o.mapIndex >= 0);
  const inCtx = report.maps.filter((m) => m.ctxIndex !== null);
  diff('maps.length', creates.length, inCtx.length);
  const byIndex = new Map<number, ReportMap>(inCtx.map((m) => [m.ctxIndex!, m]));
  const mapIdByIndex = new Map<number, number>();
  for (const c of creates) {
    const m = byIndex.get(c.mapIndex);
    const p = `maps[${c.mapIndex}]`;
    if (!m) {
      d.push({ path: p, expected: c.attr.name, actual: null });
      continue;
    }
    mapIdByIndex.set(c.mapIndex, m.id);
    const a = c.attr;
    diff(`${p}.name`, a.name.slice(0, NAME_MAX), m.name);
    diff(`${p}.type`, a.type, m.type);
    diff(`${p}.keySize`, a.keySize, m.keySize);
    diff(`${p}.valueSize`, a.valueSize, m.valueSize);
    diff(`${p}.maxEntries`, a.maxEntries, m.maxEntries);
    diff(`${p}.flags`, a.flags, m.flags);
    diff(`${p}.mapExtra`, a.mapExtra.toString(), m.mapExtra);
    diff(`${p}.btfKeyTypeId`, a.btfKeyTypeId, m.btfKeyTypeId);
    diff(`${p}.btfValueTypeId`, a.btfValueTypeId, m.btfValueTypeId);
    const update = ops.find((o): o is Extract<PlanOp, { op: 'map_update' }> => o.op === 'map_update' && o.mapIndex === c.mapIndex);
    if (m.contents !== null) {
      const expected = update ? hex(update.value).padEnd(2 * a.valueSize * a.maxEntries, '0') : '0'.repeat(2 * a.valueSize * a.maxEntries);
      if (expected !== m.contents) d.push({ path: `${p}.contents`, expected, actual: m.contents });
    } else if (update) {
      d.push({ path: `${p}.contents`, expected: hex(update.value), actual: m.entries });
    }
    diff(
      `${p}.frozen`,
      ops.some((o) => o.op === 'map_freeze' && o.mapIndex === c.mapIndex),
      m.frozen,
    );
  }
  const loads = ops
    .filter((o): o is Extract<PlanOp, { op: 'prog_load' }> => o.op === 'prog_load')
    .sort((x, y) => x.loadIndex - y.loadIndex);
  diff('progs.length', loads.length, report.progs.length);
  const progIdByLoad = new Map<number, number>();
  loads.forEach((l, j) => {
    const r = report.progs[j];
    const p = `progs[${l.loadIndex}]`;
    if (!r) {
      d.push({ path: p, expected: l.prog.name, actual: null });
      return;
    }
    progIdByLoad.set(l.loadIndex, r.id);
    const a = l.prog;
    diff(`${p}.name`, a.name.slice(0, NAME_MAX), r.name);
    diff(`${p}.ctxIndex`, l.loadIndex, r.ctxIndex);
    diff(`${p}.type`, a.type, r.type);
    diff(`${p}.expectedAttachType`, a.expectedAttachType, r.expectedAttachType);
    diff(`${p}.flags`, a.flags, r.flags);
    diff(`${p}.license`, a.license, r.license);
    diff(`${p}.attachTarget`, a.attach?.name ?? null, r.attachTarget);
    diff(`${p}.insnCnt`, a.insnCnt, r.insnCnt);
    diff(`${p}.funcInfoCnt`, a.funcInfoCnt, r.funcInfoCnt);
    diff(`${p}.lineInfoCnt`, a.lineInfoCnt, r.lineInfoCnt);
    diff(`${p}.coreReloCnt`, a.coreReloCnt, r.coreReloCnt);
    const want = hex(maskExterns(a.insns, a.externs, plan.byteOrder === 'le'));
    const got = hex(maskExterns(Buffer.from(r.insns, 'hex'), a.externs, plan.byteOrder === 'le'));
    if (want !== got) {
      let i = 0;
      while (i < want.length && want[i] === got[i]) i++;
      d.push({
        path: `${p}.insns[${Math.floor(i / 16)}]`,
        expected: want.slice(i - (i % 16), i - (i % 16) + 16),
        actual: got.slice(i - (i % 16), i - (i % 16) + 16),
      });
    }
  });
  // Slots of fd maps.
  for (const o of ops) {
    if (o.op !== 'populate_outer_map' && o.op !== 'prog_array_update') continue;
    const mapIndex = o.op === 'populate_outer_map' ? o.outerIndex : o.mapIndex;
    const m = byIndex.get(mapIndex);
    const wantId = o.op === 'populate_outer_map' ? mapIdByIndex.get(o.innerIndex) : progIdByLoad.get(o.loadIndex);
    const slot = m?.slots.find(
      (s) => (plan.byteOrder === 'le' ? Buffer.from(s.key, 'hex').readUInt32LE(0) : Buffer.from(s.key, 'hex').readUInt32BE(0)) === o.slot,
    );
    diff(`maps[${mapIndex}].slots[${o.slot}]`, wantId, slot?.id);
  }
  return { equal: d.length === 0, differences: d };
}
