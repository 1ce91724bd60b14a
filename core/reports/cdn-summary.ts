import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { SignedUrlSchema } from './documents.ts';
import { actorOwnerRef, assertRole, signedReportUrl } from './respond.ts';
import { commonErrors } from './schemas.ts';

export const cdnReportSummaryRoute = createRoute({
  method: 'get',
  path: '/api/reports/cdn/summary',
  tags: ['reports (CDN)'],
  summary: 'Signed CDN URL of your summary object (summary.json)',
  security: bearerSecurity,
  responses: {
    200: { description: 'Short-lived URL of the object', content: { 'application/json': { schema: SignedUrlSchema } } },
    ...commonErrors,
  },
});
export type CdnReportSummaryResponse = z.infer<typeof SignedUrlSchema>;

export function registerCdnReportSummary(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(cdnReportSummaryRoute, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, deps.config.REPORT_READER_ROLES);
    return c.json(await signedReportUrl(c, deps, { kind: 'summary', userId: await actorOwnerRef(c, deps, principal) }), 200);
  });
}
