import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { SignedUrlSchema } from './documents.ts';
import { actorOwnerRef, assertRole, signedReportUrl } from './respond.ts';
import { commonErrors } from './schemas.ts';

export const cdnReportListRoute = createRoute({
  method: 'get',
  path: '/api/reports/cdn/list',
  tags: ['reports (CDN)'],
  summary: 'Signed CDN URL of your report list object (reports.json)',
  security: bearerSecurity,
  responses: {
    200: { description: 'Short-lived URL of the object', content: { 'application/json': { schema: SignedUrlSchema } } },
    ...commonErrors,
  },
});
export type CdnReportListResponse = z.infer<typeof SignedUrlSchema>;

export function registerCdnReportList(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(cdnReportListRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, deps.config.REPORT_READER_ROLES);
    return c.json(await signedReportUrl(c, deps, { kind: 'list', userId: await actorOwnerRef(c, deps, principal) }), 200);
  });
}
