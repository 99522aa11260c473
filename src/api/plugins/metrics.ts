/** Prometheus metrics (prom-client) on GET /metrics: requests by route and status, sign and verify durations. */
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    requests: new Counter({ name: 'bpfsign_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    signSeconds: new Histogram({ name: 'bpfsign_sign_seconds', help: 'Time to make and sign a loader', labelNames: ['scheme'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [registry] }),
    verifySeconds: new Histogram({ name: 'bpfsign_verify_seconds', help: 'Time to verify a bundle', labelNames: ['verdict'], buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1], registers: [registry] }),
  };
}

export const metricsPlugin = fp<{ metrics: Metrics }>(async (app, { metrics }) => {
  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}, { name: 'bpfsign-metrics' });
