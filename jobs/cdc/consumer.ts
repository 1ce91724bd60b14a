import type { ClickHouseClient } from '@clickhouse/client';
import { logLevel, Partitioners, type Consumer, type EachBatchPayload, type Kafka, type LogEntry, type Producer } from 'kafkajs';
import type { Logger } from '../../common/log.ts';
import { noJobsMetrics, type JobsMetrics } from '../metrics/jobs-metrics.ts';
import { errorMessage } from '../retry.ts';
import { applyCdcBatch } from './apply-batch.ts';
import { CdcStatus } from './cdc-status.ts';
import { createDeadLetter } from './dead-letter.ts';
import { decodeChange, type Change, type Poison } from './decode-change.ts';
import { assignmentChanges, cdcTopics, tablesByTopic } from './tables.ts';
import type { AssignmentChange } from '../etl/reassigned-hours.ts';
import { createKafkaClient, type KafkaClientSettings } from './kafka-client.ts';

export interface CdcConsumerOptions {
  /** Brokers and the SASL principal (jobs' own in production). */
  kafka: KafkaClientSettings;
  groupId: string;
  /** Debezium topic prefix: the consumer reads `<prefix>.crm.<table>` for the four CRM tables. */
  topicPrefix: string;
  dlqTopic: string;
  /** Client on the database holding the crm_* tables. */
  clickhouse: ClickHouseClient;
  logger: Logger;
  now: () => number;
  /** Absent: metrics off (noJobsMetrics discards every figure). */
  metrics?: JobsMetrics;
  /**
   * Users whose reports a stored change may have altered: recorded durably (the invalidation queue)
   * after the ClickHouse insert and before the commit. A rejection fails the batch like a ClickHouse
   * failure, so the batch is redelivered rather than its users forgotten.
   */
  onUsersAffected?: (users: ReadonlySet<string>) => Promise<void>;
  /**
   * Prostheses whose assignment history changed (a reassignment, not a snapshot read): called with
   * the same guarantee as onUsersAffected, so the ETL learns which loaded hours to move
   * (jobs/etl/reassigned-hours.ts).
   */
  onAssignmentsChanged?: (changes: readonly AssignmentChange[]) => Promise<void>;
  /** Runs after the insert and the recording of affected users, before the commit; tests throw here to die mid-batch. */
  afterApply?: (batch: { topic: string; partition: number; changes: readonly Change[]; superseded: readonly Change[] }) => void | Promise<void>;
  /** Batch retries before the consumer restarts (kafkajs `retry`). */
  retry?: { retries: number; initialRetryTime: number; maxRetryTime: number };
  /** Decides whether a crashed consumer restarts; by default it always does. */
  restartOnFailure?: (error: Error) => boolean;
  clientId?: string;
}

export interface CdcConsumer {
  status: CdcStatus;
  /** Resolves when the consumer crashed for good (restart declined); never rejects. */
  crashed: Promise<Error>;
  /** Leaves the group after the batch in flight; nothing uncommitted is lost (it is redelivered). */
  stop(): Promise<void>;
}

function kafkaLogger(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...rest } = log;
      const fields = { namespace: rest.namespace, error: rest.error, groupId: rest.groupId, topic: rest.topic, partition: rest.partition };
      if (level <= logLevel.ERROR) logger.error('kafka.client', { message, ...fields });
      else if (level === logLevel.WARN) logger.warn('kafka.client', { message, ...fields });
      else logger.debug('kafka.client', { message, ...fields });
    };
}

/** Creates missing topics (the CRM topics appear with their first event; the DLQ with its first poison). */
async function ensureTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * The CRM CDC consumer (group `reports-cdc`): applies Debezium events to ClickHouse's crm_* tables.
 * Per batch: decode → insert (newest per row) → dead-letter poison → record the affected users →
 * commit the batch's offsets. Offsets are committed only after the insert landed and the users are
 * recorded, so a consumer that dies mid-batch loses nothing: the batch is redelivered and
 * re-inserted with the same versions (invisible under FINAL), and its users recorded again.
 */
export async function startCdcConsumer(options: CdcConsumerOptions): Promise<CdcConsumer> {
  const status = new CdcStatus();
  status.state = 'starting';
  const topics = cdcTopics(options.topicPrefix);
  const tables = tablesByTopic(options.topicPrefix);
  const kafka = createKafkaClient(options.kafka, {
    clientId: options.clientId ?? 'reports-jobs-cdc',
    logLevel: logLevel.WARN,
    logCreator: kafkaLogger(options.logger),
  });
  await ensureTopics(kafka, [...topics, options.dlqTopic]);

  const producer: Producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const metrics = options.metrics ?? noJobsMetrics;
  const deadLetter = createDeadLetter(producer, options.dlqTopic, options.now);
  const retry = options.retry ?? { retries: 8, initialRetryTime: 500, maxRetryTime: 30_000 };
  const restartOnFailure = options.restartOnFailure ?? (() => true);
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    // Short fetch waits keep shutdown quick; a fetch returns as soon as any data is there anyway.
    maxWaitTimeInMs: 500,
    retry: {
      ...retry,
      restartOnFailure: async (error) => {
        const restart = restartOnFailure(error);
        options.logger.error('cdc.consumer_crashed', { error: errorMessage(error), restart });
        return restart;
      },
    },
  });

  let resolveCrashed: (error: Error) => void = () => {};
  const crashed = new Promise<Error>((resolve) => (resolveCrashed = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    status.state = 'running';
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    status.lastError = errorMessage(payload.error);
    status.state = payload.restart ? 'restarting' : 'crashed';
    if (!payload.restart) resolveCrashed(payload.error);
  });

  const log = options.logger.child({ component: 'cdc', groupId: options.groupId });

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const changes: Change[] = [];
    const poison: Poison[] = [];
    let tombstones = 0;
    for (const message of batch.messages) {
      const decoded = decodeChange({ topic, partition, offset: message.offset, key: message.key, value: message.value, timestamp: message.timestamp }, tables);
      if (decoded.kind === 'change') changes.push(decoded);
      else if (decoded.kind === 'poison') poison.push(decoded);
      else tombstones++;
    }

    let result;
    try {
      result = await applyCdcBatch(options.clickhouse, changes, options.now());
      const dead = [...poison, ...result.rejected];
      await deadLetter.send(dead);
      for (const p of dead) {
        metrics.cdcDeadLettered.inc({ reason: p.reason });
        log.warn('cdc.dead_lettered', { topic, partition, offset: p.message.offset, reason: p.reason, detail: p.detail });
      }
      status.deadLettered += dead.length;
      if (result.affectedUsers.size > 0) await options.onUsersAffected?.(result.affectedUsers);
      const reassigned = assignmentChanges(result.applied);
      if (reassigned.length > 0) await options.onAssignmentsChanged?.(reassigned);
      await options.afterApply?.({ topic, partition, changes: result.applied, superseded: result.superseded });
    } catch (error) {
      metrics.cdcBatchFailures.inc({ topic });
      status.lastError = errorMessage(error);
      log.warn('cdc.batch_failed', { topic, partition, firstOffset: batch.firstOffset(), messages: batch.messages.length, error: errorMessage(error) });
      throw error;
    }

    const last = batch.messages[batch.messages.length - 1]!.offset;
    const next = (BigInt(last) + 1n).toString();
    resolveOffset(last);
    await consumer.commitOffsets([{ topic, partition, offset: next }]);

    const nowMs = options.now();
    status.tombstones += tombstones;
    status.recordApplied(result.applied, nowMs);
    const lag = status.recordBatch(topic, partition, next, batch.highWatermark, nowMs);
    metrics.cdcPartitionLag.set({ topic, partition: String(partition) }, lag);
    if (tombstones > 0) metrics.cdcTombstones.inc({ topic }, tombstones);
    for (const change of result.applied) {
      metrics.cdcChangesApplied.inc({ table: change.table.name, op: change.op });
      metrics.cdcApplyLag.observe({ table: change.table.name }, Math.max(0, nowMs - change.sourceTsMs) / 1000);
    }
    if (result.applied.length > 0) metrics.cdcLastAppliedTimestamp.set({ topic }, Math.floor(nowMs / 1000));
    log.debug('cdc.batch_applied', { topic, partition, messages: batch.messages.length, applied: result.applied.length, committed: next, lag });
    await heartbeat();
  }

  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: handleBatch });

  let stopped = false;
  return {
    status,
    crashed,
    async stop() {
      if (stopped) return;
      stopped = true;
      await consumer.disconnect().catch((error: unknown) => log.warn('cdc.disconnect_failed', { error: errorMessage(error) }));
      await producer.disconnect().catch(() => {});
      status.state = 'stopped';
    },
  };
}
