import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { getOperator } from './operator.ts';
import { toCustomer, type CustomerRow } from './records.ts';
import { CustomerSchema, crmErrors } from './schemas.ts';
import { requireCrm, runCrm } from './store.ts';
import { errorResponseDoc } from '../../common/http/openapi.ts';

export const searchCustomersRoute = createRoute({
  method: 'get',
  path: '/api/crm/customers',
  tags: ['crm'],
  summary: 'Find customers of the operator’s region by a fragment of name, e-mail or username',
  security: bearerSecurity,
  request: {
    query: z.object({
      q: z.string().trim().max(100, 'at most 100 characters').default('').openapi({ param: { name: 'q', in: 'query' }, example: 'petrov', description: 'Case-insensitive fragment; empty lists everyone' }),
      limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
      offset: z.coerce.number().int().min(0).max(100_000).default(0).openapi({ param: { name: 'offset', in: 'query' }, example: 0 }),
    }),
  },
  responses: {
    200: {
      description: 'A page of customers ordered by name',
      content: { 'application/json': { schema: z.object({ items: z.array(CustomerSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }) } },
    },
    400: errorResponseDoc('Bad paging or a too long fragment'),
    ...crmErrors,
  },
});

/** LIKE treats % _ and \ specially; a fragment is matched literally. */
function likePattern(fragment: string): string {
  return `%${fragment.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

export function registerSearchCustomers(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(searchCustomersRoute, async (c) => {
    const operator = getOperator(c);
    const { q, limit, offset } = c.req.valid('query');
    const { sql } = requireCrm(deps.crm);
    const pattern = likePattern(q);
    const rows = await runCrm(
      () => sql<Array<CustomerRow & { total: string }>>`
        select c.id::text, c.username, c.region, c.full_name, c.email, c.phone, c.created_at, c.updated_at,
               (extract(epoch from c.updated_at) * 1000000)::bigint::text as version,
               count(*) over () as total
        from crm.customers c
        where c.region = ${operator.region}
          and (c.full_name ilike ${pattern} or c.email ilike ${pattern} or c.username ilike ${pattern})
        order by lower(c.full_name), c.id
        limit ${limit} offset ${offset}`,
    );
    const total = rows.length > 0 ? Number(rows[0]!.total) : offset === 0 ? 0 : await countMatches();
    return c.json({ items: rows.map((row) => toCustomer(row)), total, limit, offset }, 200);

    // A page past the end carries no window count; ask for it so the total stays right.
    async function countMatches(): Promise<number> {
      const [row] = await runCrm(
        () => sql`select count(*)::int as n from crm.customers c where c.region = ${operator.region}
                  and (c.full_name ilike ${pattern} or c.email ilike ${pattern} or c.username ilike ${pattern})`,
      );
      return row!.n as number;
    }
  });
}
