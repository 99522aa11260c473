/** Prometheus metrics (prom-client) on GET /metrics: requests by route and status, sign and verify durations. */
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  signSeconds: Histogram<'scheme'>;
  verifySeconds: Histogram<'verdict'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'bpfsign_http_requests_total',
      help: 'HTTP requests',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    signSeconds: new Histogram({
      name: 'bpfsign_sign_seconds',
      help: 'Time to make and sign a loader',
      labelNames: ['scheme'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    verifySeconds: new Histogram({
      name: 'bpfsign_verify_seconds',
      help: 'Time to verify a bundle',
      labelNames: ['verdict'],
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

/** What the log and the CPU gate report, read at scrape time. */
export interface MetricSources {
  log: { stats: { commits: number; entries: number } };
  cpu: { waiting: number; maxWaiting: number };
  /** By cache name: the content-addressed caches (loaders, replays, bodies) and the verification memos (signatures, certificates…). */
  caches: Record<string, { stats: { hits: number; misses: number; evictions: number; entries: number } }>;
}

/** Gauges over the log's group commits and the FIFO gate's queue (registered once per registry). */
export function watch(metrics: Metrics, src: MetricSources): void {
  if (metrics.registry.getSingleMetric('bpfsign_log_commits')) return;
  const r = [metrics.registry];
  new Gauge({
    name: 'bpfsign_log_commits',
    help: 'Log transactions committed by this process (each a group of appends)',
    registers: r,
    collect() {
      this.set(src.log.stats.commits);
    },
  });
  new Gauge({
    name: 'bpfsign_log_entries',
    help: 'Log entries appended by this process',
    registers: r,
    collect() {
      this.set(src.log.stats.entries);
    },
  });
  new Gauge({
    name: 'bpfsign_cpu_queue_waiting',
    help: 'Requests waiting for their turn at CPU-bound work now',
    registers: r,
    collect() {
      this.set(src.cpu.waiting);
    },
  });
  const cache = (what: 'hits' | 'misses' | 'evictions' | 'entries', help: string) =>
    new Gauge({
      name: `bpfsign_cache_${what}`,
      help,
      labelNames: ['cache'],
      registers: r,
      collect() {
        for (const [c, { stats }] of Object.entries(src.caches)) this.set({ cache: c }, stats[what]);
      },
    });
  cache('hits', 'Lookups answered from a cache (made loaders, replay outcomes, parsed verification bodies, verification memos)');
  cache('misses', 'Lookups that had to do the work');
  cache('evictions', 'Entries dropped to stay within the cache bounds');
  cache('entries', 'Entries held now');
  new Gauge({
    name: 'bpfsign_cpu_queue_max',
    help: 'Most requests ever waiting for CPU-bound work',
    registers: r,
    collect() {
      this.set(src.cpu.maxWaiting);
    },
  });
}

export const metricsPlugin = fp<{ metrics: Metrics }>(
  async (app, { metrics }) => {
    app.addHook('onResponse', async (req, reply) => {
      metrics.requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
    });
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
  },
  { name: 'bpfsign-metrics' },
);
