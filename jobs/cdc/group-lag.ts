import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '../../common/log.ts';

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

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The consumer group's lag as the broker sees it: end offset minus committed offset per partition.
 * Independent of the consumer process, so it shows lag even while the consumer is down.
 */
export function createGroupLagReader(options: { brokers: readonly string[]; groupId: string; topics: readonly string[]; timeoutMs: number; logger: Logger }): GroupLagReader {
  const kafka = new Kafka({
    clientId: 'reports-jobs-health',
    brokers: [...options.brokers],
    connectionTimeout: options.timeoutMs,
    requestTimeout: options.timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  return async () => {
    const admin = kafka.admin();
    try {
      await within(admin.connect(), options.timeoutMs, 'kafka connect');
      return await within(
        (async () => {
          // Offsets of a topic that does not exist yet derail kafkajs's metadata: list first.
          const existing = new Set(await admin.listTopics());
          const present = options.topics.filter((topic) => existing.has(topic));
          const committed = present.length > 0 ? await admin.fetchOffsets({ groupId: options.groupId, topics: [...present] }) : [];
          const byTopic = new Map(committed.map((entry) => [entry.topic, new Map(entry.partitions.map((p) => [p.partition, Number(p.offset)]))]));
          return Promise.all(
            options.topics.map(async (topic): Promise<TopicLag> => {
              if (!existing.has(topic)) return { topic, lag: null, partitions: [], error: 'topic does not exist yet' };
              const ends = await admin.fetchTopicOffsets(topic);
              const partitions = ends
                .map((end) => {
                  const offset = byTopic.get(topic)?.get(end.partition);
                  const hasCommit = offset !== undefined && offset >= 0;
                  const lag = Math.max(0, Number(end.high) - (hasCommit ? offset : Number(end.low)));
                  return { partition: end.partition, committed: hasCommit ? offset : null, end: Number(end.high), lag };
                })
                .sort((a, b) => a.partition - b.partition);
              return { topic, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
            }),
          );
        })(),
        options.timeoutMs * 3,
        'kafka offsets',
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}
