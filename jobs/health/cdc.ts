import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { reuseRecent } from '../../common/http/reuse-recent.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import { errorMessage } from '../retry.ts';

const PartitionLagSchema = z.object({ partition: z.number(), committed: z.number().nullable(), end: z.number(), lag: z.number() });

export const JobsCdcHealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'disabled']),
    problems: z.array(z.string()),
    group: z.string(),
    consumer: z
      .object({
        state: z.enum(['starting', 'running', 'restarting', 'stopped', 'crashed']),
        last_error: z.string().nullable(),
        applied_changes: z.number().int(),
        dead_lettered: z.number().int(),
        tombstones: z.number().int(),
        last_applied: z
          .object({
            table: z.string(),
            op: z.string(),
            id: z.string(),
            lsn: z.string(),
            source_committed_at: z.string(),
            applied_at: z.string(),
            lag_ms: z.number().openapi({ description: 'CRM commit → stored in ClickHouse' }),
          })
          .nullable(),
      })
      .nullable()
      .openapi({ description: 'This process’s consumer; null when it has not started' }),
    lag: z
      .object({
        total: z.number().nullable(),
        topics: z.array(z.object({ topic: z.string(), lag: z.number().nullable(), error: z.string().optional(), partitions: z.array(PartitionLagSchema) })),
      })
      .nullable()
      .openapi({ description: 'Committed offsets of the group vs partition ends, as the broker reports them' }),
  })
  .openapi('JobsCdcHealth');

export const cdcHealthRoute = createRoute({
  method: 'get',
  path: '/health/cdc',
  tags: ['health'],
  summary: 'CDC consumer: state, last applied change, lag per partition',
  responses: {
    200: { description: 'The consumer runs and Kafka answered', content: { 'application/json': { schema: JobsCdcHealthSchema } } },
    503: { description: 'The consumer is not running or Kafka did not answer (see problems)', content: { 'application/json': { schema: JobsCdcHealthSchema } } },
  },
});

type CdcHealth = z.infer<typeof JobsCdcHealthSchema>;

/** Requests within this long of a round share its answer (as /health/ready's rounds do). */
export const CDC_HEALTH_REUSE_MS = 1000;

export function registerCdcHealth(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  // One lag read (a broker round trip per topic) per second at most, however many ask: a flood
  // of health requests must not become a flood of admin requests to Kafka.
  const recentRound = reuseRecent(() => cdcHealth(deps), CDC_HEALTH_REUSE_MS, () => deps.now());
  app.openapi(cdcHealthRoute, async (c) => {
    if (!deps.config.CDC_ENABLED) return c.json({ status: 'disabled' as const, problems: [], group: deps.config.CDC_CONSUMER_GROUP, consumer: null, lag: null }, 200);
    const body = await recentRound();
    return body.status === 'ok' ? c.json(body, 200) : c.json(body, 503);
  });
}

/** One round: the consumer's snapshot and the group's lag as the broker reports it; never throws. */
async function cdcHealth(deps: JobsDeps): Promise<CdcHealth> {
  const group = deps.config.CDC_CONSUMER_GROUP;
  const problems: string[] = [];
  const snapshot = deps.runtime.cdc?.snapshot();
  if (!snapshot) problems.push('consumer has not started');
  else if (snapshot.state !== 'running') problems.push(`consumer is ${snapshot.state}${snapshot.lastError ? `: ${snapshot.lastError}` : ''}`);
  let lag = null;
  try {
    const topics = await deps.groupLag();
    for (const topic of topics) if (topic.error) problems.push(`topic ${topic.topic}: ${topic.error}`);
    lag = { total: topics.some((t) => t.lag === null) ? null : topics.reduce((sum, t) => sum + (t.lag ?? 0), 0), topics };
  } catch (error) {
    problems.push(`kafka: ${errorMessage(error).slice(0, 200)}`);
  }
  const body = {
    status: problems.length > 0 ? ('degraded' as const) : ('ok' as const),
    problems,
    group,
    consumer: snapshot
      ? {
          state: snapshot.state,
          last_error: snapshot.lastError,
          applied_changes: snapshot.appliedChanges,
          dead_lettered: snapshot.deadLettered,
          tombstones: snapshot.tombstones,
          last_applied: snapshot.lastApplied
            ? {
                table: snapshot.lastApplied.table,
                op: snapshot.lastApplied.op,
                id: snapshot.lastApplied.id,
                lsn: snapshot.lastApplied.lsn,
                source_committed_at: snapshot.lastApplied.sourceCommittedAt,
                applied_at: snapshot.lastApplied.appliedAt,
                lag_ms: snapshot.lastApplied.lagMs,
              }
            : null,
        }
      : null,
    lag,
  };
  return body;
}
