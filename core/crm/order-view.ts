import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { getOperator } from './operator.ts';
import { findOrders } from './records.ts';
import { IdParamSchema, OrderSchema, crmErrors, etagHeader, notFoundDoc, badIdDoc } from './schemas.ts';
import { requireCrm, runCrm } from './store.ts';

export const viewOrderRoute = createRoute({
  method: 'get',
  path: '/api/crm/orders/{id}',
  tags: ['crm'],
  summary: 'An order of a customer of the operator’s region, with the statuses it may move to',
  security: bearerSecurity,
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The order', headers: etagHeader, content: { 'application/json': { schema: OrderSchema } } },
    400: badIdDoc,
    404: notFoundDoc('order'),
    ...crmErrors,
  },
});

export function orderNotFound(): ApiError {
  return new ApiError({ code: ErrorCode.not_found, message: 'Order not found', details: { entity: 'order' } });
}

export function registerViewOrder(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(viewOrderRoute, async (c) => {
    const operator = getOperator(c);
    const { id } = c.req.valid('param');
    const { sql } = requireCrm(deps.crm);
    const [order] = await runCrm(() => findOrders(sql, operator.region, { id }));
    if (!order) throw orderNotFound();
    c.header('ETag', order.etag);
    return c.json(order, 200);
  });
}
