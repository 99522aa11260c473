/** Kernel helper ids <-> names (table generated from linux/bpf.h). */

import { HELPER_NAMES } from './helpers-table.js';

export { HELPER_NAMES };

/** Helper ids by name (the table's reverse). */
const BY_NAME: ReadonlyMap<string, number> = new Map(HELPER_NAMES.map((n, i) => [n, i]));

/** `map_lookup_elem` for 1; undefined for ids the table does not know (or 0, `unspec`). */
export function helperName(id: number): string | undefined {
  if (!Number.isInteger(id) || id <= 0 || id >= HELPER_NAMES.length) return undefined;
  return HELPER_NAMES[id];
}

/** Helper id for a name, with or without the `bpf_` prefix. */
export function helperId(name: string): number | undefined {
  const id = BY_NAME.get(name.startsWith('bpf_') ? name.slice(4) : name);
  return id === undefined || id === 0 ? undefined : id;
}
