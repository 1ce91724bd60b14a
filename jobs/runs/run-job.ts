import type postgres from 'postgres';
import type { Logger } from '../../common/log.ts';
import type { JobsMetrics } from '../metrics/jobs-metrics.ts';
import type { RunContext, RunReport } from '../run-context.ts';
import { errorMessage } from '../retry.ts';
import { tryJobLock } from '../schedule/job-lock.ts';
import type { ActiveRuns } from './active-runs.ts';
import type { JobName, RunHistory, RunRecord } from './run-history.ts';

export type { RunContext, RunReport };

/** What every job run needs around its pipeline. */
export interface RunJobDeps {
  telemetryDb: postgres.Sql;
  runHistory: RunHistory;
  logger: Logger;
  now: () => number;
  /** Run ids (randomUUID in production; tests may pass a sequence). */
  newId: () => string;
  metrics: JobsMetrics;
  activeRuns?: ActiveRuns;
}

export interface JobSpec<T> {
  job: JobName;
  /** Advisory lock name: one process per lock runs at a time. */
  lock: string;
  /** Dry runs: neither listed as active nor recorded in the history, no run metrics. */
  recorded?: boolean;
  /** Window and figures the report starts from (a failure before the pipeline sets them records these). */
  initialReport?: Partial<RunReport>;
  pipeline: (run: RunContext) => Promise<T>;
}

export type JobOutcome<T> =
  | { status: 'succeeded'; run: RunRecord; value: T }
  | { status: 'failed'; run: RunRecord; error: unknown };

export type JobStart<T> = { status: 'skipped'; reason: string } | { status: 'started'; runId: string; done: Promise<JobOutcome<T>> };

/**
 * Takes the job's lock and starts the pipeline in the background; `skipped` when another process
 * holds the lock. Around the pipeline: the run id, the active-run entry, the lock's release, the
 * run history (with `error` apart from `note`) and the run metrics. `done` never rejects: a failed
 * pipeline is a `failed` outcome.
 */
export async function startJob<T>(deps: RunJobDeps, spec: JobSpec<T>): Promise<JobStart<T>> {
  const lock = await tryJobLock(deps.telemetryDb, spec.lock);
  if (!lock) {
    deps.metrics.runsSkipped.inc({ job: spec.job });
    deps.logger.info('job.skipped', { job: spec.job, lock: spec.lock, reason: 'another process holds the lock' });
    return { status: 'skipped', reason: `another process is running ${spec.job} (${spec.lock})` };
  }
  const runId = deps.newId();
  const startedAt = new Date(deps.now());
  const recorded = spec.recorded ?? true;
  const run: RunContext = {
    runId,
    startedAt,
    connection: lock.connection,
    log: deps.logger.child({ runId, job: spec.job }),
    progress: {},
    report: { windowFrom: new Date(0), windowTo: startedAt, rowsRead: 0, rowsWritten: 0, affectedUsers: 0, note: '', ...spec.initialReport },
  };
  const endActive = recorded ? (deps.activeRuns?.begin({ runId, job: spec.job, startedAt, progress: run.progress }) ?? (() => {})) : () => {};

  const done = (async (): Promise<JobOutcome<T>> => {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await spec.pipeline(run) };
    } catch (error) {
      outcome = { ok: false, error };
      run.log.error(`${spec.job}.failed`, { error, progress: run.progress });
    } finally {
      await lock.release();
      endActive();
    }
    const finishedAt = new Date(deps.now());
    const record: RunRecord = {
      runId,
      job: spec.job,
      startedAt,
      finishedAt,
      status: outcome.ok ? 'succeeded' : 'failed',
      ...run.report,
      error: outcome.ok ? '' : errorMessage(outcome.error),
    };
    run.log.info(`${spec.job}.finished`, { status: record.status, durationMs: finishedAt.getTime() - startedAt.getTime(), ...run.progress, note: record.note });
    if (recorded) {
      try {
        await deps.runHistory.record(record);
      } catch (recordError) {
        run.log.warn('job.history_not_recorded', { error: errorMessage(recordError) });
      }
      deps.metrics.runs.inc({ job: spec.job, status: record.status });
      deps.metrics.runDuration.observe({ job: spec.job }, (finishedAt.getTime() - startedAt.getTime()) / 1000);
    }
    return outcome.ok ? { status: 'succeeded', run: record, value: outcome.value } : { status: 'failed', run: record, error: outcome.error };
  })();
  return { status: 'started', runId, done };
}

/** Runs a job to the end (scheduler, CLI, tests). */
export async function runJob<T>(deps: RunJobDeps, spec: JobSpec<T>): Promise<{ status: 'skipped'; reason: string } | JobOutcome<T>> {
  const started = await startJob(deps, spec);
  return started.status === 'skipped' ? started : started.done;
}
