import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { SignedUrlSchema } from './documents.ts';
import { actorOwnerRef, assertRole, dailyRequest, signedReportUrl } from './respond.ts';
import { badRequest, commonErrors, DateParamSchema, notFound } from './schemas.ts';

export const cdnDailyReportRoute = createRoute({
  method: 'get',
  path: '/api/reports/cdn/{date}',
  tags: ['reports (CDN)'],
  summary: 'Signed CDN URL of your daily report object (daily/{date}/report.json)',
  security: bearerSecurity,
  request: { params: DateParamSchema },
  responses: {
    200: { description: 'Short-lived URL of the object', content: { 'application/json': { schema: SignedUrlSchema } } },
    400: badRequest,
    404: notFound,
    ...commonErrors,
  },
});
export type CdnDailyReportResponse = z.infer<typeof SignedUrlSchema>;

export function registerCdnDailyReport(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(cdnDailyReportRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, deps.config.REPORT_READER_ROLES);
    return c.json(await signedReportUrl(c, deps, dailyRequest(await actorOwnerRef(c, deps, principal), c.req.valid('param').date)), 200);
  });
}
