import type postgres from 'postgres';
import type { Logger } from '../common/log.ts';

/**
 * What a job's pipeline gets from the run wrapper (jobs/runs/run-job.ts) and fills in. Kept apart
 * from runs/ so pipelines (etl/, retention/) depend on this contract only, not on the wrapper.
 */
export interface RunReport {
  windowFrom: Date;
  windowTo: Date;
  rowsRead: number;
  rowsWritten: number;
  affectedUsers: number;
  /** Something an operator should know about a successful run (deferred hours, what was dropped). */
  note: string;
}

export interface RunContext {
  runId: string;
  startedAt: Date;
  /** The connection holding the job's advisory lock; session state (temp tables) lives there. */
  connection: postgres.ReservedSql;
  log: Logger;
  /** Counters shown in GET /runs while the run is in progress. */
  progress: Record<string, number>;
  /** Recorded in the run history whether the run succeeds or fails (a failure shows how far it got). */
  report: RunReport;
}
