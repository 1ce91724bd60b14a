import type { JobsDeps } from '../deps.ts';
import type { EtlDeps } from '../etl/run-etl.ts';
import type { RetentionDeps } from '../retention/run-retention.ts';

/** The slices of the service's dependencies each job needs (scheduler, HTTP triggers, CLI). */
export function etlDepsOf(deps: JobsDeps): EtlDeps {
  return {
    telemetryDb: deps.telemetryDb,
    clickhouse: deps.clickhouse,
    invalidator: deps.invalidator,
    runHistory: deps.runHistory,
    logger: deps.logger,
    now: deps.now,
    metrics: deps.metrics,
    activeRuns: deps.activeRuns,
  };
}

export function retentionDepsOf(deps: JobsDeps): RetentionDeps {
  return {
    telemetryDb: deps.telemetryDb,
    clickhouse: deps.clickhouse,
    runHistory: deps.runHistory,
    logger: deps.logger,
    now: deps.now,
    metrics: deps.metrics,
    activeRuns: deps.activeRuns,
  };
}
