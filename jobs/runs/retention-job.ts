import { checkRetentionSettings, emptyRetentionOutcome, runRetentionPipeline, type RetentionOutcome, type RetentionPipelineDeps, type RetentionPlan, type RetentionSettings } from '../retention/run-retention.ts';
import { runJob, type RunJobDeps } from './run-job.ts';
import type { RunRecord } from './run-history.ts';

export type RetentionDeps = RunJobDeps & RetentionPipelineDeps;

export type RetentionResult =
  | { status: 'skipped'; reason: string }
  /** A dry run: what would go; nothing dropped, no run recorded. */
  | { status: 'planned'; plan: RetentionPlan }
  | (RetentionOutcome & { status: 'succeeded' | 'failed'; run: RunRecord; error?: string });

/** Runs retention to the end under its lock (scheduler, CLI, HTTP trigger, tests). */
export async function runRetention(deps: RetentionDeps, settings: RetentionSettings): Promise<RetentionResult> {
  checkRetentionSettings(settings);
  const outcome = emptyRetentionOutcome();
  const done = await runJob(deps, {
    job: 'retention',
    lock: `retention:${settings.telemetrySchema}`,
    recorded: !settings.dryRun,
    pipeline: (run) => runRetentionPipeline(run, deps, settings, outcome),
  });
  if (done.status === 'skipped') return { status: 'skipped', reason: 'another process is running retention' };
  if (settings.dryRun && done.status === 'succeeded') return { status: 'planned', plan: outcome.plan };
  return { ...outcome, status: done.status, run: done.run, ...(done.status === 'failed' ? { error: done.run.error } : {}) };
}
