import { logLevel } from 'kafkajs';
import type { Logger } from '../../common/log.ts';
import { withTimeout } from '../../common/with-timeout.ts';
import { createKafkaClient, type KafkaClientSettings } from './kafka-client.ts';

export interface PartitionLag {
  partition: number;
  /** Next offset the group will read; null before its first commit. */
  committed: number | null;
  end: number;
  lag: number;
}

export interface TopicLag {
  topic: string;
  lag: number | null;
  partitions: PartitionLag[];
  error?: string;
}

export type GroupLagReader = () => Promise<TopicLag[]>;

export interface GroupLagOptions {
  /** How this reader introduces itself to the brokers. */
  clientId: string;
  /** Brokers and the SASL principal (needs DESCRIBE on the group and the topics). */
  kafka: KafkaClientSettings;
  groupId: string;
  topics: readonly string[];
  /** Connection and per-request timeout. */
  timeoutMs: number;
  /** Bound on listing topics and reading offsets once connected; 2 × timeoutMs unless set. */
  offsetsTimeoutMs?: number;
  /** Where kafkajs's warnings and errors go; without it the client logs nothing. */
  clientLogger?: Logger;
}

/**
 * The consumer group's lag as the broker sees it: end offset minus committed offset per partition.
 * Independent of the consumer process, so it shows lag even while the consumer is down. Read by
 * jobs' /health/cdc (core holds no Kafka client). A topic whose offsets cannot be read carries its own error.
 */
export function createGroupLagReader(options: GroupLagOptions): GroupLagReader {
  const clientLogger = options.clientLogger;
  const kafka = createKafkaClient(options.kafka, {
    clientId: options.clientId,
    connectionTimeout: options.timeoutMs,
    requestTimeout: options.timeoutMs,
    retry: { retries: 0 },
    // At warn and above only: kafkajs's info lines are per connection.
    logLevel: clientLogger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => clientLogger?.warn('kafka.client', { namespace: entry.namespace, message: entry.log.message }),
  });
  const offsetsTimeoutMs = options.offsetsTimeoutMs ?? options.timeoutMs * 2;
  return async () => {
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect(), options.timeoutMs, 'kafka connect');
      return await withTimeout(
        (async () => {
          // Offsets of a topic that does not exist yet derail kafkajs's metadata: list first.
          const existing = new Set(await admin.listTopics());
          const present = options.topics.filter((topic) => existing.has(topic));
          const committed = present.length > 0 ? await admin.fetchOffsets({ groupId: options.groupId, topics: [...present] }) : [];
          const byTopic = new Map(committed.map((entry) => [entry.topic, new Map(entry.partitions.map((p) => [p.partition, Number(p.offset)]))]));
          return Promise.all(
            options.topics.map(async (topic): Promise<TopicLag> => {
              if (!existing.has(topic)) return { topic, lag: null, partitions: [], error: 'topic does not exist yet' };
              try {
                const ends = await admin.fetchTopicOffsets(topic);
                const partitions = ends
                  .map((end) => {
                    const offset = byTopic.get(topic)?.get(end.partition);
                    const hasCommit = offset !== undefined && offset >= 0;
                    // Without a commit the group has consumed nothing: everything retained is lag.
                    const lag = Math.max(0, Number(end.high) - (hasCommit ? offset : Number(end.low)));
                    return { partition: end.partition, committed: hasCommit ? offset : null, end: Number(end.high), lag };
                  })
                  .sort((a, b) => a.partition - b.partition);
                return { topic, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
              } catch (error) {
                return { topic, lag: null, partitions: [], error: error instanceof Error ? error.message : String(error) };
              }
            }),
          );
        })(),
        offsetsTimeoutMs,
        'kafka offsets',
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}
