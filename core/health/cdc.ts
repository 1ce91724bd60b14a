import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { reuseRecent } from '../../common/http/reuse-recent.ts';
import { withTimeout } from '../../common/with-timeout.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';

export const CdcHealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    problems: z.array(z.string()),
    tables: z
      .array(
        z.object({
          table: z.string(),
          live_rows: z.number(),
          deleted_rows: z.number(),
          last_source_change_at: z.string().nullable(),
          last_applied_at: z.string().nullable(),
        }),
      )
      .nullable(),
  })
  .openapi('CdcHealth');

export const cdcHealthRoute = createRoute({
  method: 'get',
  path: '/health/cdc',
  tags: ['health'],
  summary: 'CDC tables as ClickHouse holds them: live and deleted rows, last source change, last applied change',
  description: 'Answered from a round at most a second old (requests within a second share one). Consumer lag per partition is on the jobs service (`GET /health/cdc` there); Kafka Connect answers for its connectors.',
  responses: {
    200: { description: 'ClickHouse answered for every CDC table', content: { 'application/json': { schema: CdcHealthSchema } } },
    503: { description: 'ClickHouse did not answer (see problems)', content: { 'application/json': { schema: CdcHealthSchema } } },
  },
});

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Requests within this long of a round share its answer (as /health/ready's rounds and jobs' /health/cdc do). */
export const CDC_HEALTH_REUSE_MS = 1000;

type CdcHealth = z.infer<typeof CdcHealthSchema>;

export function registerCdcHealth(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  // The route needs no token and each round is four FINAL scans in ClickHouse: a flood of health
  // requests must cost at most one round a second.
  const recentRound = reuseRecent(() => cdcHealth(deps), CDC_HEALTH_REUSE_MS, () => deps.now());
  app.openapi(cdcHealthRoute, async (c) => {
    const body = await recentRound();
    return body.problems.length ? c.json(body, 503) : c.json(body, 200);
  });
}

/** One round over the CDC tables; never throws. */
async function cdcHealth(deps: CoreDeps): Promise<CdcHealth> {
  let tables = null;
  const problems: string[] = [];
  try {
    tables = await withTimeout(deps.cdc.tables(), deps.config.HEALTH_TIMEOUT_MS, 'clickhouse');
  } catch (error) {
    problems.push(`clickhouse: ${message(error)}`);
  }
  return { status: problems.length ? 'degraded' : 'ok', problems, tables };
}
