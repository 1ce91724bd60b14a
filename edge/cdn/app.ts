import { cors } from 'hono/cors';
import { registerLiveHealth } from '../../common/http/health-live.ts';
import { createServiceApp } from '../../common/http/service-app.ts';
import type { CdnDeps, CdnEnv } from './context.ts';
import { REPORT_EXPOSED_HEADERS } from './fast-hit.ts';
import { registerCdnReadiness } from './health-ready.ts';
import { purgeRoute, registerPurge } from './purge.ts';
import { registerServeReport, serveReportRoute } from './serve-report.ts';

export type { CdnDeps, CdnEnv } from './context.ts';

/** The CDN cache edge in front of the report objects; never listens. */
export function createCdnApp(deps: CdnDeps) {
  const app = createServiceApp<CdnEnv>({ logger: deps.logger, trustIncomingRequestId: false });
  // Report objects are fetched by the app (another origin) with the signed URL as the only credential.
  app.use(
    '/reports/*',
    cors({
      origin: (origin) => (deps.config.ALLOWED_ORIGINS.includes(origin) ? origin : null),
      allowMethods: ['GET', 'HEAD'],
      allowHeaders: ['if-none-match'],
      exposeHeaders: REPORT_EXPOSED_HEADERS,
      maxAge: 600,
    }),
  );
  registerLiveHealth(app, 'cdn', deps.now);
  registerCdnReadiness(app, deps);
  registerServeReport(app, deps);
  registerPurge(app, deps);
  // Both are plain Hono routes (a key with slashes; a body verified before parsing); listed for the document.
  app.openAPIRegistry.registerPath(serveReportRoute);
  app.openAPIRegistry.registerPath(purgeRoute);
  app.doc('/openapi.json', { openapi: '3.0.0', info: { title: 'BionicPRO CDN edge', version: '1', description: 'Report objects by signed URL, and purge' } });
  return app;
}
