import type { ClickHouseClient } from '@clickhouse/client';
import { chInt, chSql, type ChFragment } from '../../db/clickhouse/sql.ts';

export const JOB_NAMES = ['etl', 'backfill', 'retention'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export type RunStatus = 'succeeded' | 'failed';

/** One finished run, as stored in ClickHouse `etl_runs` (append-only, see 003_etl_runs.sql). */
export interface RunRecord {
  runId: string;
  job: JobName;
  startedAt: Date;
  finishedAt: Date;
  status: RunStatus;
  /** ETL: received_at window (incremental) or event_time window (backfill); retention: up to the cutoff. */
  windowFrom: Date;
  windowTo: Date;
  rowsRead: number;
  /** ETL: mart rows; retention: partitions dropped. */
  rowsWritten: number;
  affectedUsers: number;
  /** Why the run failed; empty when it succeeded. */
  error: string;
  /** What an operator should know about the run (deferred hours, what retention dropped); may be empty. */
  note: string;
}

export interface RunHistory {
  record(run: RunRecord): Promise<void>;
  /** Newest first. */
  list(options: { limit: number; job?: JobName }): Promise<RunRecord[]>;
}

const seconds = (date: Date) => Math.max(0, Math.floor(date.getTime() / 1000));

interface StoredRun {
  run_id: string;
  job: string;
  started_at: string | number;
  finished_at: string | number;
  status: string;
  window_from: string | number;
  window_to: string | number;
  rows_read: string | number;
  rows_written: string | number;
  affected_users: string | number;
  error: string;
  note: string;
}

const fromSeconds = (value: string | number) => new Date(Number(value) * 1000);

/** Newest runs first; exported so tests can run the exact SQL on a current engine (chdb). */
export function listRunsQuery({ limit, job }: { limit: number; job?: JobName }): ChFragment {
  const filter = job ? chSql`WHERE job = ${job}` : chSql``;
  return chSql`SELECT run_id, job, toUnixTimestamp(started_at) AS started_at, toUnixTimestamp(finished_at) AS finished_at, status,
                      toUnixTimestamp(window_from) AS window_from, toUnixTimestamp(window_to) AS window_to,
                      rows_read, rows_written, affected_users, error, note
               FROM etl_runs ${filter}
               ORDER BY started_at DESC, finished_at DESC
               LIMIT ${chInt(limit)}`;
}

/** An etl_runs row in JSONEachRow form (DateTime as unix seconds). */
export function runRow(run: RunRecord): Record<string, string | number> {
  return {
    run_id: run.runId,
    job: run.job,
    started_at: seconds(run.startedAt),
    finished_at: seconds(run.finishedAt),
    status: run.status,
    window_from: seconds(run.windowFrom),
    window_to: seconds(run.windowTo),
    rows_read: run.rowsRead,
    rows_written: run.rowsWritten,
    affected_users: run.affectedUsers,
    error: run.error.slice(0, 2000),
    note: run.note.slice(0, 2000),
  };
}

export function createClickHouseRunHistory(client: ClickHouseClient): RunHistory {
  return {
    async record(run) {
      await client.insert({ table: 'etl_runs', format: 'JSONEachRow', values: [runRow(run)] });
    },

    async list({ limit, job }) {
      const result = await client.query({ query: listRunsQuery({ limit, job }).text, format: 'JSONEachRow' });
      const rows = await result.json<StoredRun>();
      return rows.map((row) => ({
        runId: row.run_id,
        job: row.job as JobName,
        startedAt: fromSeconds(row.started_at),
        finishedAt: fromSeconds(row.finished_at),
        status: row.status as RunStatus,
        windowFrom: fromSeconds(row.window_from),
        windowTo: fromSeconds(row.window_to),
        rowsRead: Number(row.rows_read),
        rowsWritten: Number(row.rows_written),
        affectedUsers: Number(row.affected_users),
        error: row.error,
        note: row.note,
      }));
    },
  };
}
