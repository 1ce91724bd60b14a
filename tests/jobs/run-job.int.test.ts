import { afterAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { createMemoryLogger } from '../../common/log.ts';
import { createJobsMetrics } from '../../jobs/metrics/jobs-metrics.ts';
import { createActiveRuns } from '../../jobs/runs/active-runs.ts';
import type { RunHistory, RunRecord } from '../../jobs/runs/run-history.ts';
import { runJob, startJob, type RunJobDeps } from '../../jobs/runs/run-job.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// The run wrapper against the real telemetry PostgreSQL (its advisory lock), with the clock, the
// ids and the history injected: what a pipeline reports is recorded whether it succeeds or fails,
// `error` only for failures and `note` apart from it.
const sql = postgres(loadStackEnv().TELEMETRY_DATABASE_URL!, { max: 3, onnotice: () => undefined });
afterAll(() => sql.end());

function testDeps() {
  const recorded: RunRecord[] = [];
  const history: RunHistory = { record: async (run) => void recorded.push(run), list: async () => recorded };
  let tick = Date.UTC(2026, 11, 1, 3, 0, 0);
  let ids = 0;
  const metrics = createJobsMetrics();
  const activeRuns = createActiveRuns();
  const deps: RunJobDeps = {
    telemetryDb: sql,
    runHistory: history,
    logger: createMemoryLogger('run-job-test'),
    // Each reading advances the clock by 1.5 s, so start and finish differ predictably.
    now: () => (tick += 1_500),
    newId: () => `run-${++ids}`,
    metrics,
    activeRuns,
  };
  return { deps, recorded, metrics, activeRuns };
}

const lockName = () => `test:run-job:${crypto.randomUUID()}`;

describe('run wrapper (jobs/runs/run-job.ts)', () => {
  test('a succeeding pipeline: injected id and clock, its report and note recorded, error empty, listed while it runs', async () => {
    const { deps, recorded, metrics, activeRuns } = testDeps();
    let seenActive: unknown[] = [];
    const outcome = await runJob(deps, {
      job: 'etl',
      lock: lockName(),
      pipeline: async (run) => {
        // The pipeline runs on the connection that holds the lock.
        const [row] = await run.connection<{ n: number }[]>`select 1 as n`;
        run.progress.rowsRead = 7;
        seenActive = activeRuns.list().map((r) => ({ runId: r.runId, job: r.job, progress: r.progress }));
        Object.assign(run.report, { windowFrom: new Date(1_000), windowTo: new Date(2_000), rowsRead: 7, rowsWritten: 2, affectedUsers: 1, note: 'deferred 1 hour' });
        return row!.n;
      },
    });
    expect(outcome.status).toBe('succeeded');
    if (outcome.status !== 'succeeded') return;
    expect(outcome.value).toBe(1);
    expect(seenActive).toEqual([{ runId: 'run-1', job: 'etl', progress: { rowsRead: 7 } }]);
    expect(activeRuns.list()).toEqual([]);
    const expected: RunRecord = {
      runId: 'run-1',
      job: 'etl',
      startedAt: new Date(Date.UTC(2026, 11, 1, 3, 0, 1, 500)),
      finishedAt: new Date(Date.UTC(2026, 11, 1, 3, 0, 3)),
      status: 'succeeded',
      windowFrom: new Date(1_000),
      windowTo: new Date(2_000),
      rowsRead: 7,
      rowsWritten: 2,
      affectedUsers: 1,
      error: '',
      note: 'deferred 1 hour',
    };
    expect(outcome.run).toEqual(expected);
    expect(recorded).toEqual([expected]);
    expect(metrics.registry.render()).toContain('jobs_runs_total{job="etl",status="succeeded"} 1');
  });

  test('a failing pipeline: failed with its message in error, the note and progress it reached kept apart; the lock is free again', async () => {
    const { deps, recorded } = testDeps();
    const lock = lockName();
    const failed = await runJob(deps, {
      job: 'retention',
      lock,
      pipeline: async (run) => {
        run.report.rowsWritten = 3;
        run.report.note = 'dropped raw [raw_telemetry_2025_01]';
        throw new Error('ClickHouse went away');
      },
    });
    expect(failed.status).toBe('failed');
    expect(recorded[0]).toMatchObject({ runId: 'run-1', job: 'retention', status: 'failed', rowsWritten: 3, error: 'ClickHouse went away', note: 'dropped raw [raw_telemetry_2025_01]' });
    const again = await runJob(deps, { job: 'retention', lock, pipeline: async () => 'ok' });
    expect(again.status).toBe('succeeded');
  });

  test('the lock held by another session: skipped, nothing recorded, counted; a dry run is neither listed nor recorded', async () => {
    const { deps, recorded, metrics, activeRuns } = testDeps();
    const lock = lockName();
    const started = await startJob(deps, { job: 'backfill', lock, pipeline: () => new Promise((resolve) => setTimeout(resolve, 300)) });
    expect(started.status).toBe('started');
    const skipped = await runJob(deps, { job: 'backfill', lock, pipeline: async () => 'never' });
    expect(skipped).toEqual({ status: 'skipped', reason: `another process is running backfill (${lock})` });
    expect(metrics.registry.render()).toContain('jobs_runs_skipped_total{job="backfill"} 1');
    if (started.status === 'started') await started.done;
    expect(recorded.map((r) => r.runId)).toEqual(['run-1']);

    let listed = -1;
    const dry = await runJob(deps, { job: 'retention', lock, recorded: false, pipeline: async () => void (listed = activeRuns.list().length) });
    expect(dry.status).toBe('succeeded');
    expect(listed).toBe(0);
    expect(recorded.length).toBe(1);
  });
});
