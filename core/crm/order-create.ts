import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { customerNotFound } from './customer-view.ts';
import { getOperator } from './operator.ts';
import { unknownModel } from './prosthesis-register.ts';
import { findCustomer, findOrders, modelExists } from './records.ts';
import { OrderSchema, crmErrors, etagHeader, invalidDoc, notFoundDoc, uuidSchema } from './schemas.ts';
import { requireCrm, runCrm, writeAudit } from './store.ts';

/** numeric(12,2): sent as a decimal string (exact) or a number; stored without rounding or refused. */
const amountSchema = z
  .union([z.string(), z.number()])
  .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
  .pipe(z.string().regex(/^\d{1,10}(\.\d{1,2})?$/, 'a non-negative amount with at most 10 digits before and 2 after the point'))
  .openapi({ example: '125000.00', type: 'string' });

export const CreateOrderSchema = z
  .object({
    customer_id: uuidSchema,
    model_id: uuidSchema,
    amount: amountSchema,
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as RUB or EUR').openapi({ example: 'RUB' }),
  })
  .strict()
  .openapi('CrmCreateOrder');
export type CreateOrderBody = z.input<typeof CreateOrderSchema>;

export const createOrderRoute = createRoute({
  method: 'post',
  path: '/api/crm/orders',
  tags: ['crm'],
  summary: 'Create an order (status new) for a customer of the region (audited)',
  security: bearerSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: CreateOrderSchema } } } },
  responses: {
    201: { description: 'Created', headers: etagHeader, content: { 'application/json': { schema: OrderSchema } } },
    404: notFoundDoc('customer'),
    422: invalidDoc,
    ...crmErrors,
  },
});

export function registerCreateOrder(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(createOrderRoute, async (c) => {
    const operator = getOperator(c);
    const body = c.req.valid('json');
    const { sql } = requireCrm(deps.crm);
    const order = await runCrm(() =>
      sql.begin(async (tx) => {
        if (!(await findCustomer(tx, operator.region, body.customer_id, { lock: true }))) throw customerNotFound();
        if (!(await modelExists(tx, body.model_id))) throw unknownModel();
        const [row] = await tx<{ id: string }[]>`
          insert into crm.orders (customer_id, model_id, status, amount, currency, ordered_at)
          values (${body.customer_id}, ${body.model_id}, 'new', ${body.amount}::numeric, ${body.currency}, ${new Date(deps.now())})
          returning id::text`;
        const [created] = await findOrders(tx, operator.region, { id: row!.id });
        await writeAudit(tx, operator, { action: 'order.create', entity: 'order', entityId: created!.id, customerId: created!.customer_id, before: null, after: created });
        return created!;
      }),
    );
    c.header('ETag', order.etag);
    c.header('Location', `/api/crm/orders/${order.id}`);
    return c.json(order, 201);
  });
}
