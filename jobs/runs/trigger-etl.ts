import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { bearerSecurity, errorResponseDoc } from '../../common/http/openapi.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import type { EtlRequest } from '../etl/run-etl.ts';
import { parseBackfillRange } from './backfill-range.ts';
import { startEtl } from './etl-job.ts';
import { authErrors } from './schemas.ts';
import { triggerJob } from './trigger-job.ts';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

export const TriggerEtlBodySchema = z
  .object({
    from: day.openapi({ example: '2026-11-01', description: 'First UTC day to recompute (backfill)' }),
    to: day.openapi({ example: '2026-11-03', description: 'Last UTC day, inclusive' }),
  })
  .strict()
  .openapi('TriggerEtl');

export const RunStartedSchema = z
  .object({ run_id: z.string(), job: z.enum(['etl', 'backfill', 'retention']), status: z.literal('started') })
  .openapi('RunStarted');

export const triggerEtlRoute = createRoute({
  method: 'post',
  path: '/runs/etl',
  tags: ['runs'],
  summary: 'Start an ETL run now: incremental (no body) or a backfill of whole UTC days',
  description: 'Answers once the run holds the lock; follow it in GET /runs. Administrators only.',
  security: bearerSecurity,
  request: { body: { required: false, content: { 'application/json': { schema: TriggerEtlBodySchema } } } },
  responses: {
    202: { description: 'The run started', content: { 'application/json': { schema: RunStartedSchema } } },
    409: errorResponseDoc('Another process is running the ETL'),
    422: errorResponseDoc('Body is not {from, to} with calendar days, from ≤ to'),
    ...authErrors,
  },
});

export function registerTriggerEtl(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  app.openapi(triggerEtlRoute, async (c) => {
    const body = c.req.valid('json') as z.infer<typeof TriggerEtlBodySchema> | undefined;
    let request: EtlRequest = { kind: 'incremental' };
    if (body && Object.keys(body).length > 0) {
      const range = parseBackfillRange(body.from, body.to);
      if (!range.ok) throw new ApiError({ code: ErrorCode.unprocessable, message: range.error });
      request = { kind: 'backfill', from: range.from, to: range.to };
    }
    const job = request.kind === 'incremental' ? ('etl' as const) : ('backfill' as const);
    const started = await triggerJob(c, job, () => startEtl(deps, deps.etlScope, deps.etlSettings, request));
    // The run outlives the request; its outcome is logged and lands in the run history.
    started.done.catch((error: unknown) => deps.logger.error('etl.unexpected', { error }));
    addToWideEvent(c, { runId: started.runId });
    return c.json({ run_id: started.runId, job, status: 'started' as const }, 202);
  });
}
