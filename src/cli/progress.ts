/**
 * Progress for batch commands (`bpfsign sign *.o`): on a terminal, one bar redrawn in place with
 * count, rate and time left; otherwise (CI logs) one plain line per finished item, so a log shows
 * what was done even if the run dies half-way.
 */
export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export class Progress {
  #done = 0;
  #failed = 0;
  readonly #start: number;

  constructor(
    private readonly total: number,
    private readonly sink: ProgressSink,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#start = now();
  }

  /** Records one finished item (ok or failed) and redraws. */
  tick(name: string, ok = true, detail = ''): void {
    this.#done++;
    if (!ok) this.#failed++;
    if (this.sink.isTTY) {
      this.sink.write(`\r${this.line(name)}\x1b[K`);
      if (this.#done === this.total) this.sink.write('\n');
    } else {
      this.sink.write(
        `[${String(this.#done).padStart(String(this.total).length)}/${this.total}] ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` ${detail}` : ''}\n`,
      );
    }
  }

  /** The bar as text: `[#####.....]  12/40  3.1/s  ~9s left  name`. */
  line(name: string): string {
    const width = Math.max(10, Math.min(30, (this.sink.columns ?? 80) - 50));
    const filled = Math.round((this.#done / this.total) * width);
    const secs = (this.now() - this.#start) / 1000;
    const rate = secs > 0 ? this.#done / secs : 0;
    const left = rate > 0 ? Math.ceil((this.total - this.#done) / rate) : null;
    const fails = this.#failed ? `  ${this.#failed} failed` : '';
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.#done}/${this.total}  ${rate.toFixed(1)}/s  ${left === null ? '' : `~${left}s left`}${fails}  ${name.slice(0, 24)}`;
  }

  get failed(): number {
    return this.#failed;
  }
}

/** Runs `fn` over `items` with at most `jobs` at a time, in order of start; resolves when all settle. */
export async function eachLimited<T>(items: readonly T[], jobs: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}
