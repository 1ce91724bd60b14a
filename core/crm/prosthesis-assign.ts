import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { customerNotFound } from './customer-view.ts';
import { assertVersion, requireIfMatch } from './etag.ts';
import { getOperator } from './operator.ts';
import { prosthesisNotFound } from './prosthesis-view.ts';
import { findCustomer, findProstheses } from './records.ts';
import { IdParamSchema, IfMatchHeaderSchema, ProsthesisSchema, crmErrors, etagHeader, ifMatchMissingDoc, invalidDoc, notFoundDoc, staleDoc, uuidSchema, badIdDoc } from './schemas.ts';
import { requireCrm, runCrm, writeAudit } from './store.ts';

export const AssignProsthesisSchema = z.object({ customer_id: uuidSchema.openapi({ description: 'The new owner, a customer of the operator’s region' }) }).strict().openapi('CrmAssignProsthesis');
export type AssignProsthesisBody = z.infer<typeof AssignProsthesisSchema>;

export const assignProsthesisRoute = createRoute({
  method: 'put',
  path: '/api/crm/prostheses/{id}/customer',
  tags: ['crm'],
  summary: 'Reassign a prosthesis to another customer of the region (If-Match; audited)',
  description:
    'Writes crm.prosthesis_assignments (prosthesis, customer, valid_from = now) in the same transaction, so telemetry from now on belongs to the new owner while earlier hours keep the old one.',
  security: bearerSecurity,
  request: {
    params: IdParamSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: AssignProsthesisSchema } } },
  },
  responses: {
    200: { description: 'The prosthesis with its new owner', headers: etagHeader, content: { 'application/json': { schema: ProsthesisSchema } } },
    400: badIdDoc,
    404: notFoundDoc('prosthesis or customer'),
    412: staleDoc,
    422: invalidDoc,
    428: ifMatchMissingDoc,
    ...crmErrors,
  },
});

export function registerAssignProsthesis(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(assignProsthesisRoute, async (c) => {
    const operator = getOperator(c);
    const { id } = c.req.valid('param');
    const { customer_id: customerId } = c.req.valid('json');
    const expected = requireIfMatch(c);
    const { sql } = requireCrm(deps.crm);
    const prosthesis = await runCrm(() =>
      sql.begin(async (tx) => {
        const [before] = await findProstheses(tx, operator.region, { id }, { lock: true });
        if (!before) throw prosthesisNotFound();
        assertVersion(c, expected, before.etag.slice(1, -1));
        if (!(await findCustomer(tx, operator.region, customerId, { lock: true }))) throw customerNotFound();
        if (customerId === before.customer_id) return before;
        // The trigger crm.record_prosthesis_assignment adds the history row in this transaction.
        await tx`update crm.prostheses set customer_id = ${customerId} where id = ${id}`;
        const [after] = await findProstheses(tx, operator.region, { id });
        await writeAudit(tx, operator, { action: 'prosthesis.reassign', entity: 'prosthesis', entityId: id, customerId, before, after });
        return after!;
      }),
    );
    c.header('ETag', prosthesis.etag);
    return c.json(prosthesis, 200);
  });
}
