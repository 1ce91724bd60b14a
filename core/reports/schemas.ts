import { z } from '@hono/zod-openapi';
import { ErrorCode } from '../../common/http/errors.ts';

/** Route-level schemas shared by the report operations. */

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

export const commonErrors = {
  401: errorResponse('Missing, malformed, expired or otherwise invalid access token'),
  403: errorResponse('The token lacks the role this operation needs'),
  503: errorResponse('A dependency (ClickHouse, S3, Keycloak) is unavailable; see Retry-After'),
} as const;

export const badRequest = errorResponse('Bad date or paging parameters');
export const notFound = errorResponse('No data for that day');
export const errorResponses = { errorResponse };

export const DateParamSchema = z.object({
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
    .openapi({ param: { name: 'date', in: 'path' }, example: '2026-11-24', description: 'UTC calendar day' }),
});

export const UserParamSchema = z.object({
  user: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'not a username')
    .openapi({ param: { name: 'user', in: 'path' }, example: 'ivan.petrov', description: 'The person’s username (LDAP uid)' }),
});

export const PagingQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(366).default(30).openapi({ param: { name: 'limit', in: 'query' }, example: 30 }),
  offset: z.coerce.number().int().min(0).max(100_000).default(0).openapi({ param: { name: 'offset', in: 'query' }, example: 0 }),
});

export const bearerSecurity = [{ bearerAuth: [] }];
