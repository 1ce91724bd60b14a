import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerMetricsRoute as registerSharedMetricsRoute } from '../../common/metrics/route.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';

/**
 * Jobs' /metrics: the shared route; jobs/app.ts already limits it to service accounts and
 * administrators. The in-process view of pending invalidations and partition lag is refreshed as
 * batches run.
 */
export function registerMetricsRoute(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  registerSharedMetricsRoute(app, { registry: deps.metrics.registry, description: 'Prometheus scrapes with its `oauth2` client-credentials block, as for core.' });
}
