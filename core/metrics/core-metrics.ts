import type { MiddlewareHandler } from 'hono';
import { createMetrics, type Counter, type Histogram, type Metrics } from '../../common/metrics/registry.ts';

/** The figures core exports; one place, so names stay consistent. */
export interface CoreMetrics {
  registry: Metrics;
  httpRequests: Counter;
  httpDuration: Histogram;
  reportCache: Counter;
  telemetryEvents: Counter;
  invalidatedObjects: Counter;
}

export function createCoreMetrics(): CoreMetrics {
  const registry = createMetrics();
  return {
    registry,
    httpRequests: registry.counter('core_http_requests_total', 'HTTP requests by method, route and status'),
    httpDuration: registry.histogram('core_http_request_duration_seconds', 'HTTP request duration by method and route'),
    reportCache: registry.counter('core_report_cache_total', 'Report document lookups by kind and outcome (hit, miss)'),
    telemetryEvents: registry.counter('core_telemetry_events_total', 'Telemetry events by outcome (accepted, duplicate, rejected)'),
    invalidatedObjects: registry.counter('core_report_objects_invalidated_total', 'Report objects deleted from S3 by invalidation'),
  };
}

/** Counts and times every request by its route pattern (never the raw path: bounded labels). */
export function measureRequests(metrics: CoreMetrics, now: () => number = () => performance.now()): MiddlewareHandler {
  return async (c, next) => {
    const started = now();
    try {
      await next();
    } finally {
      const route = c.req.routePath && c.req.routePath !== '*' && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
      const labels = { method: c.req.method, route };
      metrics.httpRequests.inc({ ...labels, status: String(c.res.status) });
      metrics.httpDuration.observe(labels, (now() - started) / 1000);
    }
  };
}
