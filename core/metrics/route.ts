import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { commonErrors } from '../reports/schemas.ts';

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics (text format); token with reports_service or administrator',
  description: 'Prometheus scrapes with its `oauth2` client-credentials block, like the jobs service.',
  security: bearerSecurity,
  responses: {
    200: { description: 'Exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
    ...commonErrors,
  },
});

export function registerMetricsRoute(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(metricsRoute, (c) => {
    const principal = getPrincipal(c);
    if (!principal.roles.has(deps.config.SERVICE_ROLE) && !principal.roles.has(deps.config.ADMIN_ROLE)) {
      throw new ApiError({ code: ErrorCode.forbidden, message: 'Metrics are for service accounts and administrators' });
    }
    return c.text(deps.metrics.registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
