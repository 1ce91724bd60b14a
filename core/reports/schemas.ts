import { z } from '@hono/zod-openapi';
import { USERNAME_PATTERN } from '../../common/auth/principal.ts';
import { bearerErrorDocs, errorResponseDoc } from '../../common/http/openapi.ts';
import { FIRST_REPORT_DATE, MAX_DAYS_AHEAD } from './report-date.ts';

/** Route-level schemas shared by the report operations. */

export const commonErrors = bearerErrorDocs('A dependency (ClickHouse, S3, Keycloak) is unavailable; see Retry-After');

export const badRequest = errorResponseDoc(
  `Bad date or paging parameters. A date must be a calendar day from ${FIRST_REPORT_DATE} (no prosthesis sent telemetry earlier) to today (UTC) + ${MAX_DAYS_AHEAD} day; outside that range error.details names param, earliest and latest`,
);
export const notFound = errorResponseDoc('No data for that day');

export const DateParamSchema = z.object({
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
    .openapi({ param: { name: 'date', in: 'path' }, example: '2026-11-24', description: `UTC calendar day, ${FIRST_REPORT_DATE} to today (UTC) + ${MAX_DAYS_AHEAD} day; other days answer 400` }),
});

export const UserParamSchema = z.object({
  user: z
    .string()
    .regex(USERNAME_PATTERN, 'not a username')
    .openapi({ param: { name: 'user', in: 'path' }, example: 'ivan.petrov', description: 'The person’s username (LDAP uid); core maps it to their report owner ref' }),
});

export const PagingQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(366).default(30).openapi({ param: { name: 'limit', in: 'query' }, example: 30 }),
  offset: z.coerce.number().int().min(0).max(100_000).default(0).openapi({ param: { name: 'offset', in: 'query' }, example: 0 }),
});
