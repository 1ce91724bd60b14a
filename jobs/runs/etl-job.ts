import { emptyEtlOutcome, runEtlPipeline, type EtlHooks, type EtlOutcome, type EtlPipelineDeps, type EtlRequest, type EtlSettings } from '../etl/run-etl.ts';
import { checkScope, type EtlScope } from '../etl/scope.ts';
import { startJob, type RunJobDeps } from './run-job.ts';
import type { RunRecord } from './run-history.ts';

export type EtlDeps = RunJobDeps & EtlPipelineDeps;

export type EtlResult = EtlOutcome & { status: 'succeeded' | 'failed'; run: RunRecord };

export type EtlStart = { status: 'skipped'; reason: string } | { status: 'started'; runId: string; done: Promise<EtlResult> };

function etlJob(deps: EtlDeps, scope: EtlScope, settings: EtlSettings, request: EtlRequest, hooks: EtlHooks, outcome: EtlOutcome) {
  checkScope(scope);
  if (request.kind === 'backfill' && !(request.from.getTime() < request.to.getTime())) {
    throw new Error(`backfill needs from < to, got ${request.from.toISOString()} .. ${request.to.toISOString()}`);
  }
  return {
    job: request.kind === 'incremental' ? ('etl' as const) : ('backfill' as const),
    // The lock is per source: two scopes never block each other.
    lock: `etl:${scope.source}`,
    initialReport: request.kind === 'backfill' ? { windowFrom: request.from, windowTo: request.to } : {},
    pipeline: (run: Parameters<typeof runEtlPipeline>[0]) => runEtlPipeline(run, deps, scope, settings, request, hooks, outcome),
  };
}

/**
 * Takes the source's lock and starts a run in the background; `skipped` when another process holds
 * the lock. The HTTP trigger answers 202 with the run id; the CLI and scheduler await `done`.
 */
export async function startEtl(deps: EtlDeps, scope: EtlScope, settings: EtlSettings, request: EtlRequest, hooks: EtlHooks = {}): Promise<EtlStart> {
  const outcome = emptyEtlOutcome();
  const started = await startJob(deps, etlJob(deps, scope, settings, request, hooks, outcome));
  if (started.status === 'skipped') return started;
  return { status: 'started', runId: started.runId, done: started.done.then((done) => ({ ...outcome, status: done.status, run: done.run })) };
}

/** Runs one ETL pass to the end (scheduler, CLI, tests). */
export async function runEtl(deps: EtlDeps, scope: EtlScope, settings: EtlSettings, request: EtlRequest, hooks: EtlHooks = {}): Promise<EtlResult | { status: 'skipped'; reason: string }> {
  const started = await startEtl(deps, scope, settings, request, hooks);
  return started.status === 'skipped' ? started : started.done;
}
