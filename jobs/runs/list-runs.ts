import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity, errorResponseDoc } from '../../common/http/openapi.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { errorMessage } from '../retry.ts';
import { JOB_NAMES } from './run-history.ts';
import { authErrors, RunSchema, runToJson } from './schemas.ts';

export const ListRunsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  job: z.enum(JOB_NAMES).optional().openapi({ param: { name: 'job', in: 'query' }, example: 'etl' }),
});

export const ListRunsResponseSchema = z
  .object({
    active: z.array(z.object({ run_id: z.string(), job: z.enum(JOB_NAMES), started_at: z.string(), progress: z.record(z.string(), z.number()) })),
    next: z.record(z.string(), z.string().nullable()).openapi({ description: 'Next scheduled start per job in this process (empty when the scheduler is off)' }),
    runs: z.array(RunSchema),
  })
  .openapi('RunList');
export type ListRunsResponse = z.infer<typeof ListRunsResponseSchema>;

export const listRunsRoute = createRoute({
  method: 'get',
  path: '/runs',
  tags: ['runs'],
  summary: 'Run history: runs in progress here, the next scheduled ones, and the last finished runs',
  security: bearerSecurity,
  request: { query: ListRunsQuerySchema },
  responses: {
    200: { description: 'Newest first', content: { 'application/json': { schema: ListRunsResponseSchema } } },
    400: errorResponseDoc('Bad limit or job'),
    ...authErrors,
  },
});

export function registerListRuns(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  app.openapi(listRunsRoute, async (c) => {
    const { limit, job } = c.req.valid('query');
    let runs;
    try {
      runs = await deps.runHistory.list({ limit, job });
    } catch (error) {
      throw new ApiError({ code: ErrorCode.service_unavailable, message: `Run history is unavailable: ${errorMessage(error).slice(0, 200)}`, details: { dependency: 'clickhouse' }, retryAfterSeconds: 5 });
    }
    return c.json(
      {
        active: deps.activeRuns.list().map((run) => ({ run_id: run.runId, job: run.job, started_at: run.startedAt.toISOString(), progress: run.progress })),
        next: deps.runtime.scheduler?.nextRuns() ?? {},
        runs: runs.map(runToJson),
      },
      200,
    );
  });
}
