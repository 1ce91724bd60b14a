import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { registerAdminUserDailyReport } from './user-report-daily.ts';
import { registerAdminUserReportList } from './user-report-list.ts';
import { registerAdminUserReportSummary } from './user-report-summary.ts';

export function registerAdminRoutes(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  registerAdminUserReportList(app, deps);
  registerAdminUserReportSummary(app, deps);
  registerAdminUserDailyReport(app, deps);
}
