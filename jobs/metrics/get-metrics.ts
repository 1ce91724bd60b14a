import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import { authErrors } from '../runs/schemas.ts';

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics (text format); token with reports_service or administrator',
  description: 'Prometheus scrapes with its `oauth2` client-credentials block, as for core.',
  security: bearerSecurity,
  responses: {
    200: { description: 'Exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
    ...authErrors,
  },
});

export function registerMetricsRoute(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  app.openapi(metricsRoute, (c) => {
    // The in-process view of pending invalidations and partition lag is refreshed as batches run.
    return c.text(deps.metrics.registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
