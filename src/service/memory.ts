/**
 * Bounds on the V8 heaps of a serving process and its worker threads.
 *
 * Under a steady load of signs the main thread's live heap stays near 40 MB, but V8 lets its old
 * space grow to several times what survived the last full collection before collecting again
 * (its growing factor, up to 4 on a machine with memory to spare), and every worker thread has a
 * young generation of its own as large as the main thread's. Small young generations for the
 * worker threads cost nothing measurable and are always set. The old spaces grow by a fixed
 * factor instead (V8's --heap-growing-percent, a flag of the process, so of every isolate; V8
 * reads it at each collection, so it can be set once the process runs; Node refuses it in
 * NODE_OPTIONS). At 100% the resident set after 2,000 signs of new objects is about 70 MB
 * smaller; under 6,000 signs of one object the main thread made 16–18 short full collections
 * instead of 1, at a CPU cost this machine's noise hid. `npm run bench -- memory` and
 * `npm run bench -- service` measure both sides of it.
 */
import { setFlagsFromString } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';

/**
 * The old space may grow to this percentage above what survived the last full collection
 * before the next one (BPFSIGN_HEAP_GROWING_PERCENT); 0 leaves V8's own factor (10% to 300%
 * with the machine and the load).
 */
export const HEAP_GROWING_PERCENT = 100;

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
 * A verification worker's heap: its young generation as large as the main thread's default (16 MB
 * a semi-space, three of them). It was 8 MB when every process held an idle worker; now a worker
 * starts with the first verification, so a server that only signs holds none, and with the caches
 * off a verification's replay allocated enough to scavenge every few requests and promote about
 * 125 KB each: measured with two processes on two cores, 48 MB verified 260 and 301 req/s
 * against 227 and 237 with 8 MB (6.4–7.4 ms of CPU per request against 8.0–8.4). The old
 * generation keeps V8's limit: a verification may hold a large bundle and its replay, and a
 * worker that runs out is lost with its request.
 */
export const VERIFY_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 48 };
