import { requireAccessToken } from '../common/auth/bearer-auth.ts';
import { createServiceApp } from '../common/http/service-app.ts';
import { registerAdminRoutes } from './admin/index.ts';
import type { CoreEnv } from './context.ts';
import { registerCrmRoutes } from './crm/index.ts';
import type { CoreDeps } from './deps.ts';
import { registerDocsRoutes } from './docs/routes.ts';
import { mapCoreError } from './errors.ts';
import { registerHealthRoutes } from './health/index.ts';
import { measureRequests } from './metrics/core-metrics.ts';
import { registerMetricsRoute } from './metrics/route.ts';
import { registerReportRoutes } from './reports/index.ts';
import { registerTelemetryRoutes } from './telemetry/index.ts';

export type { CoreEnv } from './context.ts';

/**
 * Builds the reports service; never listens (the runtime entry files do). Only health (and, with
 * API_DOCS_PUBLIC=true, the API description) answers without credentials: reports, admin, metrics
 * and by default the API description need a Keycloak access token, telemetry uploads a device signature.
 */
export function createApp(deps: CoreDeps) {
  const app = createServiceApp<CoreEnv>({
    logger: deps.logger,
    trustIncomingRequestId: deps.config.TRUST_REQUEST_ID,
    mapError: mapCoreError,
  });
  app.use('*', measureRequests(deps.metrics));

  const auth = requireAccessToken(deps.verifier, { realm: 'reports-api' });
  app.use('/api/reports', auth);
  app.use('/api/reports/*', auth);
  app.use('/api/admin/*', auth);
  app.use('/metrics', auth);
  if (!deps.config.API_DOCS_PUBLIC) {
    app.use('/openapi.json', auth);
    app.use('/docs', auth);
  }

  registerHealthRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerAdminRoutes(app, deps);
  registerCrmRoutes(app, deps);
  registerTelemetryRoutes(app, deps);
  registerMetricsRoute(app, deps);
  registerDocsRoutes(app);
  return app;
}
