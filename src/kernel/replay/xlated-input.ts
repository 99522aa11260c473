/**
 * A replay report's programs and maps as input for the xlated-length model (src/kernel/xlated):
 * the adapter sits here, above both, so that xlated (which the bpf() model uses at PROG_LOAD)
 * knows nothing of replay reports.
 */
import type { XlatedInput, XlatedMap } from '../xlated/index.js';
import type { ReportMap, ReportProg } from './report.js';

/** The map as the xlated model needs it, from a replay report's map. */
export function xlatedMapFromReport(m: ReportMap): XlatedMap {
  return {
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    frozen: m.frozen,
    contents: m.contents === null ? null : new Uint8Array(Buffer.from(m.contents, 'hex')),
    inner: m.innerMap ? { ...m.innerMap } : null,
  };
}

/**
 * The input for one program of a replay report: its instructions (`prog.insns`), type and
 * expected attach type, flags, and every map ld_imm64 (`prog.maps`) resolved against `maps`
 * (the report's `maps`, found by id). Map state is taken as the report has it at the end of the
 * run, which is the state at PROG_LOAD for the loaders bpfsign generates (maps are created,
 * filled and frozen before programs load). The bpf() model's own prediction (the report's
 * `prog.xlated`) takes the maps' state at the program's PROG_LOAD.
 */
export function xlatedInputFromReport(prog: ReportProg, maps: readonly ReportMap[], extra: Partial<XlatedInput> = {}): XlatedInput {
  const byId = new Map(maps.map((m) => [m.id, m]));
  const cache = new Map<number, XlatedMap>();
  const get = (id: number): XlatedMap => {
    let x = cache.get(id);
    if (!x) {
      const m = byId.get(id);
      x = m ? xlatedMapFromReport(m) : { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, frozen: false, contents: null };
      cache.set(id, x);
    }
    return x;
  };
  return {
    insns: new Uint8Array(Buffer.from(prog.insns, 'hex')),
    progType: prog.type,
    expectedAttachType: prog.expectedAttachType,
    progFlags: prog.flags,
    maps: prog.maps.map((l) => ({ insn: l.insn, pseudo: l.pseudo, map: get(l.mapId), offset: l.offset })),
    ...extra,
  };
}
