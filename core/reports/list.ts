import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { ReportPageSchema } from './documents.ts';
import { actorOwnerRef, assertRole, respondWithListPage } from './respond.ts';
import { badRequest, commonErrors, PagingQuerySchema } from './schemas.ts';

export const listReportsRoute = createRoute({
  method: 'get',
  path: '/api/reports',
  tags: ['reports'],
  summary: 'Your report days, newest first, with per-day totals',
  security: bearerSecurity,
  request: { query: PagingQuerySchema },
  responses: {
    200: { description: 'A page of report days', content: { 'application/json': { schema: ReportPageSchema } } },
    400: badRequest,
    ...commonErrors,
  },
});
export type ListReportsResponse = z.infer<typeof ReportPageSchema>;

export function registerListReports(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(listReportsRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, deps.config.REPORT_READER_ROLES);
    const { limit, offset } = c.req.valid('query');
    return respondWithListPage(c, deps, await actorOwnerRef(c, deps, principal), limit, offset);
  });
}
