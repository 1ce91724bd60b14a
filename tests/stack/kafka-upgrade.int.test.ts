import { afterAll, describe, expect, test } from 'bun:test';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { createKafkaClient } from '../../jobs/cdc/kafka-client.ts';
import { fixKafkajsNegativeTimeout } from '../../jobs/cdc/kafkajs-negative-timeout.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { DEFAULT_ACL_NAMES, desiredKafkaAcls, reconcileKafkaAcls } from '../../stack/services/kafka-acls.ts';
import { jvmArgs, KAFKA_VERSION, kafkaClientSettings, kafkaUser, startBroker, type BrokerLayout } from '../../stack/services/kafka.ts';
import { paths } from '../../tools/kit/paths.ts';
import { run, sleep, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { freePort } from '../helpers/free-port.ts';

// Every dev machine had a KRaft data dir formatted before SASL existed: no SCRAM credential in its
// metadata. The stack's own start (stack/services/kafka.ts startBroker) must turn it into the SASL
// broker without losing its topics. This runs that code on a private broker (own ports and folder).
const libs = join(paths.vendor, `kafka-${KAFKA_VERSION}`, 'libs', '*');
const layout: BrokerLayout = {
  service: `kafka-upgrade-test-${process.pid}`,
  dataDir: mkdtempSync(join(tmpdir(), 'kafka-upgrade-')),
  brokerPort: await freePort(),
  controllerPort: await freePort(),
};
const env = { ...loadStackEnv(), KAFKA_BROKERS: `127.0.0.1:${layout.brokerPort}` };
const TOPIC = 'upgrade.kept';

/** The broker config of the stack before issue 9: PLAINTEXT, no authorizer. */
function preSaslConfig(): string {
  const { brokerPort: b, controllerPort: c } = layout;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${c}`,
    'controller.listener.names=CONTROLLER',
    `listeners=PLAINTEXT://127.0.0.1:${b},CONTROLLER://127.0.0.1:${c}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${b}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(layout.dataDir, 'logs')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
  ].join('\n');
}

async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      await sleep(500);
    }
  }
}

afterAll(async () => {
  await stopDaemon(layout.service, 30_000);
  rmSync(layout.dataDir, { recursive: true, force: true });
  rmSync(paths.log(layout.service), { force: true });
}, 40_000);

describe('upgrading a pre-SASL Kafka data dir', () => {
  test('the stack’s start stores the SCRAM credentials, keeps the topics and enforces the ACLs', async () => {
    // 1. The old broker, with a topic holding three messages written anonymously.
    const oldConfig = join(layout.dataDir, 'pre-sasl.properties');
    writeFileSync(oldConfig, preSaslConfig());
    await run('java', [...jvmArgs('256m'), '-cp', libs, 'kafka.tools.StorageTool', 'format', `--cluster-id=${randomBytes(16).toString('base64url')}`, '-c', oldConfig]);
    startDaemon(layout.service, 'java', [...jvmArgs('384m'), '-cp', libs, 'kafka.Kafka', oldConfig], { cwd: layout.dataDir });
    fixKafkajsNegativeTimeout();
    const anonymous = new Kafka({ clientId: 'upgrade-test', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const markers = [randomUUID(), randomUUID(), randomUUID()];
    await eventually('writing to the pre-SASL broker', async () => {
      const producer = anonymous.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
      await producer.connect();
      try {
        await producer.send({ topic: TOPIC, acks: -1, messages: markers.map((value) => ({ value })) });
      } finally {
        await producer.disconnect();
      }
    });
    await stopDaemon(layout.service, 30_000);

    // 2. What `node stack/cli.ts up kafka` runs.
    await startBroker(env, layout);

    // 3. The admin reads the old messages; every client signs in; nobody else does; ACLs in force.
    const admin = createKafkaClient(kafkaClientSettings(env, 'admin'), { clientId: 'upgrade-test', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      expect((await admin.fetchTopicOffsets(TOPIC))[0]!.high).toBe('3');
      const acls = desiredKafkaAcls({ ...DEFAULT_ACL_NAMES, connectUser: kafkaUser(env, 'connect'), jobsUser: kafkaUser(env, 'jobs') });
      expect(await reconcileKafkaAcls(admin, acls)).toEqual({ created: 0, deleted: 0 });
    } finally {
      await admin.disconnect();
    }
    const read: string[] = [];
    const consumer = createKafkaClient(kafkaClientSettings(env, 'admin'), { clientId: 'upgrade-test', logLevel: logLevel.NOTHING }).consumer({ groupId: `upgrade-${randomUUID()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void read.push(message.value!.toString()) });
    await eventually('reading the kept messages', async () => {
      if (read.length < 3) throw new Error(`${read.length} of 3`);
    }, 30_000);
    await consumer.disconnect();
    expect(read).toEqual(markers);

    for (const principal of ['connect', 'jobs'] as const) {
      const probe = createKafkaClient(kafkaClientSettings(env, principal), { clientId: 'upgrade-test', logLevel: logLevel.NOTHING }).admin();
      await probe.connect();
      expect((await probe.describeCluster()).brokers).toHaveLength(1);
      await probe.disconnect();
    }
    const refused = anonymous.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
    await expect(refused.connect().then(() => refused.send({ topic: TOPIC, messages: [{ value: 'forged' }] }))).rejects.toThrow();
    await refused.disconnect().catch(() => {});
  }, 240_000);
});
