import { Cron } from 'croner';
import type { Logger } from '../../common/log.ts';
import { errorMessage } from '../retry.ts';

export interface ScheduledJob {
  name: string;
  /** Croner pattern, evaluated in UTC. */
  pattern: string;
  run: () => Promise<unknown>;
}

export interface Scheduler {
  /** Next planned start per job (ISO), for /runs. */
  nextRuns(): Record<string, string | null>;
  stop(): void;
}

/**
 * Croner schedules in this process. `protect` skips a tick while the previous run of the same job
 * is still going here; across processes the job's advisory lock decides who acts.
 */
export function startScheduler(jobs: readonly ScheduledJob[], logger: Logger): Scheduler {
  const crons = jobs.map(
    (job) =>
      new Cron(job.pattern, { name: job.name, timezone: 'UTC', protect: true }, async () => {
        try {
          await job.run();
        } catch (error) {
          logger.error('schedule.run_failed', { job: job.name, error: errorMessage(error) });
        }
      }),
  );
  logger.info('schedule.started', { jobs: jobs.map((job, i) => ({ job: job.name, pattern: job.pattern, next: crons[i]!.nextRun()?.toISOString() ?? null })) });
  return {
    nextRuns: () => Object.fromEntries(jobs.map((job, i) => [job.name, crons[i]!.nextRun()?.toISOString() ?? null])),
    stop: () => crons.forEach((cron) => cron.stop()),
  };
}
