import type { ClickHouseClient } from '@clickhouse/client';
import { chInt, chSql, type ChFragment } from '../../db/clickhouse/sql.ts';
import type { JobsMetrics } from '../metrics/jobs-metrics.ts';
import type { RunContext } from '../run-context.ts';
import { dropDeferredHoursBefore } from '../etl/deferred-hours.ts';
import { martPartitionsToDrop, rawPartitionsToDrop, retentionCutoff, type PgPartition } from './retention-plan.ts';

export interface RetentionPipelineDeps {
  /** Client on the database holding report_hourly. */
  clickhouse: ClickHouseClient;
  metrics: JobsMetrics;
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

/** What a retention run did, filled in as it goes (a failed run reports how far it got). */
export interface RetentionOutcome {
  plan: RetentionPlan;
  droppedRaw: string[];
  droppedMart: string[];
  deletedDefaultRows: number;
  /** ETL deferred hours (chip unknown to the CRM) older than the raw horizon: no longer recomputable. */
  droppedDeferredHours: number;
}

export function emptyRetentionOutcome(): RetentionOutcome {
  return { plan: { rawCutoff: '', martCutoff: '', rawPartitions: [], martPartitions: [] }, droppedRaw: [], droppedMart: [], deletedDefaultRows: 0, droppedDeferredHours: 0 };
}

/** Exported so tests can run the exact SQL on a current engine (chdb). */
export const retentionQueries = {
  martPartitions: (database: string): ChFragment =>
    chSql`SELECT DISTINCT partition FROM system.parts WHERE database = ${database} AND table = 'report_hourly' AND active`,
  dropMartPartition: (partition: string): ChFragment => chSql`ALTER TABLE report_hourly DROP PARTITION ${chInt(Number(partition))}`,
};

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
const PARTITION_TABLE = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkRetentionSettings(settings: RetentionSettings): void {
  if (!SCHEMA.test(settings.telemetrySchema)) throw new Error(`telemetry schema must be a plain identifier, got "${settings.telemetrySchema}"`);
}

/**
 * Drops whole months: report_hourly partitions (toYYYYMM) older than the mart horizon, raw_telemetry
 * partitions older than the raw horizon, plus raw rows older than it that sit in the DEFAULT
 * partition, and the ETL's deferred hours past the raw horizon. Runs on the run's locked
 * connection; re-running finds nothing more to drop. A dry run only fills in the plan.
 */
export async function runRetentionPipeline(run: RunContext, deps: RetentionPipelineDeps, settings: RetentionSettings, outcome: RetentionOutcome): Promise<void> {
  const db = run.connection;
  const { progress, report } = run;
  const nowMs = run.startedAt.getTime();
  const rawCutoff = retentionCutoff(nowMs, settings.rawTelemetryDays);
  const martCutoff = retentionCutoff(nowMs, settings.martDays);
  Object.assign(progress, { droppedRaw: 0, droppedMart: 0 });
  report.windowFrom = new Date(0);
  report.windowTo = new Date(Math.floor(Math.max(rawCutoff.getTime(), martCutoff.getTime()) / 1000) * 1000);
  outcome.plan = { rawCutoff: rawCutoff.toISOString(), martCutoff: martCutoff.toISOString(), rawPartitions: [], martPartitions: [] };
  const sync = () => {
    report.rowsRead = outcome.deletedDefaultRows;
    report.rowsWritten = outcome.droppedRaw.length + outcome.droppedMart.length;
  };

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
    outcome.plan = { ...outcome.plan, rawPartitions: rawPartitionsToDrop(children, rawCutoff), martPartitions: martPartitionsToDrop(martParts, martCutoff) };
    if (settings.dryRun) return;

    for (const name of outcome.plan.rawPartitions) {
      if (!PARTITION_TABLE.test(name)) continue;
      // Dropping a partition detaches it too; only months entirely past the horizon get here.
      await db`drop table if exists ${db(`${settings.telemetrySchema}.${name}`)}`;
      outcome.droppedRaw.push(name);
      progress.droppedRaw!++;
      deps.metrics.retentionDropped.inc({ store: 'telemetry' });
    }
    const defaultPartition = children.find((c) => c.is_default);
    if (defaultPartition && PARTITION_TABLE.test(defaultPartition.name)) {
      const deleted = await db`delete from ${db(`${settings.telemetrySchema}.${defaultPartition.name}`)} where event_time < ${rawCutoff.toISOString()}::timestamptz`;
      outcome.deletedDefaultRows = deleted.count;
    }
    // The ETL's deferred hours of that age can no longer be recomputed from raw rows.
    outcome.droppedDeferredHours = await dropDeferredHoursBefore(db, settings.telemetrySchema, rawCutoff);
    if (outcome.droppedDeferredHours > 0) deps.metrics.etlDeferredHours.inc({ outcome: 'dropped' }, outcome.droppedDeferredHours);
    for (const partition of outcome.plan.martPartitions) {
      await deps.clickhouse.command({ query: retentionQueries.dropMartPartition(partition).text });
      outcome.droppedMart.push(partition);
      progress.droppedMart!++;
      deps.metrics.retentionDropped.inc({ store: 'clickhouse' });
    }
    report.note = describeRetention(outcome);
  } finally {
    sync();
  }
}

/** The run's note: what went, or nothing when nothing did. */
export function describeRetention(outcome: RetentionOutcome): string {
  const { droppedRaw, droppedMart, deletedDefaultRows, droppedDeferredHours } = outcome;
  if (droppedRaw.length + droppedMart.length + deletedDefaultRows + droppedDeferredHours === 0) return '';
  return (
    `dropped raw [${droppedRaw.join(', ')}], mart [${droppedMart.join(', ')}], ${deletedDefaultRows} default-partition rows` +
    (droppedDeferredHours > 0
      ? `, ${droppedDeferredHours} deferred ETL hour${droppedDeferredHours === 1 ? '' : 's'} past the raw horizon (chip still unknown to the CRM replica, no longer loadable)`
      : '')
  );
}
