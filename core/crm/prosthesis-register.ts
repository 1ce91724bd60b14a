import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { customerNotFound } from './customer-view.ts';
import { getOperator } from './operator.ts';
import { findCustomer, findProstheses, modelExists } from './records.ts';
import { CHIP_ID_RE, ProsthesisSchema, conflictDoc, crmErrors, etagHeader, invalidDoc, notFoundDoc, uuidSchema } from './schemas.ts';
import { requireCrm, runCrm, writeAudit } from './store.ts';

export const RegisterProsthesisSchema = z
  .object({
    chip_id: z.string().regex(CHIP_ID_RE, 'letters, digits, _ and - (4–64): what the device sends').openapi({ example: 'CHIP-RU-0001' }),
    serial_number: z.string().trim().min(1, 'must not be empty').max(64, 'at most 64 characters').openapi({ example: 'BH-X2-000123' }),
    model_id: uuidSchema,
    customer_id: uuidSchema.openapi({ description: 'The owner: a customer of the operator’s region' }),
    fitted_at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Defaults to now' }),
  })
  .strict()
  .openapi('CrmRegisterProsthesis');
export type RegisterProsthesisBody = z.infer<typeof RegisterProsthesisSchema>;

export const registerProsthesisRoute = createRoute({
  method: 'post',
  path: '/api/crm/prostheses',
  tags: ['crm'],
  summary: 'Register a prosthesis (model and chip) and assign it to a customer (audited)',
  security: bearerSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: RegisterProsthesisSchema } } } },
  responses: {
    201: { description: 'Registered', headers: etagHeader, content: { 'application/json': { schema: ProsthesisSchema } } },
    404: notFoundDoc('customer'),
    409: conflictDoc,
    422: invalidDoc,
    ...crmErrors,
  },
});

export function unknownModel(): ApiError {
  return new ApiError({ code: ErrorCode.unprocessable, message: 'Unknown prosthesis model', details: [{ path: 'model_id', message: 'no such model' }] });
}

export function registerRegisterProsthesis(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(registerProsthesisRoute, async (c) => {
    const operator = getOperator(c);
    const body = c.req.valid('json');
    const { sql } = requireCrm(deps.crm);
    const prosthesis = await runCrm(() =>
      sql.begin(async (tx) => {
        // Locked so the owner cannot be moved to another region or vanish before the insert lands.
        if (!(await findCustomer(tx, operator.region, body.customer_id, { lock: true }))) throw customerNotFound();
        if (!(await modelExists(tx, body.model_id))) throw unknownModel();
        const fittedAt = body.fitted_at ? new Date(body.fitted_at) : new Date(deps.now());
        const [row] = await tx<{ id: string }[]>`
          insert into crm.prostheses (chip_id, customer_id, model_id, serial_number, fitted_at)
          values (${body.chip_id}, ${body.customer_id}, ${body.model_id}, ${body.serial_number}, ${fittedAt})
          returning id::text`;
        const [created] = await findProstheses(tx, operator.region, { id: row!.id });
        await writeAudit(tx, operator, { action: 'prosthesis.register', entity: 'prosthesis', entityId: created!.id, customerId: created!.customer_id, before: null, after: created });
        return created!;
      }),
    );
    c.header('ETag', prosthesis.etag);
    c.header('Location', `/api/crm/prostheses/${prosthesis.id}`);
    return c.json(prosthesis, 201);
  });
}
