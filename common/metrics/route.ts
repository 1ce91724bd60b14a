import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireRole } from '../auth/bearer-auth.ts';
import { bearerErrorDocs, bearerSecurity } from '../http/openapi.ts';
import type { ServiceEnv } from '../http/service-env.ts';
import type { Metrics } from './registry.ts';

export interface MetricsRouteOptions {
  registry: Metrics;
  /** How Prometheus reaches this service (the route's description). */
  description: string;
  /**
   * Realm roles that may scrape, checked on the route; leave out when the app already guards
   * /metrics with requireRole. Either way the app must put requireAccessToken in front.
   */
  readers?: readonly string[];
}

/** GET /metrics in the Prometheus text exposition format, for a token-holding scraper. */
export function registerMetricsRoute<E extends ServiceEnv>(app: OpenAPIHono<E>, options: MetricsRouteOptions): void {
  const route = createRoute({
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics (text format); token with reports_service or administrator',
    description: options.description,
    security: bearerSecurity,
    responses: {
      200: { description: 'Exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
      ...bearerErrorDocs('Keycloak is unavailable (the token cannot be checked); see Retry-After'),
    },
  });
  if (options.readers) app.use(route.path, requireRole(options.readers));
  app.openapi(route, (c) => c.text(options.registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
}
