/** The text form of a ReplayReport (what `bpfsign replay` prints without --json). */
import type { ReplayReport } from './report.js';

function attrText(a: Record<string, number | string> | undefined): string {
  if (!a) return '';
  return Object.entries(a)
    .filter(([, v]) => v !== 0 && v !== '' && v !== '0x0')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export function formatReport(r: ReplayReport): string {
  const lines: string[] = [];
  lines.push(
    `replay: scheme ${r.scheme}, profile ${r.profile}: ${r.ok ? 'ok' : `FAILED at ${r.stage} (errno ${r.errno})`}${r.retval !== null ? `, loader returned ${r.retval}` : ''}, ${r.steps} instructions`,
  );
  if (r.fault) lines.push(`fault: ${r.fault.code}: ${r.fault.message}`);
  lines.push('', `syscalls (${r.trace.length}):`);
  for (const t of r.trace) {
    const what = t.attr ? attrText(t.attr) : attrText(t.args);
    const res = t.errno ? `${t.result} ${t.errno}${t.reason ? ` (${t.reason})` : ''}` : String(t.result);
    lines.push(
      `  ${String(t.seq).padStart(3)} ${t.caller === 'user' ? 'user  ' : 'loader'} ${t.op}${t.pc !== undefined ? ` @${t.pc}` : ''} ${what} = ${res}`,
    );
  }
  if (r.printk.length) {
    lines.push('', 'trace_printk:');
    for (const p of r.printk) lines.push(`  ${p}`);
  }
  lines.push('', `maps (${r.maps.length}):`);
  for (const m of r.maps) {
    lines.push(
      `  [${m.ctxIndex ?? '-'}] id ${m.id} '${m.name}' ${m.typeName} key ${m.keySize} value ${m.valueSize} max ${m.maxEntries} flags 0x${m.flags.toString(16)}` +
        `${m.frozen ? ' frozen' : ''}${m.exclusive ? ' exclusive' : ''}${m.btfValueTypeId ? ` btf ${m.btfKeyTypeId}/${m.btfValueTypeId}` : ''}`,
    );
    if (m.hash) lines.push(`      sha256 ${m.hash}`);
    for (const s of m.slots) lines.push(`      slot ${s.key} -> ${s.kind} id ${s.id}`);
  }
  lines.push('', `programs (${r.progs.length}):`);
  for (const p of r.progs) {
    lines.push(
      `  [${p.ctxIndex ?? '-'}] id ${p.id} '${p.name}' ${p.typeName} attach ${p.expectedAttachTypeName}${p.attachTarget ? ` -> ${p.attachTarget}` : ''}` +
        ` license '${p.license}' ${p.insnCnt} insns, xlated ${p.xlated.exact ? '' : '~'}${p.xlated.insnCnt} tag ${p.tag}`,
    );
    lines.push(`      sha256 ${p.sha256}`);
    if (!p.xlated.exact) lines.push(`      xlated not exact: ${p.xlated.unmodelled.join('; ')}`);
    for (const k of p.kfuncs) lines.push(`      kfunc @${k.insn} ${k.module}:${k.name} (btf id ${k.btfId})`);
  }
  if (r.ctxReads.length) {
    // One line per distinct (pc, offset, size), in first-read order, with how often it was read.
    const seen = new Map<string, { text: string; n: number }>();
    for (const c of r.ctxReads) {
      const text = `@${c.pc} ${c.via === 'helper' ? 'helper reads ' : ''}ctx+${c.offset} size ${c.size}`;
      const e = seen.get(text);
      if (e) e.n++;
      else seen.set(text, { text, n: 1 });
    }
    lines.push('', `ctx reads (${r.ctxReads.length}, ${seen.size} distinct):`);
    for (const e of seen.values()) lines.push(`  ${e.text}${e.n > 1 ? ` (x${e.n})` : ''}`);
  }
  if (r.leakedFds.length) lines.push('', `leaked fds: ${r.leakedFds.join(' ')}`);
  return lines.join('\n');
}
