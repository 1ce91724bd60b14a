import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity, errorResponseDoc } from '../../common/http/openapi.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import { runRetention } from './retention-job.ts';
import { authErrors, RunSchema, runToJson } from './schemas.ts';
import { triggerJob } from './trigger-job.ts';

export const TriggerRetentionBodySchema = z
  .object({ dry_run: z.boolean().default(false).openapi({ description: 'Only report what would be dropped' }) })
  .strict()
  .openapi('TriggerRetention');

const PlanSchema = z.object({
  raw_cutoff: z.string(),
  mart_cutoff: z.string(),
  raw_partitions: z.array(z.string()).openapi({ description: 'raw_telemetry partitions (to be) dropped' }),
  mart_partitions: z.array(z.string()).openapi({ description: 'report_hourly partitions (toYYYYMM) (to be) dropped' }),
});

export const RetentionResponseSchema = z
  .object({
    status: z.enum(['planned', 'succeeded']),
    plan: PlanSchema,
    run: RunSchema.nullable(),
    deleted_default_rows: z.number().int(),
    deleted_deferred_hours: z.number().int().openapi({ description: 'ETL deferred hours (chip unknown to the CRM) older than the raw horizon, dropped' }),
  })
  .openapi('RetentionResult');

export const triggerRetentionRoute = createRoute({
  method: 'post',
  path: '/runs/retention',
  tags: ['runs'],
  summary: 'Run retention now (drops whole months past the horizons); quick, so it answers when done',
  security: bearerSecurity,
  request: { body: { required: false, content: { 'application/json': { schema: TriggerRetentionBodySchema } } } },
  responses: {
    200: { description: 'What was (or would be) dropped', content: { 'application/json': { schema: RetentionResponseSchema } } },
    409: errorResponseDoc('Another process is running retention'),
    500: errorResponseDoc('The run failed; it is in the run history with its error'),
    ...authErrors,
  },
});

export function registerTriggerRetention(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  app.openapi(triggerRetentionRoute, async (c) => {
    const body = c.req.valid('json') as z.infer<typeof TriggerRetentionBodySchema> | undefined;
    const dryRun = body?.dry_run ?? false;
    const result = await triggerJob(c, 'retention', () => runRetention(deps, { ...deps.retentionSettings, dryRun }), { dryRun });
    const plan = {
      raw_cutoff: result.plan.rawCutoff,
      mart_cutoff: result.plan.martCutoff,
      raw_partitions: result.plan.rawPartitions,
      mart_partitions: result.plan.martPartitions,
    };
    if (result.status === 'planned') return c.json({ status: 'planned' as const, plan, run: null, deleted_default_rows: 0, deleted_deferred_hours: 0 }, 200);
    if (result.status === 'failed') throw new ApiError({ code: ErrorCode.internal, message: `Retention failed: ${result.error ?? 'unknown error'}`, details: { run_id: result.run.runId } });
    return c.json({ status: 'succeeded' as const, plan, run: runToJson(result.run), deleted_default_rows: result.deletedDefaultRows, deleted_deferred_hours: result.droppedDeferredHours }, 200);
  });
}
