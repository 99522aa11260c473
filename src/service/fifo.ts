/**
 * A first-in, first-out gate for CPU-bound work on the event loop. Node serves sockets in the
 * order epoll reports them; when every request carries milliseconds of synchronous work (making a
 * loader, replaying one), a busy server answers some connections again and again while others
 * wait many times the median. Through the gate, requests take their turn in arrival order, one
 * job per event-loop turn, so sockets are still polled between jobs and the tail latency stays
 * close to the median.
 */
export class FifoGate {
  readonly #queue: (() => void)[] = [];
  #draining = false;
  /** Jobs waiting now, and the most that ever waited (for metrics). */
  get waiting(): number {
    return this.#queue.length;
  }
  maxWaiting = 0;

  /** Runs `fn` when its turn comes; resolves or rejects with its result. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      });
      this.maxWaiting = Math.max(this.maxWaiting, this.#queue.length);
      if (!this.#draining) {
        this.#draining = true;
        setImmediate(this.#drain);
      }
    });
  }

  readonly #drain = (): void => {
    const job = this.#queue.shift();
    if (!job) {
      this.#draining = false;
      return;
    }
    job();
    setImmediate(this.#drain);
  };
}
