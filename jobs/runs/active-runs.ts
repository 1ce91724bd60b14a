import type { JobName } from './run-history.ts';

/** A run in progress in this process (finished runs are in the run history). */
export interface ActiveRun {
  runId: string;
  job: JobName;
  startedAt: Date;
  /** Free-form progress counters the run updates as it goes. */
  progress: Record<string, number>;
}

export interface ActiveRuns {
  /** Registers a run; call the returned function when it ends. */
  begin(run: ActiveRun): () => void;
  list(): ActiveRun[];
}

export function createActiveRuns(): ActiveRuns {
  const runs = new Map<string, ActiveRun>();
  return {
    begin(run) {
      runs.set(run.runId, run);
      return () => void runs.delete(run.runId);
    },
    list: () => [...runs.values()].map((run) => ({ ...run, progress: { ...run.progress } })),
  };
}
