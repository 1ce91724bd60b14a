import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { getOperator } from './operator.ts';
import { findCustomer } from './records.ts';
import { CustomerSchema, USERNAME_RE, conflictDoc, crmErrors, emailSchema, etagHeader, fullNameSchema, invalidDoc, phoneSchema } from './schemas.ts';
import { requireCrm, runCrm, writeAudit } from './store.ts';

export const CreateCustomerSchema = z
  .object({
    username: z.string().regex(USERNAME_RE, 'letters, digits, . _ - (1–64); the person’s LDAP uid').openapi({ example: 'ivan.petrov' }),
    full_name: fullNameSchema.openapi({ example: 'Иван Петров' }),
    email: emailSchema.openapi({ example: 'ivan.petrov@ru.bionicpro.example' }),
    phone: phoneSchema.optional().openapi({ example: '+7 495 123-45-67' }),
  })
  .strict()
  .openapi('CrmCreateCustomer');
export type CreateCustomerBody = z.infer<typeof CreateCustomerSchema>;

export const createCustomerRoute = createRoute({
  method: 'post',
  path: '/api/crm/customers',
  tags: ['crm'],
  summary: 'Create a customer in the operator’s region (audited)',
  description: 'The region is the operator’s own, from their token; it cannot be chosen in the body.',
  security: bearerSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: CreateCustomerSchema } } } },
  responses: {
    201: { description: 'Created', headers: etagHeader, content: { 'application/json': { schema: CustomerSchema } } },
    409: conflictDoc,
    422: invalidDoc,
    ...crmErrors,
  },
});

export function registerCreateCustomer(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(createCustomerRoute, async (c) => {
    const operator = getOperator(c);
    const body = c.req.valid('json');
    const { sql } = requireCrm(deps.crm);
    const ownerRef = await deps.owners.refOf(body.username);
    const customer = await runCrm(() =>
      sql.begin(async (tx) => {
        const [row] = await tx<{ id: string }[]>`
          insert into crm.customers (username, owner_ref, region, full_name, email, phone)
          values (${body.username}, ${ownerRef}, ${operator.region}, ${body.full_name}, ${body.email}, ${body.phone ?? null})
          returning id::text`;
        const created = (await findCustomer(tx, operator.region, row!.id))!;
        await writeAudit(tx, operator, { action: 'customer.create', entity: 'customer', entityId: created.id, customerId: created.id, before: null, after: created });
        return created;
      }),
    );
    c.header('ETag', customer.etag);
    c.header('Location', `/api/crm/customers/${customer.id}`);
    return c.json(customer, 201);
  });
}
