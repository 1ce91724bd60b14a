import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { customerNotFound } from './customer-view.ts';
import { assertVersion, requireIfMatch } from './etag.ts';
import { getOperator } from './operator.ts';
import { findCustomer } from './records.ts';
import { CustomerSchema, IdParamSchema, IfMatchHeaderSchema, crmErrors, emailSchema, etagHeader, fullNameSchema, ifMatchMissingDoc, invalidDoc, notFoundDoc, phoneSchema, staleDoc, badIdDoc } from './schemas.ts';
import { requireCrm, runCrm, writeAudit } from './store.ts';

export const EditCustomerSchema = z
  .object({
    full_name: fullNameSchema.optional(),
    email: emailSchema.optional(),
    phone: phoneSchema.optional().openapi({ description: 'null removes the phone number' }),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'name at least one of full_name, email, phone' })
  .openapi('CrmEditCustomer');
export type EditCustomerBody = z.infer<typeof EditCustomerSchema>;

export const editCustomerRoute = createRoute({
  method: 'patch',
  path: '/api/crm/customers/{id}',
  tags: ['crm'],
  summary: 'Change a customer’s name, e-mail or phone (If-Match; audited)',
  description: 'The username (LDAP uid) and the region are fixed.',
  security: bearerSecurity,
  request: {
    params: IdParamSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: EditCustomerSchema } } },
  },
  responses: {
    200: { description: 'The customer as stored now', headers: etagHeader, content: { 'application/json': { schema: CustomerSchema } } },
    400: badIdDoc,
    404: notFoundDoc('customer'),
    412: staleDoc,
    422: invalidDoc,
    428: ifMatchMissingDoc,
    ...crmErrors,
  },
});

export function registerEditCustomer(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(editCustomerRoute, async (c) => {
    const operator = getOperator(c);
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const expected = requireIfMatch(c);
    const { sql } = requireCrm(deps.crm);
    const customer = await runCrm(() =>
      sql.begin(async (tx) => {
        const before = await findCustomer(tx, operator.region, id, { lock: true });
        if (!before) throw customerNotFound();
        assertVersion(c, expected, before.etag.slice(1, -1));
        // A row older than owner refs (CRM migration 003) gets its ref with its first edit.
        const ownerRef = await deps.owners.refOf(before.username);
        await tx`
          update crm.customers set
            owner_ref = coalesce(owner_ref, ${ownerRef}),
            full_name = ${body.full_name ?? before.full_name},
            email = ${body.email ?? before.email},
            phone = ${body.phone === undefined ? before.phone : body.phone}
          where id = ${id}`;
        const after = (await findCustomer(tx, operator.region, id))!;
        await writeAudit(tx, operator, { action: 'customer.update', entity: 'customer', entityId: id, customerId: id, before, after });
        return after;
      }),
    );
    c.header('ETag', customer.etag);
    return c.json(customer, 200);
  });
}
