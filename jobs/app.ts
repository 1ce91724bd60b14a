import { requireAccessToken, requireRole } from '../common/auth/bearer-auth.ts';
import { registerBearerAuthScheme } from '../common/http/openapi.ts';
import { createServiceApp } from '../common/http/service-app.ts';
import type { JobsEnv } from './context.ts';
import type { JobsDeps } from './deps.ts';
import { registerHealthRoutes } from './health/index.ts';
import { countRequests } from './metrics/jobs-metrics.ts';
import { registerMetricsRoute } from './metrics/get-metrics.ts';
import { registerRunRoutes } from './runs/index.ts';

export type { JobsEnv } from './context.ts';

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
  app.on('POST', ['/runs/etl', '/runs/retention'], authenticated, administrators);

  registerHealthRoutes(app, deps);
  registerMetricsRoute(app, deps);
  registerRunRoutes(app, deps);
  registerBearerAuthScheme(app);
  app.doc('/openapi.json', { openapi: '3.0.0', info: { title: 'BionicPRO jobs', version: '1.0.0', description: 'ETL, retention and CDC runs; health and metrics' } });
  return app;
}
