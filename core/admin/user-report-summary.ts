import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { ReportSummarySchema, type ReportSummary } from '../reports/documents.ts';
import { assertRole, respondWithDocument } from '../reports/respond.ts';
import { commonErrors, UserParamSchema } from '../reports/schemas.ts';
import { auditAdminRead } from './audit.ts';

export const adminUserReportSummaryRoute = createRoute({
  method: 'get',
  path: '/api/admin/users/{user}/reports/summary',
  tags: ['admin'],
  summary: "Any user's usage summary (administrators; audited)",
  security: bearerSecurity,
  request: { params: UserParamSchema },
  responses: {
    200: { description: 'The summary', content: { 'application/json': { schema: ReportSummarySchema } } },
    ...commonErrors,
  },
});
export type AdminUserReportSummaryResponse = z.infer<typeof ReportSummarySchema>;

export function registerAdminUserReportSummary(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(adminUserReportSummaryRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, [deps.config.ADMIN_ROLE]);
    const { user } = c.req.valid('param');
    const owner = await deps.owners.refOf(user);
    await auditAdminRead(c, deps, principal, owner, 'summary');
    return respondWithDocument<ReportSummary>(c, deps, { kind: 'summary', userId: owner });
  });
}
