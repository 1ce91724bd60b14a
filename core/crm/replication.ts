import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity } from '../../common/http/openapi.ts';
import { chIdentifier, chInt, chSql, chUuid, type ChFragment } from '../../db/clickhouse/sql.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { getOperator, type Operator } from './operator.ts';
import { findCustomer, findOrders, findProstheses } from './records.ts';
import { badIdDoc, crmErrors, notFoundDoc, uuidSchema } from './schemas.ts';
import { requireCrm, runCrm, type CrmStore } from './store.ts';

/** The replicated entities an operator saves, and their CDC tables in the report database. */
export const REPLICATED_ENTITIES = { customers: 'crm_customers', prostheses: 'crm_prostheses', orders: 'crm_orders' } as const;
export type ReplicatedEntity = keyof typeof REPLICATED_ENTITIES;

const ParamsSchema = z.object({
  entity: z.enum(['customers', 'prostheses', 'orders']).openapi({ param: { name: 'entity', in: 'path' }, example: 'orders' }),
  id: uuidSchema.openapi({ param: { name: 'id', in: 'path' }, example: '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b' }),
});

const QuerySchema = z.object({
  since: z
    .string()
    .regex(/^"?\d{1,20}"?$/, 'not a record version (the ETag a save returned)')
    .transform((value) => BigInt(value.replaceAll('"', '')))
    .openapi({ param: { name: 'since', in: 'query' }, description: 'The version (ETag, with or without quotes) the save returned', example: '1733480000123456' }),
});

export const ReplicationSchema = z
  .object({
    replicated: z.boolean().openapi({ description: 'Whether ClickHouse holds this version of the record (or a later one)' }),
    lag_ms: z.number().int().optional().openapi({ description: 'CRM commit (Debezium source.ts_ms) → row written to ClickHouse by the CDC consumer, in ms' }),
  })
  .openapi('CrmReplication');

export const replicationRoute = createRoute({
  method: 'get',
  path: '/api/crm/replication/{entity}/{id}',
  tags: ['crm'],
  summary: 'Whether a saved change has reached the analytics store (ClickHouse), and how long it took',
  security: bearerSecurity,
  request: { params: ParamsSchema, query: QuerySchema },
  responses: {
    200: { description: '`{replicated: false}` until the CDC consumer has written the version, then `{replicated: true, lag_ms}`', content: { 'application/json': { schema: ReplicationSchema } } },
    400: badIdDoc,
    404: notFoundDoc('record'),
    ...crmErrors,
  },
});

/**
 * The first replicated row of the record committed at or after the saved version. The version is
 * updated_at in µs, taken inside the saving transaction, so its commit time (source.ts_ms) is at
 * least the version's millisecond; earlier changes committed before it. Without FINAL on purpose:
 * the exact row of this change is wanted, not the newest one; if a later change already merged it
 * away, the later row answers (a lag that can only be larger). Rows replicated before migration 006
 * carry 0 and never match.
 */
export function replicationQuery(entity: ReplicatedEntity, id: string, sinceUs: bigint): ChFragment {
  const sinceMs = sinceUs / 1000n;
  return chSql`SELECT toString(toInt64(_ingested_ms) - toInt64(_source_ts_ms)) AS lag_ms
    FROM ${chIdentifier(REPLICATED_ENTITIES[entity])}
    WHERE id = ${chUuid(id)} AND _source_ts_ms >= ${chInt(sinceMs)} AND _ingested_ms > 0
    ORDER BY _source_ts_ms ASC, _ingested_ms ASC
    LIMIT 1`;
}

async function inRegion(crm: CrmStore, operator: Operator, entity: ReplicatedEntity, id: string): Promise<boolean> {
  const { sql } = crm;
  if (entity === 'customers') return (await findCustomer(sql, operator.region, id)) !== undefined;
  if (entity === 'prostheses') return (await findProstheses(sql, operator.region, { id })).length > 0;
  return (await findOrders(sql, operator.region, { id })).length > 0;
}

export function registerReplication(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(replicationRoute, async (c) => {
    const operator = getOperator(c);
    const { entity, id } = c.req.valid('param');
    const { since } = c.req.valid('query');
    const crm = requireCrm(deps.crm);
    // The region guard comes from the CRM, not ClickHouse: another region's id answers 404 like an unknown one.
    if (!(await runCrm(() => inRegion(crm, operator, entity, id)))) {
      throw new ApiError({ code: ErrorCode.not_found, message: 'Record not found', details: { entity } });
    }
    const [row] = await deps.chRows<{ lag_ms: string }>(replicationQuery(entity, id.toLowerCase(), since));
    c.header('Cache-Control', 'no-store');
    if (!row) return c.json({ replicated: false }, 200);
    return c.json({ replicated: true, lag_ms: Number(row.lag_ms) }, 200);
  });
}
