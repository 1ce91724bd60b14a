import { randomUUID } from 'node:crypto';
import { logLevel } from 'kafkajs';
import { createMemoryLogger } from '../../../common/log.ts';
import { startCdcConsumer, type CdcConsumer, type CdcConsumerOptions } from '../../../jobs/cdc/consumer.ts';
import { cdcTopics } from '../../../jobs/cdc/tables.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { createKafkaClient } from '../../../jobs/cdc/kafka-client.ts';
import { kafkaClientSettings } from '../../../stack/services/kafka.ts';
import type { ScratchClickHouse } from './scratch-stores.ts';

/**
 * Runs the real CDC consumer against the stack's Kafka (fed by Debezium from the CRM), in a group of
 * its own that starts at the topics' current ends (so history and other tests' events are not
 * replayed), writing into a scratch ClickHouse database. The consumer signs in as jobs' own Kafka
 * principal, so its ACLs are what the tests exercise; `kafka` (setting offsets, forging poison,
 * reading the DLQ, cleaning up) is the stack's admin.
 */
export function createCdcHarness(env: StackEnv, clickhouse: ScratchClickHouse) {
  const kafka = createKafkaClient(kafkaClientSettings(env, 'admin'), { clientId: 'jobs-cdc-test', logLevel: logLevel.NOTHING });
  // jobs' ACLs cover the groups named after its CDC_CONSUMER_GROUP (prefix reports-cdc).
  const groupId = `reports-cdc-test-${randomUUID()}`;
  const topics = cdcTopics('crm');
  const consumers: CdcConsumer[] = [];
  const affectedUsers = new Set<string>();

  return {
    kafka,
    groupId,
    affectedUsers,
    /** Commits the group's offsets at the current ends of the four topics (creating them if needed). */
    async startAtEnd(): Promise<void> {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length) await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
        for (const topic of topics) {
          const ends = await admin.fetchTopicOffsets(topic);
          await admin.setOffsets({ groupId, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
        }
      } finally {
        await admin.disconnect();
      }
    },
    async start(overrides: Partial<CdcConsumerOptions> = {}): Promise<CdcConsumer> {
      const consumer = await startCdcConsumer({
        kafka: kafkaClientSettings(env, 'jobs'),
        groupId,
        topicPrefix: 'crm',
        dlqTopic: 'crm.dlq',
        clickhouse: clickhouse.client,
        logger: createMemoryLogger('jobs-cdc-test'),
        now: Date.now,
        onUsersAffected: async (users) => users.forEach((u) => affectedUsers.add(u)),
        clientId: 'jobs-cdc-test',
        ...overrides,
      });
      consumers.push(consumer);
      return consumer;
    },
    /** The group's committed offset (next to read) for a topic's partition 0. */
    async committed(topic: string): Promise<number> {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return Number(entry?.partitions.find((p) => p.partition === 0)?.offset ?? -1);
      } finally {
        await admin.disconnect();
      }
    },
    async close(): Promise<void> {
      await Promise.allSettled(consumers.map((c) => c.stop()));
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect();
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails naming what it waited for. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
