import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { getOperator } from './operator.ts';
import { findCustomer, findOrders, findProstheses } from './records.ts';
import { CustomerSchema, IdParamSchema, OrderSchema, ProsthesisSchema, crmErrors, etagHeader, notFoundDoc, badIdDoc } from './schemas.ts';
import { requireCrm, runCrm } from './store.ts';

export const CustomerDetailSchema = z
  .object({ customer: CustomerSchema, prostheses: z.array(ProsthesisSchema), orders: z.array(OrderSchema) })
  .openapi('CrmCustomerDetail');

export const viewCustomerRoute = createRoute({
  method: 'get',
  path: '/api/crm/customers/{id}',
  tags: ['crm'],
  summary: 'A customer of the operator’s region with their prostheses and orders',
  security: bearerSecurity,
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The customer; ETag is the customer’s version', headers: etagHeader, content: { 'application/json': { schema: CustomerDetailSchema } } },
    400: badIdDoc,
    404: notFoundDoc('customer'),
    ...crmErrors,
  },
});

export function customerNotFound(): ApiError {
  return new ApiError({ code: ErrorCode.not_found, message: 'Customer not found', details: { entity: 'customer' } });
}

export function registerViewCustomer(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(viewCustomerRoute, async (c) => {
    const operator = getOperator(c);
    const { id } = c.req.valid('param');
    const { sql } = requireCrm(deps.crm);
    const customer = await runCrm(() => findCustomer(sql, operator.region, id));
    if (!customer) throw customerNotFound();
    const [prostheses, orders] = await runCrm(() =>
      Promise.all([findProstheses(sql, operator.region, { customerId: id }), findOrders(sql, operator.region, { customerId: id })]),
    );
    c.header('ETag', customer.etag);
    return c.json({ customer, prostheses, orders }, 200);
  });
}
