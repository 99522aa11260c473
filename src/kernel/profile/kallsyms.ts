/** /proc/kallsyms text → symbol addresses (pure: takes the text). */

export interface KallsymsEntry {
  address: bigint;
  type: string;
  module: string | null;
}

const LINE = /^([0-9a-fA-F]{1,16})\s+(\S)\s+(\S+)(?:\s+\[(\S+)\])?/;

/**
 * A kernel's symbols as a read-only map, held compactly: a running kernel has some 120,000, and
 * a Map of one object per symbol took 15 MB of heap in every thread that holds the profile (the
 * event loop and each verification worker), where these arrays take about 4 MB. Names are kept
 * sorted in one string and found by binary search; entries are made when asked for.
 */
export class KallsymsTable implements ReadonlyMap<string, KallsymsEntry> {
  /** The names, sorted, each followed by '\n'; `#start[i]` is where name i begins (and `#start[size]` the end). */
  readonly #names: string;
  readonly #start: Uint32Array;
  readonly #address: BigUint64Array;
  /** One type letter per symbol. */
  readonly #types: string;
  /** Index into #modules plus one; 0: the kernel itself. */
  readonly #module: Uint32Array;
  readonly #modules: readonly string[];

  constructor(entries: Iterable<readonly [string, KallsymsEntry]>) {
    const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const moduleIndex = new Map<string, number>();
    this.#start = new Uint32Array(sorted.length + 1);
    this.#address = new BigUint64Array(sorted.length);
    this.#module = new Uint32Array(sorted.length);
    const names: string[] = [],
      types: string[] = [];
    let at = 0;
    sorted.forEach(([name, e], i) => {
      this.#start[i] = at;
      at += name.length + 1;
      names.push(name);
      types.push(e.type.slice(0, 1));
      this.#address[i] = BigInt.asUintN(64, e.address);
      if (e.module !== null) {
        let m = moduleIndex.get(e.module);
        if (m === undefined) moduleIndex.set(e.module, (m = moduleIndex.size));
        this.#module[i] = m + 1;
      }
    });
    this.#start[sorted.length] = at;
    this.#names = names.length ? `${names.join('\n')}\n` : '';
    this.#types = types.join('');
    this.#modules = [...moduleIndex.keys()];
  }

  get size(): number {
    return this.#address.length;
  }

  #name(i: number): string {
    return this.#names.slice(this.#start[i], this.#start[i + 1] - 1);
  }

  #entry(i: number): KallsymsEntry {
    const m = this.#module[i];
    return { address: this.#address[i], type: this.#types[i], module: m === 0 ? null : this.#modules[m - 1] };
  }

  #find(name: string): number {
    let lo = 0,
      hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1,
        n = this.#name(mid);
      if (n === name) return mid;
      if (n < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  get(name: string): KallsymsEntry | undefined {
    const i = this.#find(name);
    return i < 0 ? undefined : this.#entry(i);
  }

  has(name: string): boolean {
    return this.#find(name) >= 0;
  }

  *entries(): MapIterator<[string, KallsymsEntry]> {
    for (let i = 0; i < this.size; i++) yield [this.#name(i), this.#entry(i)];
  }

  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.#name(i);
  }

  *values(): MapIterator<KallsymsEntry> {
    for (let i = 0; i < this.size; i++) yield this.#entry(i);
  }

  [Symbol.iterator](): MapIterator<[string, KallsymsEntry]> {
    return this.entries();
  }

  forEach(fn: (value: KallsymsEntry, key: string, map: ReadonlyMap<string, KallsymsEntry>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}

/**
 * Parses "ffffffff81000000 T _stext [module]" lines. The first occurrence of a
 * name wins (as libbpf does for ksyms). Malformed lines are skipped.
 */
export function parseKallsyms(text: string): KallsymsTable {
  const first = new Map<string, KallsymsEntry>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || first.has(m[3])) continue;
    first.set(m[3], { address: BigInt(`0x${m[1]}`), type: m[2], module: m[4] ?? null });
  }
  return new KallsymsTable(first);
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
