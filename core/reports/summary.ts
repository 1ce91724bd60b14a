import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { ReportSummarySchema, type ReportSummary } from './documents.ts';
import { actorOwnerRef, assertRole, respondWithDocument } from './respond.ts';
import { commonErrors } from './schemas.ts';

export const reportSummaryRoute = createRoute({
  method: 'get',
  path: '/api/reports/summary',
  tags: ['reports'],
  summary: 'Your usage summary over all report days',
  security: bearerSecurity,
  responses: {
    200: { description: 'The summary', content: { 'application/json': { schema: ReportSummarySchema } } },
    ...commonErrors,
  },
});
export type ReportSummaryResponse = z.infer<typeof ReportSummarySchema>;

export function registerReportSummary(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(reportSummaryRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, deps.config.REPORT_READER_ROLES);
    return respondWithDocument<ReportSummary>(c, deps, { kind: 'summary', userId: await actorOwnerRef(c, deps, principal) });
  });
}
