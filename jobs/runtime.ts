import { startCdcConsumer, type CdcConsumer } from './cdc/consumer.ts';
import type { JobsDeps } from './deps.ts';
import { queueReassignedHours } from './etl/reassigned-hours.ts';
import { createInvalidationQueue } from './invalidation/invalidation-queue.ts';
import { errorMessage, sleep } from './retry.ts';
import { runEtl } from './runs/etl-job.ts';
import { runRetention } from './runs/retention-job.ts';
import { startScheduler } from './schedule/scheduler.ts';

export interface JobsRuntime {
  /** Stops the schedules and the consumer, sends due invalidations once (the rest stay in the table). */
  stop(): Promise<void>;
}

/**
 * The background half of the jobs service: the croner schedules (ETL, retention) and the CDC
 * consumer. The HTTP app is built apart; the entry files start both.
 */
export function startJobsRuntime(deps: JobsDeps): JobsRuntime {
  const { config, logger } = deps;
  let stopping = false;

  if (config.SCHEDULER_ENABLED) {
    deps.runtime.scheduler = startScheduler(
      [
        { name: 'etl', pattern: config.ETL_SCHEDULE, run: () => runEtl(deps, deps.etlScope, deps.etlSettings, { kind: 'incremental' }) },
        { name: 'retention', pattern: config.RETENTION_SCHEDULE, run: () => runRetention(deps, deps.retentionSettings) },
      ],
      logger,
    );
  }

  // Drained even with CDC off: rows a previous process left are still owed to core.
  const queue = createInvalidationQueue({ db: deps.telemetryDb, invalidator: deps.invalidator, logger, metrics: deps.metrics, now: deps.now, batchUsers: config.INVALIDATION_BATCH_USERS });
  queue.start();
  let consumer: CdcConsumer | undefined;
  let consumerLoop: Promise<void> = Promise.resolve();
  // Set exactly when CDC_ENABLED (the config requires the password then).
  const kafka = config.KAFKA;
  if (kafka) {
    // Kafka may be down when the service starts, or the consumer may crash for good: keep trying
    // with backoff, so the process recovers without a restart.
    consumerLoop = (async () => {
      for (let failures = 0; !stopping; ) {
        try {
          consumer = await startCdcConsumer({
            kafka,
            groupId: config.CDC_CONSUMER_GROUP,
            topicPrefix: config.CDC_TOPIC_PREFIX,
            dlqTopic: config.CDC_DLQ_TOPIC,
            clickhouse: deps.clickhouse,
            logger,
            now: deps.now,
            metrics: deps.metrics,
            onUsersAffected: (users) => queue.enqueue(users),
            onAssignmentsChanged: async (changes) => {
              const queued = await queueReassignedHours(deps.telemetryDb, deps.etlScope, deps.clickhouse, changes);
              logger.info('cdc.reassigned_hours_queued', { prostheses: changes.length, hours: queued });
            },
          });
          deps.runtime.cdc = consumer.status;
          if (stopping) {
            await consumer.stop();
            break;
          }
          failures = 0;
          const error = await consumer.crashed;
          logger.error('cdc.consumer_stopped', { error: errorMessage(error) });
          await consumer.stop();
        } catch (error) {
          failures++;
          logger.warn('cdc.consumer_start_failed', { failures, error: errorMessage(error) });
        }
        if (!stopping) await sleep(Math.min(30_000, 1_000 * 2 ** Math.min(failures, 5)));
      }
    })();
  }

  return {
    async stop() {
      stopping = true;
      deps.runtime.scheduler?.stop();
      await consumer?.stop();
      // One last pass, bounded so shutdown never hangs on core; what it does not send stays in
      // pending_invalidations for the next process.
      await Promise.race([queue.flush(), sleep(5_000)]);
      queue.stop();
      // The loop may be sleeping between attempts; it ends on its own, nothing waits for it.
      void consumerLoop;
    },
  };
}
