import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { DailyReportSchema, type DailyReport } from '../reports/documents.ts';
import { assertRole, dailyRequest, respondWithDocument } from '../reports/respond.ts';
import { badRequest, commonErrors, DateParamSchema, notFound, UserParamSchema } from '../reports/schemas.ts';
import { auditAdminRead } from './audit.ts';

export const adminUserDailyReportRoute = createRoute({
  method: 'get',
  path: '/api/admin/users/{user}/reports/{date}',
  tags: ['admin'],
  summary: "Any user's daily report (administrators; audited)",
  security: bearerSecurity,
  request: { params: UserParamSchema.extend(DateParamSchema.shape) },
  responses: {
    200: { description: 'The daily report', content: { 'application/json': { schema: DailyReportSchema } } },
    400: badRequest,
    404: notFound,
    ...commonErrors,
  },
});
export type AdminUserDailyReportResponse = z.infer<typeof DailyReportSchema>;

export function registerAdminUserDailyReport(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(adminUserDailyReportRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, [deps.config.ADMIN_ROLE]);
    const { user, date } = c.req.valid('param');
    const owner = await deps.owners.refOf(user);
    await auditAdminRead(c, deps, principal, owner, `daily ${date}`);
    return respondWithDocument<DailyReport>(c, deps, dailyRequest(owner, date));
  });
}
