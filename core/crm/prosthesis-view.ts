import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { getOperator } from './operator.ts';
import { findProstheses } from './records.ts';
import { IdParamSchema, ProsthesisSchema, crmErrors, etagHeader, notFoundDoc, badIdDoc } from './schemas.ts';
import { requireCrm, runCrm } from './store.ts';

export const viewProsthesisRoute = createRoute({
  method: 'get',
  path: '/api/crm/prostheses/{id}',
  tags: ['crm'],
  summary: 'A prosthesis owned by a customer of the operator’s region',
  security: bearerSecurity,
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The prosthesis', headers: etagHeader, content: { 'application/json': { schema: ProsthesisSchema } } },
    400: badIdDoc,
    404: notFoundDoc('prosthesis'),
    ...crmErrors,
  },
});

export function prosthesisNotFound(): ApiError {
  return new ApiError({ code: ErrorCode.not_found, message: 'Prosthesis not found', details: { entity: 'prosthesis' } });
}

export function registerViewProsthesis(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(viewProsthesisRoute, async (c) => {
    const operator = getOperator(c);
    const { id } = c.req.valid('param');
    const { sql } = requireCrm(deps.crm);
    const [prosthesis] = await runCrm(() => findProstheses(sql, operator.region, { id }));
    if (!prosthesis) throw prosthesisNotFound();
    c.header('ETag', prosthesis.etag);
    return c.json(prosthesis, 200);
  });
}
