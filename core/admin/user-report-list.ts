import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { ReportPageSchema } from '../reports/documents.ts';
import { assertRole, respondWithListPage } from '../reports/respond.ts';
import { badRequest, commonErrors, PagingQuerySchema, UserParamSchema } from '../reports/schemas.ts';
import { auditAdminRead } from './audit.ts';

export const adminUserReportListRoute = createRoute({
  method: 'get',
  path: '/api/admin/users/{user}/reports',
  tags: ['admin'],
  summary: "Any user's report days (administrators; audited)",
  security: bearerSecurity,
  request: { params: UserParamSchema, query: PagingQuerySchema },
  responses: {
    200: { description: 'A page of report days', content: { 'application/json': { schema: ReportPageSchema } } },
    400: badRequest,
    ...commonErrors,
  },
});
export type AdminUserReportListResponse = z.infer<typeof ReportPageSchema>;

export function registerAdminUserReportList(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(adminUserReportListRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, [deps.config.ADMIN_ROLE]);
    const { user } = c.req.valid('param');
    const { limit, offset } = c.req.valid('query');
    const owner = await deps.owners.refOf(user);
    await auditAdminRead(c, deps, principal, owner, 'list');
    return respondWithListPage(c, deps, owner, limit, offset);
  });
}
