import { z } from '@hono/zod-openapi';
import { bearerErrorDocs } from '../../common/http/openapi.ts';
import type { RunRecord } from './run-history.ts';
import { JOB_NAMES } from './run-history.ts';

export const authErrors = bearerErrorDocs('Keycloak or a store is unavailable; see Retry-After');

export const RunSchema = z
  .object({
    run_id: z.string(),
    job: z.enum(JOB_NAMES),
    status: z.enum(['succeeded', 'failed']),
    started_at: z.string(),
    finished_at: z.string(),
    window_from: z.string().openapi({ description: 'ETL: received-at window start (backfill: event time); retention: epoch' }),
    window_to: z.string(),
    rows_read: z.number().int().openapi({ description: 'ETL: raw telemetry rows aggregated' }),
    rows_written: z.number().int().openapi({ description: 'ETL: mart rows written; retention: partitions dropped' }),
    affected_users: z.number().int(),
    error: z.string().openapi({ description: 'Why it failed; empty when it succeeded' }),
    note: z.string().openapi({ description: 'What an operator should know (ETL: hours deferred for chips unknown to the CRM, earlier deferred hours still waiting or loaded; retention: what it dropped); may be empty' }),
  })
  .openapi('Run');

export function runToJson(run: RunRecord): z.infer<typeof RunSchema> {
  return {
    run_id: run.runId,
    job: run.job,
    status: run.status,
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt.toISOString(),
    window_from: run.windowFrom.toISOString(),
    window_to: run.windowTo.toISOString(),
    rows_read: run.rowsRead,
    rows_written: run.rowsWritten,
    affected_users: run.affectedUsers,
    error: run.error,
    note: run.note,
  };
}
