import { z } from '@hono/zod-openapi';
import { errorResponseDoc } from '../../common/http/openapi.ts';

/** Schemas shared by the CRM operations; each operation file holds its own request body. */

export const crmErrors = {
  401: errorResponseDoc('Missing, malformed, expired or otherwise invalid access token'),
  403: errorResponseDoc('The token lacks the crm_operator role or a region'),
  503: errorResponseDoc('The CRM database (or Keycloak) is unavailable; see Retry-After'),
} as const;
export const notFoundDoc = (what: string) => errorResponseDoc(`No ${what} with this id in the operator’s region (another region’s records answer the same)`);
export const invalidDoc = errorResponseDoc('The body is invalid: `details` lists each field and why');
export const staleDoc = errorResponseDoc('If-Match names a version that is no longer current (lost update prevented); reload and retry');
export const ifMatchMissingDoc = errorResponseDoc('If-Match is missing: updates must name the version they were based on');
export const badIdDoc = errorResponseDoc('The id in the path is not a UUID');
export const conflictDoc = errorResponseDoc('A unique value (username, chip id, serial number) is taken');

export const uuidSchema = z.string().uuid('not a UUID');

export const IdParamSchema = z.object({
  id: uuidSchema.openapi({ param: { name: 'id', in: 'path' }, example: '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b' }),
});

export const IfMatchHeaderSchema = z.object({
  'if-match': z.string().optional().openapi({ param: { name: 'if-match', in: 'header' }, description: 'The ETag of the version the update is based on (required)', example: '"1733480000123456"' }),
});

export const etagHeader = { ETag: { description: 'Version of the record; send it back as If-Match to update', schema: { type: 'string' as const } } };

export const USERNAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
export const CHIP_ID_RE = /^[A-Za-z0-9_-]{4,64}$/;

export const fullNameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters');
export const emailSchema = z.string().trim().max(254, 'at most 254 characters').regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'not an e-mail address');
export const phoneSchema = z.string().trim().regex(/^\+?[0-9][0-9 ()-]{3,30}$/, 'not a phone number (digits, spaces, ( ) - and an optional leading +)').nullable();

export const RegionSchema = z.enum(['ru', 'eu']);

export const CustomerSchema = z
  .object({
    id: z.string().uuid(),
    username: z.string().openapi({ example: 'ivan.petrov', description: 'LDAP uid; fixed once created' }),
    region: RegionSchema,
    full_name: z.string().openapi({ example: 'Иван Петров' }),
    email: z.string().openapi({ example: 'ivan.petrov@ru.bionicpro.example' }),
    phone: z.string().nullable(),
    created_at: z.string().datetime(),
    updated_at: z.string().datetime(),
    etag: z.string().openapi({ description: 'The same value as the ETag header', example: '"1733480000123456"' }),
  })
  .openapi('CrmCustomer');
export type Customer = z.infer<typeof CustomerSchema>;

export const ProsthesisSchema = z
  .object({
    id: z.string().uuid(),
    chip_id: z.string().openapi({ example: 'CHIP-RU-0001' }),
    serial_number: z.string(),
    customer_id: z.string().uuid(),
    model_id: z.string().uuid(),
    model_name: z.string(),
    status: z.enum(['active', 'maintenance', 'retired']),
    fitted_at: z.string().datetime(),
    updated_at: z.string().datetime(),
    etag: z.string(),
  })
  .openapi('CrmProsthesis');
export type Prosthesis = z.infer<typeof ProsthesisSchema>;

export const ORDER_STATUSES = ['new', 'confirmed', 'manufacturing', 'fitted', 'closed', 'cancelled', 'paid', 'shipped'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const OrderSchema = z
  .object({
    id: z.string().uuid(),
    customer_id: z.string().uuid(),
    model_id: z.string().uuid(),
    model_name: z.string(),
    status: z.enum(ORDER_STATUSES),
    next_statuses: z.array(z.enum(ORDER_STATUSES)).openapi({ description: 'The statuses this order may move to now' }),
    amount: z.string().openapi({ example: '125000.00', description: 'Exact decimal' }),
    currency: z.string().openapi({ example: 'RUB' }),
    ordered_at: z.string().datetime(),
    updated_at: z.string().datetime(),
    etag: z.string(),
  })
  .openapi('CrmOrder');
export type Order = z.infer<typeof OrderSchema>;
