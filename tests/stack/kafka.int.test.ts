import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { logLevel, Partitioners, type Admin, type KafkaMessage } from 'kafkajs';
import { loadStackEnv } from '../../tools/kit/env.ts';
import { createKafkaClient } from '../../jobs/cdc/kafka-client.ts';
import { kafkaClientSettings } from '../../stack/services/kafka.ts';

// Runs against the stack's broker (`node stack/cli.ts up kafka`) as its admin principal (topics
// outside every client's ACLs); every test uses its own topic.
const env = loadStackEnv();
const kafka = createKafkaClient(kafkaClientSettings(env, 'admin'), {
  clientId: 'kafka-int-test',
  logLevel: logLevel.ERROR,
  retry: { retries: 3 },
});
let admin: Admin;
const topicsToDelete: string[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
}, 15_000);

afterAll(async () => {
  if (topicsToDelete.length > 0) await admin.deleteTopics({ topics: topicsToDelete }).catch(() => {});
  await admin.disconnect();
}, 15_000);

function uniqueTopic(purpose: string): string {
  const topic = `stack-test.${purpose}.${randomUUID()}`;
  topicsToDelete.push(topic);
  return topic;
}

/** Consumes a topic from its beginning with a fresh group until `count` messages arrived. */
async function consumeFromBeginning(topic: string, count: number, timeoutMs = 20_000): Promise<KafkaMessage[]> {
  const groupId = `stack-test-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  const received: KafkaMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} messages from ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(message);
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => {});
  }
  return received;
}

describe('kafka broker', () => {
  test('describes a one-broker KRaft cluster on the configured address', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(1);
    expect(`${cluster.brokers[0]!.host}:${cluster.brokers[0]!.port}`).toBe(env.KAFKA_BROKERS!.split(',')[0]!);
    expect(cluster.controller).toBe(cluster.brokers[0]!.nodeId);
  });

  test('round-trips messages with keys and headers in order', async () => {
    const topic = uniqueTopic('roundtrip');
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })).toBe(true);
    const sent = Array.from({ length: 5 }, (_, i) => ({
      key: `key-${i}`,
      value: JSON.stringify({ n: i, text: `héllo ${i}` }),
      headers: { 'x-request-id': `req-${i}`, 'x-binary': Buffer.from([0, i, 255]) },
    }));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
    try {
      const [ack] = await producer.send({ topic, acks: -1, messages: sent });
      expect(ack?.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
    }

    const received = await consumeFromBeginning(topic, sent.length);
    expect(received.map((m) => m.key?.toString())).toEqual(sent.map((m) => m.key));
    expect(received.map((m) => JSON.parse(m.value!.toString()))).toEqual(sent.map((m) => JSON.parse(m.value)));
    expect(received.map((m) => m.headers?.['x-request-id']?.toString())).toEqual(sent.map((m) => m.headers['x-request-id']));
    expect([...(received[3]!.headers!['x-binary'] as Buffer)]).toEqual([0, 3, 255]);
    expect(received.map((m) => Number(m.offset))).toEqual([0, 1, 2, 3, 4]);
  }, 30_000);

  test('creates a topic on first produce (auto topic creation is on)', async () => {
    const topic = uniqueTopic('autocreate');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: null, value: 'first' }] });
    } finally {
      await producer.disconnect();
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(1);
    const [message] = await consumeFromBeginning(topic, 1);
    expect(message?.key).toBeNull();
    expect(message?.value?.toString()).toBe('first');
  }, 30_000);

  test('rejects a topic name Kafka does not allow', async () => {
    await expect(admin.createTopics({ topics: [{ topic: 'bad topic name!' }] })).rejects.toThrow();
  });
});
