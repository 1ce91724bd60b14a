import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { DailyReportSchema, type DailyReport } from './documents.ts';
import { actorOwnerRef, assertRole, dailyRequest, respondWithDocument } from './respond.ts';
import { badRequest, commonErrors, DateParamSchema, notFound } from './schemas.ts';

export const dailyReportRoute = createRoute({
  method: 'get',
  path: '/api/reports/{date}',
  tags: ['reports'],
  summary: 'Your report for one UTC day: totals and exactly 24 hourly points',
  security: bearerSecurity,
  request: { params: DateParamSchema },
  responses: {
    200: { description: 'The daily report', content: { 'application/json': { schema: DailyReportSchema } } },
    400: badRequest,
    404: notFound,
    ...commonErrors,
  },
});
export type DailyReportResponse = z.infer<typeof DailyReportSchema>;

export function registerDailyReport(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(dailyReportRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, deps.config.REPORT_READER_ROLES);
    return respondWithDocument<DailyReport>(c, deps, dailyRequest(await actorOwnerRef(c, deps, principal), c.req.valid('param').date));
  });
}
