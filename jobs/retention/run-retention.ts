import type { ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import type { Logger } from '../../common/log.ts';
import { chInt, chSql, type ChFragment } from '../../db/clickhouse/sql.ts';
import type { JobsMetrics } from '../metrics/jobs-metrics.ts';
import type { ActiveRuns } from '../runs/active-runs.ts';
import type { RunHistory, RunRecord } from '../runs/run-history.ts';
import { dropDeferredHoursBefore } from '../etl/deferred-hours.ts';
import { errorMessage } from '../retry.ts';
import { tryJobLock } from '../schedule/job-lock.ts';
import { martPartitionsToDrop, rawPartitionsToDrop, retentionCutoff, type PgPartition } from './retention-plan.ts';

export interface RetentionDeps {
  telemetryDb: postgres.Sql;
  /** Client on the database holding report_hourly. */
  clickhouse: ClickHouseClient;
  runHistory: RunHistory;
  logger: Logger;
  now: () => number;
  metrics?: JobsMetrics;
  activeRuns?: ActiveRuns;
}

export interface RetentionSettings {
  rawTelemetryDays: number;
  martDays: number;
  /** Schema of raw_telemetry (`public`; tests use a copy). */
  telemetrySchema: string;
  /** The ClickHouse database of report_hourly (system.parts is filtered by it). */
  clickhouseDatabase: string;
  /** Report what would be dropped, drop nothing, record no run. */
  dryRun?: boolean;
}

export interface RetentionPlan {
  rawCutoff: string;
  martCutoff: string;
  rawPartitions: string[];
  martPartitions: string[];
}

export type RetentionResult =
  | { status: 'skipped'; reason: string }
  | { status: 'planned'; plan: RetentionPlan }
  | {
      status: 'succeeded' | 'failed';
      run: RunRecord;
      plan: RetentionPlan;
      droppedRaw: string[];
      droppedMart: string[];
      deletedDefaultRows: number;
      /** ETL deferred hours (chip unknown to the CRM) older than the raw horizon: no longer recomputable. */
      droppedDeferredHours: number;
      error?: string;
    };

/** Exported so tests can run the exact SQL on a current engine (chdb). */
export const retentionQueries = {
  martPartitions: (database: string): ChFragment =>
    chSql`SELECT DISTINCT partition FROM system.parts WHERE database = ${database} AND table = 'report_hourly' AND active`,
  dropMartPartition: (partition: string): ChFragment => chSql`ALTER TABLE report_hourly DROP PARTITION ${chInt(Number(partition))}`,
};

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
const PARTITION_TABLE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Drops whole months: report_hourly partitions (toYYYYMM) older than the mart horizon, raw_telemetry
 * partitions older than the raw horizon, plus raw rows older than it that sit in the DEFAULT
 * partition. One process at a time (advisory lock); re-running finds nothing more to drop.
 */
export async function runRetention(deps: RetentionDeps, settings: RetentionSettings): Promise<RetentionResult> {
  if (!SCHEMA.test(settings.telemetrySchema)) throw new Error(`telemetry schema must be a plain identifier, got "${settings.telemetrySchema}"`);
  const lock = await tryJobLock(deps.telemetryDb, `retention:${settings.telemetrySchema}`);
  if (!lock) {
    deps.metrics?.runsSkipped.inc({ job: 'retention' });
    return { status: 'skipped', reason: 'another process is running retention' };
  }
  const db = lock.connection;
  const runId = randomUUID();
  const log = deps.logger.child({ runId, job: 'retention' });
  const startedAt = new Date(deps.now());
  const rawCutoff = retentionCutoff(deps.now(), settings.rawTelemetryDays);
  const martCutoff = retentionCutoff(deps.now(), settings.martDays);
  const progress = { droppedRaw: 0, droppedMart: 0 };
  const endActive = settings.dryRun ? () => {} : (deps.activeRuns?.begin({ runId, job: 'retention', startedAt, progress }) ?? (() => {}));
  const droppedRaw: string[] = [];
  const droppedMart: string[] = [];
  let deletedDefaultRows = 0;
  let droppedDeferredHours = 0;
  let plan: RetentionPlan = { rawCutoff: rawCutoff.toISOString(), martCutoff: martCutoff.toISOString(), rawPartitions: [], martPartitions: [] };
  let status: 'succeeded' | 'failed' = 'succeeded';
  let error = '';
  try {
    await db`set time zone 'UTC'`;
    const parent = `${settings.telemetrySchema}.raw_telemetry`;
    const children = await db<(PgPartition & { is_default: boolean })[]>`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound, pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' as is_default
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = ${parent}::regclass`;
    const partsResult = await deps.clickhouse.query({
      query: retentionQueries.martPartitions(settings.clickhouseDatabase).text,
      format: 'JSONEachRow',
    });
    const martParts = (await partsResult.json<{ partition: string }>()).map((p) => p.partition.replace(/^'|'$/g, ''));
    plan = { ...plan, rawPartitions: rawPartitionsToDrop(children, rawCutoff), martPartitions: martPartitionsToDrop(martParts, martCutoff) };
    if (settings.dryRun) return { status: 'planned', plan };

    for (const name of plan.rawPartitions) {
      if (!PARTITION_TABLE.test(name)) continue;
      // Dropping a partition detaches it too; only months entirely past the horizon get here.
      await db`drop table if exists ${db(`${settings.telemetrySchema}.${name}`)}`;
      droppedRaw.push(name);
      progress.droppedRaw++;
      deps.metrics?.retentionDropped.inc({ store: 'telemetry' });
    }
    const defaultPartition = children.find((c) => c.is_default);
    if (defaultPartition && PARTITION_TABLE.test(defaultPartition.name)) {
      const deleted = await db`delete from ${db(`${settings.telemetrySchema}.${defaultPartition.name}`)} where event_time < ${rawCutoff.toISOString()}::timestamptz`;
      deletedDefaultRows = deleted.count;
    }
    // The ETL's deferred hours of that age can no longer be recomputed from raw rows.
    droppedDeferredHours = await dropDeferredHoursBefore(db, settings.telemetrySchema, rawCutoff);
    if (droppedDeferredHours > 0) deps.metrics?.etlDeferredHours.inc({ outcome: 'dropped' }, droppedDeferredHours);
    for (const partition of plan.martPartitions) {
      await deps.clickhouse.command({ query: retentionQueries.dropMartPartition(partition).text });
      droppedMart.push(partition);
      progress.droppedMart++;
      deps.metrics?.retentionDropped.inc({ store: 'clickhouse' });
    }
    error =
      droppedRaw.length + droppedMart.length + deletedDefaultRows + droppedDeferredHours > 0
        ? `dropped raw [${droppedRaw.join(', ')}], mart [${droppedMart.join(', ')}], ${deletedDefaultRows} default-partition rows` +
          (droppedDeferredHours > 0
            ? `, ${droppedDeferredHours} deferred ETL hour${droppedDeferredHours === 1 ? '' : 's'} past the raw horizon (chip still unknown to the CRM replica, no longer loadable)`
            : '')
        : '';
  } catch (caught) {
    status = 'failed';
    error = errorMessage(caught);
    log.error('retention.failed', { error: caught });
  } finally {
    await lock.release();
    endActive();
  }

  const finishedAt = new Date(deps.now());
  const run: RunRecord = {
    runId,
    job: 'retention',
    startedAt,
    finishedAt,
    status,
    windowFrom: new Date(0),
    windowTo: new Date(Math.floor(Math.max(rawCutoff.getTime(), martCutoff.getTime()) / 1000) * 1000),
    rowsRead: deletedDefaultRows,
    rowsWritten: droppedRaw.length + droppedMart.length,
    affectedUsers: 0,
    error,
  };
  try {
    await deps.runHistory.record(run);
  } catch (recordError) {
    log.warn('retention.history_not_recorded', { error: errorMessage(recordError) });
  }
  deps.metrics?.runs.inc({ job: 'retention', status });
  deps.metrics?.runDuration.observe({ job: 'retention' }, (finishedAt.getTime() - startedAt.getTime()) / 1000);
  log.info('retention.finished', { status, droppedRaw, droppedMart, deletedDefaultRows, droppedDeferredHours });
  return { status, run, plan, droppedRaw, droppedMart, deletedDefaultRows, droppedDeferredHours, ...(status === 'failed' ? { error } : {}) };
}
