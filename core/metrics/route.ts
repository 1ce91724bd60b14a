import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerMetricsRoute as registerSharedMetricsRoute } from '../../common/metrics/route.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';

/** Core's /metrics: the shared route, readable by service accounts and administrators. */
export function registerMetricsRoute(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  registerSharedMetricsRoute(app, {
    registry: deps.metrics.registry,
    description: 'Prometheus scrapes with its `oauth2` client-credentials block, like the jobs service.',
    readers: [deps.config.SERVICE_ROLE, deps.config.ADMIN_ROLE],
  });
}
