import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { registerCdnDailyReport } from './cdn-daily.ts';
import { registerCdnReportList } from './cdn-list.ts';
import { registerCdnReportSummary } from './cdn-summary.ts';
import { registerDailyReport } from './daily.ts';
import { registerInvalidateReports } from './invalidate.ts';
import { registerListReports } from './list.ts';
import { registerReportSummary } from './summary.ts';

/** Static paths first: `/api/reports/summary` must not be taken for a `{date}`. */
export function registerReportRoutes(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  registerListReports(app, deps);
  registerReportSummary(app, deps);
  registerCdnReportList(app, deps);
  registerCdnReportSummary(app, deps);
  registerCdnDailyReport(app, deps);
  registerInvalidateReports(app, deps);
  registerDailyReport(app, deps);
}
