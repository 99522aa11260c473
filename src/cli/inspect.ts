/** `bpfsign inspect OBJ [--json] [--name N]`: what an object contains. */
import { readFileSync } from 'node:fs';
import { FEATURES, objectNameFromPath, parseObject, summarizeObject, type ObjectSummary } from '../loader/object/index.js';

export function runInspect(file: string, opts: { json: boolean; name?: string }, out: (s: string) => void): number {
  const spec = parseObject(readFileSync(file), { name: opts.name ?? objectNameFromPath(file) });
  const summary = summarizeObject(spec);
  out(opts.json ? JSON.stringify(summary, null, 2) : renderInspect(summary));
  return 0;
}

function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map(
    (r) =>
      '  ' +
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
  );
}

const flagsHex = (f: number) => (f === 0 ? '0' : `0x${f.toString(16)}`);

export function renderInspect(s: ObjectSummary): string {
  const lines: string[] = [];
  const order = s.byteOrder === 'le' ? 'little-endian' : 'big-endian';
  lines.push(
    `object ${s.name}: ${order}, license ${JSON.stringify(s.license)}${s.kernVersion !== null ? `, version 0x${s.kernVersion.toString(16)}` : ''}`,
  );
  lines.push('', `programs (${s.programs.length}):`);
  lines.push(
    ...table([
      ['NAME', 'SECTION', 'TYPE', 'ATTACH', 'TARGET', 'INSNS', 'FLAGS', 'SUBPROGS', 'HELPERS', 'MAPS'],
      ...s.programs.map((p) => [
        p.name,
        p.section,
        p.type ?? '?',
        p.expectedAttachType ?? '-',
        p.attachTarget ?? '-',
        String(p.slots),
        [p.sleepable ? 'sleepable' : '', p.xdpFrags ? 'frags' : '', p.autoload ? '' : 'noautoload'].filter(Boolean).join(',') || '-',
        p.subprograms.join(',') || '-',
        p.helpers.map((h) => h.name).join(',') || '-',
        p.maps.join(',') || '-',
      ]),
    ]),
  );
  const kf = s.programs.filter((p) => p.kfuncs.length || p.ksyms.length);
  for (const p of kf) lines.push(`  ${p.name}: kfuncs ${p.kfuncs.join(',') || '-'}; ksyms ${p.ksyms.join(',') || '-'}`);
  lines.push('', `maps (${s.maps.length}):`);
  lines.push(
    ...table([
      ['#', 'NAME', 'TYPE', 'KEY', 'VALUE', 'MAX', 'FLAGS', 'NUMA', 'EXTRA', 'PIN', 'BTF K/V', 'FROZEN', 'INNER/SLOTS'],
      ...s.maps.map((m) => [
        String(m.index),
        m.name,
        m.type,
        String(m.keySize),
        String(m.valueSize),
        String(m.maxEntries),
        flagsHex(m.flags),
        String(m.numaNode),
        m.mapExtra,
        m.pinning,
        `${m.btfKeyTypeId}/${m.btfValueTypeId}`,
        m.frozen ? 'yes' : 'no',
        [
          m.inner ? `inner ${m.inner.type} ${m.inner.keySize}/${m.inner.valueSize}/${m.inner.maxEntries}` : '',
          m.slots.map((x) => `[${x.index}]=${x.target}`).join(' '),
          m.structOps ? `${m.structOps.typeName}{${m.structOps.funcs.map((f) => `${f.member}=${f.prog}`).join(',')}}` : '',
        ]
          .filter(Boolean)
          .join(' ') || '-',
      ]),
    ]),
  );
  lines.push('', `globals (${s.globals.length}):`);
  lines.push(
    ...table([
      ['NAME', 'SECTION', 'OFFSET', 'SIZE', 'LINKAGE'],
      ...s.globals.map((g) => [g.name, g.section, String(g.offset), String(g.size), g.linkage]),
    ]),
  );
  lines.push('', `externs (${s.externs.length}):`);
  lines.push(
    ...table([
      ['NAME', 'KIND', 'WHAT', 'WEAK'],
      ...s.externs.map((e) => [
        e.name,
        e.kind,
        e.kind === 'kconfig' ? JSON.stringify(e.kconfig) : e.func ? 'kfunc' : e.typed ? 'typed' : 'typeless',
        e.weak ? 'weak' : '-',
      ]),
    ]),
  );
  const byKind = Object.entries(s.coreRelocations.byKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  lines.push('', `CO-RE relocations: ${s.coreRelocations.total}${byKind ? ` (${byKind})` : ''}`);
  if (s.btf) {
    const kinds = Object.entries(s.btf.kinds)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const ext = s.btf.ext
      ? `; BTF.ext: func_info ${s.btf.ext.funcInfo}, line_info ${s.btf.ext.lineInfo}, core_relo ${s.btf.ext.coreRelos}`
      : '';
    lines.push(`BTF: ${s.btf.types} types, ${s.btf.stringsBytes} bytes of strings (${kinds})${ext}`);
  } else {
    lines.push('BTF: none');
  }
  lines.push('', 'features:');
  lines.push(
    ...table([['FEATURE', 'USED', 'MEANING'], ...Object.entries(FEATURES).map(([k, d]) => [k, s.features.includes(k) ? 'yes' : '-', d])]),
  );
  return lines.join('\n');
}
