import { afterAll, beforeAll } from 'bun:test';
import { createMemoryLogger } from '../../../common/log.ts';
import type { EtlSettings } from '../../../jobs/etl/run-etl.ts';
import { createJobsMetrics } from '../../../jobs/metrics/jobs-metrics.ts';
import type { EtlDeps, EtlResult, runEtl } from '../../../jobs/runs/etl-job.ts';
import { createClickHouseRunHistory } from '../../../jobs/runs/run-history.ts';
import { loadStackEnv } from '../../../stack/lib/env.ts';
import { createRecordingInvalidator } from './recording-invalidator.ts';
import { HOUR_MS } from './telemetry-data.ts';
import { createScratchClickHouse, createScratchTelemetry, type ScratchClickHouse, type ScratchTelemetry } from './scratch-stores.ts';

export type EtlTestDeps = EtlDeps & { invalidator: ReturnType<typeof createRecordingInvalidator>; logger: ReturnType<typeof createMemoryLogger> };

/**
 * For one ETL test file: a scratch telemetry schema and a scratch ClickHouse database built from
 * the real migrations (created before the file's tests, dropped after), so the shared watermark,
 * raw table and mart are never touched; and the deps a run needs against them.
 */
export function useEtlScratch(prefix: string) {
  let telemetry: ScratchTelemetry | undefined;
  let clickhouse: ScratchClickHouse | undefined;

  beforeAll(async () => {
    const env = loadStackEnv();
    [telemetry, clickhouse] = await Promise.all([createScratchTelemetry(env, prefix), createScratchClickHouse(env, prefix)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([telemetry?.drop(), clickhouse?.drop()]);
  }, 60_000);

  const ready = <T>(store: T | undefined): T => {
    if (!store) throw new Error('useEtlScratch: the scratch stores exist only inside the tests');
    return store;
  };

  return {
    get telemetry(): ScratchTelemetry {
      return ready(telemetry);
    },
    get clickhouse(): ScratchClickHouse {
      return ready(clickhouse);
    },
    deps(invalidator = createRecordingInvalidator()): EtlTestDeps {
      return {
        telemetryDb: ready(telemetry).sql,
        clickhouse: ready(clickhouse).client,
        invalidator,
        runHistory: createClickHouseRunHistory(ready(clickhouse).client),
        logger: createMemoryLogger('jobs-test'),
        now: Date.now,
        newId: () => crypto.randomUUID(),
        metrics: createJobsMetrics(),
      };
    },
  };
}

/** Tiny batches and cursor pages, so a few dozen events already cross every batch boundary; no settle delay. */
export const SMALL_BATCHES: EtlSettings = { batchRows: 7, cursorRows: 5, settleSeconds: 0 };

/** The start of the UTC hour `msAgo` before now. */
export function hourStart(msAgo: number): number {
  return Math.floor((Date.now() - msAgo) / HOUR_MS) * HOUR_MS;
}

/** The run's result, or a failed test naming why it was skipped or failed. */
export function succeeded(result: Awaited<ReturnType<typeof runEtl>>): EtlResult {
  if (result.status === 'skipped') throw new Error(`run skipped: ${result.reason}`);
  if (result.status !== 'succeeded') throw new Error(`run failed: ${result.run.error}`);
  return result;
}
