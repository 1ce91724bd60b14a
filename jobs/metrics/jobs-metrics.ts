import type { MiddlewareHandler } from 'hono';
import { noopMetrics } from '../../common/metrics/noop.ts';
import { createMetrics, type Counter, type Gauge, type Histogram, type Metrics } from '../../common/metrics/registry.ts';

/** Every figure jobs exports, in one place so names stay consistent. */
export interface JobsMetrics {
  registry: Metrics;
  httpRequests: Counter;
  /** Finished runs by job (etl, backfill, retention) and status (succeeded, failed). */
  runs: Counter;
  runDuration: Histogram;
  /** Runs that found another process holding the job's lock. */
  runsSkipped: Counter;
  etlRowsRead: Counter;
  etlRowsWritten: Counter;
  etlUnmatchedRows: Counter;
  /** (chip, hour) pairs of chips unknown to the CRM replica, by outcome: deferred, loaded (later), dropped (past the raw horizon). */
  etlDeferredHours: Counter;
  /** Seconds since the epoch of the newest ETL watermark this process wrote. */
  etlWatermark: Gauge;
  retentionDropped: Counter;
  cdcChangesApplied: Counter;
  cdcTombstones: Counter;
  cdcDeadLettered: Counter;
  cdcBatchFailures: Counter;
  /** Commit in the CRM → row stored in ClickHouse. */
  cdcApplyLag: Histogram;
  cdcPartitionLag: Gauge;
  cdcLastAppliedTimestamp: Gauge;
  invalidations: Counter;
  invalidationPending: Gauge;
}

const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
const RUN_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];

export function createJobsMetrics(registry: Metrics = createMetrics()): JobsMetrics {
  return {
    registry,
    httpRequests: registry.counter('jobs_http_requests_total', 'HTTP requests by method, route and status'),
    runs: registry.counter('jobs_runs_total', 'Finished job runs by job and status'),
    runDuration: registry.histogram('jobs_run_duration_seconds', 'Job run duration by job', RUN_BUCKETS),
    runsSkipped: registry.counter('jobs_runs_skipped_total', 'Runs not started because another process held the lock, by job'),
    etlRowsRead: registry.counter('jobs_etl_raw_rows_total', 'Raw telemetry rows aggregated into the mart'),
    etlRowsWritten: registry.counter('jobs_etl_mart_rows_total', 'Mart rows written'),
    etlUnmatchedRows: registry.counter('jobs_etl_unmatched_raw_rows_total', 'Raw rows of chips the CRM replica does not know (deferred, not loaded yet)'),
    etlDeferredHours: registry.counter('jobs_etl_deferred_hours_total', 'Hours of chips unknown to the CRM replica: deferred by a run, loaded by a later run, or dropped by retention'),
    etlWatermark: registry.gauge('jobs_etl_watermark_seconds', 'Received-at watermark of the ETL source (unix seconds)'),
    retentionDropped: registry.counter('jobs_retention_partitions_dropped_total', 'Partitions dropped by retention, by store'),
    cdcChangesApplied: registry.counter('jobs_cdc_changes_applied_total', 'CRM change events stored in ClickHouse, by table and op'),
    cdcTombstones: registry.counter('jobs_cdc_tombstones_total', 'Tombstones acknowledged without a write'),
    cdcDeadLettered: registry.counter('jobs_cdc_dead_lettered_total', 'Change events sent to the dead-letter topic, by reason'),
    cdcBatchFailures: registry.counter('jobs_cdc_batch_failures_total', 'Batches that failed and will be redelivered'),
    cdcApplyLag: registry.histogram('jobs_cdc_apply_lag_seconds', 'CRM commit to ClickHouse insert, by table', LAG_BUCKETS),
    cdcPartitionLag: registry.gauge('jobs_cdc_partition_lag_messages', 'Messages behind the partition end after the last batch'),
    cdcLastAppliedTimestamp: registry.gauge('jobs_cdc_last_applied_timestamp_seconds', 'When the last change was stored, by table'),
    invalidations: registry.counter('jobs_invalidation_requests_total', 'Invalidate requests to core by outcome'),
    invalidationPending: registry.gauge('jobs_invalidation_pending_users', 'Users waiting for a successful invalidation'),
  };
}

/** Jobs' figures with metrics off: every instrument discards, /metrics would render nothing. */
export const noJobsMetrics: JobsMetrics = createJobsMetrics(noopMetrics);

/** Counts every request by its route pattern (bounded labels, never the raw path). */
export function countRequests(metrics: JobsMetrics): MiddlewareHandler {
  return async (c, next) => {
    try {
      await next();
    } finally {
      const route = c.req.routePath && c.req.routePath !== '*' && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
      metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    }
  };
}
