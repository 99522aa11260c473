/**
 * Bounds on the V8 heaps of a serving process and its worker threads.
 *
 * Under a steady load of signs the main thread's live heap stays near 40 MB, but V8 lets its old
 * space grow to several times what survived the last full collection before collecting again
 * (its growing factor, up to 4 on a machine with memory to spare), and every worker thread has a
 * young generation of its own as large as the main thread's. Small young generations for the
 * worker threads cost nothing measurable and are always set. Bounding the main thread (a fixed
 * growing factor, V8's --heap-growing-percent, which V8 reads at each collection, so it can be set
 * once the process runs; Node refuses it in NODE_OPTIONS; and a young generation held small) keeps
 * the resident set nearer the live data but makes V8 collect far more often: it is a choice the
 * operator makes (BPFSIGN_HEAP_GROWING_PERCENT), off by default. `npm run bench -- memory` and
 * `npm run bench -- service` measure both sides of it.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import type { ResourceLimits } from 'node:worker_threads';

/**
 * The old space may grow to this percentage above what survived the last full collection
 * before the next one; 0 leaves V8's own factor (10% to 300% with the machine and the load).
 */
export const HEAP_GROWING_PERCENT = 0;

/**
 * Sets the heap's growing factor for this process (every isolate: the main thread and the worker
 * threads started after it), unless the process was started with --heap-growing-percent.
 * `percent` 0 leaves V8's own factor.
 */
export function boundHeapGrowth(percent = HEAP_GROWING_PERCENT, execArgv: readonly string[] = process.execArgv): void {
  if (percent <= 0 || execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${Math.floor(percent)}`);
}

/**
 * A verification worker's heap: its young generation (the main thread's default is 16 MB a
 * semi-space, three of them) bounded to 8 MB in all. The old generation keeps V8's limit: a
 * verification may hold a large bundle and its replay, and a worker that runs out is lost with
 * its request.
 */
export const VERIFY_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8 };

/**
 * Holds the main thread's young generation near the size it has now, from before the server's
 * modules load (2 MB; they alone would grow it to 32 MB): V8 doubles it while much survives its
 * scavenges, up to 16 MB a semi-space, and keeps it there. Its bound is fixed when the process
 * starts (--max-semi-space-size), so the doubling is stopped instead (--semi-space-growth-factor
 * 1, which V8 reads at each scavenge). V8 sets that flag back to 2 whenever an isolate starts (a
 * worker thread), so it is set again after any collection that finds the generation grown.
 * Started with --max-semi-space-size, the process keeps the young generation that flag asks
 * for. Returns a function that stops holding it, or null when it is not held.
 */
export function holdYoungGeneration(execArgv: readonly string[] = process.execArgv): (() => void) | null {
  if (execArgv.some((a) => /^--max[-_]semi[-_]space[-_]size/.test(a))) return null;
  const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  let held = size();
  setFlagsFromString('--semi-space-growth-factor=1');
  const observer = new PerformanceObserver(() => {
    const now = size();
    if (now <= held) return;
    held = now;
    setFlagsFromString('--semi-space-growth-factor=1');
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    setFlagsFromString('--semi-space-growth-factor=2');
  };
}
