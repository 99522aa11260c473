/** /proc/kallsyms text → symbol addresses (pure: takes the text). */

export interface KallsymsEntry {
  address: bigint;
  type: string;
  module: string | null;
}

/**
 * Parses "ffffffff81000000 T _stext [module]" lines. The first occurrence of a
 * name wins (as libbpf does for ksyms). Malformed lines are skipped.
 */
export function parseKallsyms(text: string): Map<string, KallsymsEntry> {
  const out = new Map<string, KallsymsEntry>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{1,16})\s+(\S)\s+(\S+)(?:\s+\[(\S+)\])?/.exec(line);
    if (!m || out.has(m[3])) continue;
    out.set(m[3], { address: BigInt(`0x${m[1]}`), type: m[2], module: m[4] ?? null });
  }
  return out;
}

/** Serialises entries back to kallsyms text (sorted by name, for stable files). */
export function formatKallsyms(syms: ReadonlyMap<string, KallsymsEntry>): string {
  return (
    [...syms.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, e]) => `${e.address.toString(16).padStart(16, '0')} ${e.type} ${name}${e.module ? ` [${e.module}]` : ''}`)
      .join('\n') + (syms.size ? '\n' : '')
  );
}
