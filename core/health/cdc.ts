import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
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
    consumer: z
      .object({
        group: z.string(),
        total_lag: z.number().nullable(),
        topics: z.array(
          z.object({
            topic: z.string(),
            lag: z.number().nullable(),
            error: z.string().optional(),
            partitions: z.array(z.object({ partition: z.number(), committed: z.number().nullable(), end: z.number(), lag: z.number() })),
          }),
        ),
      })
      .nullable(),
    connectors: z.array(z.object({ name: z.string(), state: z.string(), tasks: z.array(z.object({ id: z.number(), state: z.string() })) })).nullable(),
  })
  .openapi('CdcHealth');

export const cdcHealthRoute = createRoute({
  method: 'get',
  path: '/health/cdc',
  tags: ['health'],
  summary: 'CDC pipeline: replicated row counts, consumer lag per partition, connector state',
  responses: {
    200: { description: 'Every part answered and every connector runs', content: { 'application/json': { schema: CdcHealthSchema } } },
    503: { description: 'A part did not answer or a connector is not RUNNING (see problems)', content: { 'application/json': { schema: CdcHealthSchema } } },
  },
});

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function registerCdcHealth(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(cdcHealthRoute, async (c) => {
    const timeoutMs = deps.config.HEALTH_TIMEOUT_MS;
    const [tables, lag, connectors] = await Promise.allSettled([
      withTimeout(deps.cdc.tables(), timeoutMs, 'clickhouse'),
      withTimeout(deps.cdc.consumerLag(), timeoutMs * 3, 'kafka'),
      withTimeout(deps.cdc.connectors(), timeoutMs, 'kafka connect'),
    ]);
    const problems: string[] = [];
    if (tables.status === 'rejected') problems.push(`clickhouse: ${message(tables.reason)}`);
    if (lag.status === 'rejected') problems.push(`kafka: ${message(lag.reason)}`);
    else for (const topic of lag.value) if (topic.error) problems.push(`kafka topic ${topic.topic}: ${topic.error}`);
    if (connectors.status === 'rejected') problems.push(`kafka connect: ${message(connectors.reason)}`);
    else {
      if (connectors.value.length === 0) problems.push('kafka connect: no connector registered');
      for (const connector of connectors.value) {
        if (connector.state !== 'RUNNING') problems.push(`connector ${connector.name} is ${connector.state}`);
        for (const task of connector.tasks) if (task.state !== 'RUNNING') problems.push(`connector ${connector.name} task ${task.id} is ${task.state}`);
      }
    }
    const topics = lag.status === 'fulfilled' ? lag.value : null;
    const body = {
      status: problems.length ? ('degraded' as const) : ('ok' as const),
      problems,
      tables: tables.status === 'fulfilled' ? tables.value : null,
      consumer: topics
        ? {
            group: deps.config.CDC_CONSUMER_GROUP,
            total_lag: topics.some((t) => t.lag === null) ? null : topics.reduce((sum, t) => sum + (t.lag ?? 0), 0),
            topics,
          }
        : null,
      connectors: connectors.status === 'fulfilled' ? connectors.value : null,
    };
    return problems.length ? c.json(body, 503) : c.json(body, 200);
  });
}
