import { requireAccessToken, requireRole } from '../common/auth/bearer-auth.ts';
import { boundedBody } from '../common/http/bounded-body.ts';
import { registerBearerAuthScheme } from '../common/http/openapi.ts';
import { createServiceApp } from '../common/http/service-app.ts';
import type { JobsEnv } from './context.ts';
import type { JobsDeps } from './deps.ts';
import { registerHealthRoutes } from './health/index.ts';
import { countRequests } from './metrics/jobs-metrics.ts';
import { registerMetricsRoute } from './metrics/get-metrics.ts';
import { registerRunRoutes } from './runs/index.ts';

export type { JobsEnv } from './context.ts';

/** The run triggers take {from,to} or {dry_run}: a few dozen bytes; anything near this is not one. */
export const RUN_BODY_MAX_BYTES = 16 * 1024;

/**
 * The jobs service's HTTP face; never listens (the entry files do). Health answers without a
 * token; /metrics and GET /runs need the service or administrator role; triggering runs needs
 * administrator.
 */
export function createApp(deps: JobsDeps) {
  const app = createServiceApp<JobsEnv>({ logger: deps.logger, trustIncomingRequestId: deps.config.TRUST_REQUEST_ID });
  app.use('*', countRequests(deps.metrics));

  const authenticated = requireAccessToken(deps.verifier, { realm: 'reports-jobs' });
  const readers = requireRole([deps.config.SERVICE_ROLE, deps.config.ADMIN_ROLE]);
  const administrators = requireRole([deps.config.ADMIN_ROLE]);
  app.on('GET', ['/metrics', '/runs'], authenticated, readers);
  // Bounded after the role check: a stranger's body is never read at all, an administrator's only up to the limit.
  app.on('POST', ['/runs/etl', '/runs/retention'], authenticated, administrators, boundedBody(RUN_BODY_MAX_BYTES));

  registerHealthRoutes(app, deps);
  registerMetricsRoute(app, deps);
  registerRunRoutes(app, deps);
  registerBearerAuthScheme(app);
  app.doc('/openapi.json', { openapi: '3.0.0', info: { title: 'BionicPRO jobs', version: '1.0.0', description: 'ETL, retention and CDC runs; health and metrics' } });
  return app;
}
