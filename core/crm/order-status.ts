import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { assertVersion, requireIfMatch } from './etag.ts';
import { getOperator } from './operator.ts';
import { isAllowedTransition, nextOrderStatuses } from './order-workflow.ts';
import { orderNotFound } from './order-view.ts';
import { findOrders } from './records.ts';
import { IdParamSchema, IfMatchHeaderSchema, OrderSchema, crmErrors, etagHeader, ifMatchMissingDoc, invalidDoc, notFoundDoc, staleDoc, badIdDoc } from './schemas.ts';
import { requireCrm, runCrm, writeAudit } from './store.ts';

/** The workflow's statuses; the legacy ones (paid, shipped) are never set through the API. */
const WORKFLOW_STATUSES = ['new', 'confirmed', 'manufacturing', 'fitted', 'closed', 'cancelled'] as const;

export const ChangeOrderStatusSchema = z
  .object({ status: z.enum(WORKFLOW_STATUSES).openapi({ example: 'confirmed' }) })
  .strict()
  .openapi('CrmChangeOrderStatus');
export type ChangeOrderStatusBody = z.infer<typeof ChangeOrderStatusSchema>;

export const changeOrderStatusRoute = createRoute({
  method: 'put',
  path: '/api/crm/orders/{id}/status',
  tags: ['crm'],
  summary: 'Move an order along new → confirmed → manufacturing → fitted → closed, or cancel it (If-Match; audited)',
  description: 'Only the transitions in `next_statuses` are allowed; anything else answers 422 naming the allowed ones. closed and cancelled are final.',
  security: bearerSecurity,
  request: {
    params: IdParamSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: ChangeOrderStatusSchema } } },
  },
  responses: {
    200: { description: 'The order in its new status', headers: etagHeader, content: { 'application/json': { schema: OrderSchema } } },
    400: badIdDoc,
    404: notFoundDoc('order'),
    412: staleDoc,
    422: invalidDoc,
    428: ifMatchMissingDoc,
    ...crmErrors,
  },
});

export function registerChangeOrderStatus(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(changeOrderStatusRoute, async (c) => {
    const operator = getOperator(c);
    const { id } = c.req.valid('param');
    const { status } = c.req.valid('json');
    const expected = requireIfMatch(c);
    const { sql } = requireCrm(deps.crm);
    const order = await runCrm(() =>
      sql.begin(async (tx) => {
        const [before] = await findOrders(tx, operator.region, { id }, { lock: true });
        if (!before) throw orderNotFound();
        assertVersion(c, expected, before.etag.slice(1, -1));
        if (!isAllowedTransition(before.status, status)) {
          const allowed = nextOrderStatuses(before.status);
          throw new ApiError({
            code: ErrorCode.unprocessable,
            message: allowed.length === 0
              ? `An order in status ${before.status} cannot change any more`
              : `An order in status ${before.status} can move to ${allowed.join(' or ')}, not ${status}`,
            details: { reason: 'transition_not_allowed', from: before.status, to: status, allowed },
          });
        }
        await tx`update crm.orders set status = ${status} where id = ${id}`;
        const [after] = await findOrders(tx, operator.region, { id });
        await writeAudit(tx, operator, { action: 'order.status', entity: 'order', entityId: id, customerId: before.customer_id, before, after });
        return after!;
      }),
    );
    c.header('ETag', order.etag);
    return c.json(order, 200);
  });
}
