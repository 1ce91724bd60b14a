import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import kafkajs, { Kafka, logLevel, Partitioners, type Admin, type KafkaMessage } from 'kafkajs';
import { createKafkaClient, type KafkaClientSettings } from '../../jobs/cdc/kafka-client.ts';
import { fixKafkajsNegativeTimeout } from '../../jobs/cdc/kafkajs-negative-timeout.ts';
import { DEFAULT_ACL_NAMES, desiredKafkaAcls, reconcileKafkaAcls } from '../../stack/services/kafka-acls.ts';
import { kafkaClientSettings, kafkaUser } from '../../stack/services/kafka.ts';
import { crmCdcTopics } from '../../stack/services/kafka-topics.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// Issue 9: with PLAINTEXT and no authorizer, any local process could write a forged Debezium event
// (a huge source.lsn moves a prosthesis to another owner for good). Runs against the stack's broker
// and Connect (`node stack/cli.ts up kafka-connect`); the admin principal sets up and checks.
const env = loadStackEnv();
const CHANGE_TOPIC = 'crm.crm.customers';
const DLQ_TOPIC = DEFAULT_ACL_NAMES.dlqTopic;
const quick = { retry: { retries: 0 }, connectionTimeout: 2_000, authenticationTimeout: 3_000, requestTimeout: 5_000, logLevel: logLevel.NOTHING };

const client = (settings: KafkaClientSettings, clientId: string) => createKafkaClient(settings, { clientId, ...quick });
const asAdmin = client(kafkaClientSettings(env, 'admin'), 'acl-test-admin');
const asJobs = client(kafkaClientSettings(env, 'jobs'), 'acl-test-jobs');
const asConnect = client(kafkaClientSettings(env, 'connect'), 'acl-test-connect');
let admin: Admin;
/** How kafkajs surfaces a group the broker refuses (it hides FindCoordinator's error code). */
const GROUP_DENIED = /Failed to find group coordinator|No brokers in the broker pool/;
const groupsToDelete: string[] = [];

async function endOffset(topic: string): Promise<string> {
  const [partition] = await admin.fetchTopicOffsets(topic);
  return partition!.high;
}

/** A forged Debezium update: what an attacker would write to take over a prosthesis. */
function forgedEvent(marker: string) {
  return {
    key: JSON.stringify({ id: randomUUID() }),
    value: JSON.stringify({ before: null, after: { id: randomUUID(), username: `forged-${marker}` }, source: { lsn: Number.MAX_SAFE_INTEGER, table: 'customers' }, op: 'u', ts_ms: Date.now() }),
  };
}

async function produce(kafka: Kafka, topic: string, messages: Array<{ key: string; value: string }>): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

/** Reads `topic` from the beginning in a fresh group until one message arrives. */
async function readOne(kafka: Kafka, topic: string, groupId: string): Promise<KafkaMessage> {
  groupsToDelete.push(groupId);
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, retry: { retries: 0 } });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise<KafkaMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing read from ${topic} in 20 s`)), 20_000);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(payload.error);
      });
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message);
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

/** The rejection's message and its causes' (kafkajs wraps protocol errors in retriable ones). */
async function failureOf(action: Promise<unknown>): Promise<string> {
  try {
    await action;
  } catch (error) {
    const messages: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = (e as Error & { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError) {
      messages.push(`${e.name}: ${e.message}`);
      if ('type' in e) messages.push(String((e as { type: unknown }).type));
    }
    return messages.join(' | ');
  }
  throw new Error('expected a refusal, but the broker accepted');
}

beforeAll(async () => {
  admin = asAdmin.admin();
  await admin.connect();
  const status = await fetch(`${env.KAFKA_CONNECT_URL}/connectors/crm-connector/status`);
  if (!status.ok) throw new Error(`crm-connector is not registered (${status.status}); run node stack/cli.ts up kafka-connect`);
}, 20_000);

afterAll(async () => {
  await admin.deleteGroups(groupsToDelete).catch(() => {});
  await admin.disconnect();
}, 20_000);

describe('Kafka refuses clients without credentials', () => {
  test('an unauthenticated client can neither write a forged change event nor read the change topic', async () => {
    fixKafkajsNegativeTimeout();
    const anonymous = new Kafka({ clientId: 'acl-test-anonymous', brokers: kafkaClientSettings(env, 'admin').brokers as string[], ...quick });
    const before = await endOffset(CHANGE_TOPIC);
    expect(await failureOf(produce(anonymous, CHANGE_TOPIC, [forgedEvent('anonymous')]))).toMatch(/closed|connection|sasl|authentic/i);
    expect(await endOffset(CHANGE_TOPIC)).toBe(before);
    expect(await failureOf(readOne(anonymous, CHANGE_TOPIC, `acl-test-anonymous-${randomUUID()}`))).toMatch(/closed|connection|sasl|authentic/i);
  }, 30_000);

  test('a known user with a wrong password is refused at sign-in', async () => {
    const settings = kafkaClientSettings(env, 'jobs');
    const wrong = client({ ...settings, sasl: { ...settings.sasl, password: `${settings.sasl.password}-wrong` } }, 'acl-test-wrong');
    const probe = wrong.admin();
    expect(await failureOf(probe.connect())).toContain('KafkaJSSASLAuthenticationError');
    await probe.disconnect().catch(() => {});
  });
});

describe('each client may do its job and nothing more', () => {
  test('jobs cannot write a change topic (no forged CDC event), but reads it in its own group and writes the DLQ', async () => {
    const marker = randomUUID();
    const before = await endOffset(CHANGE_TOPIC);
    expect(await failureOf(produce(asJobs, CHANGE_TOPIC, [forgedEvent(marker)]))).toMatch(/authoriz/i);
    expect(await endOffset(CHANGE_TOPIC)).toBe(before);

    const read = await readOne(asJobs, CHANGE_TOPIC, `${DEFAULT_ACL_NAMES.jobsGroupPrefix}-test-acl-${randomUUID()}`);
    expect(read.value).not.toBeNull();

    const dlqBefore = BigInt(await endOffset(DLQ_TOPIC).catch(() => '0'));
    await produce(asJobs, DLQ_TOPIC, [{ key: marker, value: JSON.stringify({ test: 'kafka-acl', marker }) }]);
    expect(BigInt(await endOffset(DLQ_TOPIC))).toBe(dlqBefore + 1n);
  }, 60_000);

  test('jobs cannot consume in a group outside its prefix, nor touch Connect topics', async () => {
    // Same client, same topic as the read that works above; only the group differs. kafkajs reports
    // the broker's GROUP_AUTHORIZATION_FAILED on FindCoordinator as a coordinator it cannot find.
    expect(await failureOf(readOne(asJobs, CHANGE_TOPIC, `acl-test-other-${randomUUID()}`))).toMatch(GROUP_DENIED);
    expect(await failureOf(produce(asJobs, 'connect-offsets', [{ key: 'x', value: 'x' }]))).toMatch(/authoriz/i);
  }, 60_000);

  test("connect cannot read jobs' consumer group, read the change topics or write the DLQ", async () => {
    const connectAdmin = asConnect.admin();
    await connectAdmin.connect();
    try {
      // Loads the broker list, which kafkajs's admin looks coordinators up in.
      await connectAdmin.describeCluster();
      // Its own group answers; jobs' does not (the denial surfaces as a coordinator kafkajs cannot find).
      await connectAdmin.fetchOffsets({ groupId: DEFAULT_ACL_NAMES.connectGroup, topics: ['connect-offsets'] });
      expect(await failureOf(connectAdmin.fetchOffsets({ groupId: 'reports-cdc', topics: [CHANGE_TOPIC] }))).toMatch(GROUP_DENIED);
    } finally {
      await connectAdmin.disconnect();
    }
    expect(await failureOf(readOne(asConnect, CHANGE_TOPIC, `${DEFAULT_ACL_NAMES.jobsGroupPrefix}-test-acl-${randomUUID()}`))).toMatch(new RegExp(`authoriz|${GROUP_DENIED.source}`, 'i'));
    expect(await failureOf(produce(asConnect, DLQ_TOPIC, [{ key: 'x', value: 'x' }]))).toMatch(/authoriz/i);
  }, 60_000);

  // Review finding: jobs could pre-create a change topic (retention.ms=1, say) before Debezium wrote it.
  test('jobs cannot create a change topic (here with retention.ms=1); the stack\'s provision created every CDC topic and the DLQ', async () => {
    const topics = crmCdcTopics(DEFAULT_ACL_NAMES.dlqTopic);
    const existing = new Set(await admin.listTopics());
    expect(topics.filter((topic) => !existing.has(topic))).toEqual([]);
    const jobsAdmin = asJobs.admin();
    await jobsAdmin.connect();
    try {
      const hostile = `${DEFAULT_ACL_NAMES.cdcTopicPrefix}acl_test_${randomUUID().slice(0, 8)}`;
      const refused = await jobsAdmin.createTopics({ topics: [{ topic: hostile, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '1' }] }], waitForLeaders: false }).then(
        () => 'created',
        // kafkajs gathers the per-topic errors in a KafkaJSAggregateError.
        (error: { errors?: Array<{ type?: string }> }) => (error.errors ?? []).map((e) => e.type).join(','),
      );
      expect(refused).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(await admin.listTopics()).not.toContain(hostile);
    } finally {
      await jobsAdmin.disconnect();
    }
  }, 30_000);

  test('the broker holds exactly the ACLs of kafka-acls.ts, and reconciling removes a stray grant', async () => {
    const desired = desiredKafkaAcls({ ...DEFAULT_ACL_NAMES, connectUser: kafkaUser(env, 'connect'), jobsUser: kafkaUser(env, 'jobs') });
    expect(await reconcileKafkaAcls(admin, desired)).toEqual({ created: 0, deleted: 0 });

    const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
    const stray = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: `acl-test-stray-${randomUUID()}`,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: `User:${kafkaUser(env, 'jobs')}`,
      host: '*',
      operation: AclOperationTypes.DESCRIBE,
      permissionType: AclPermissionTypes.ALLOW,
    };
    await admin.createAcls({ acl: [stray] });
    try {
      expect(await reconcileKafkaAcls(admin, desired)).toEqual({ created: 0, deleted: 1 });
    } finally {
      await admin.deleteAcls({ filters: [stray] }).catch(() => {});
    }
  }, 30_000);
});

describe('the CDC path runs under these principals', () => {
  test('a CRM change reaches the topic through Debezium (connect) and jobs reads it', async () => {
    const postgres = (await import('postgres')).default;
    const sql = postgres(env.CRM_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const groupId = `${DEFAULT_ACL_NAMES.jobsGroupPrefix}-test-acl-${randomUUID()}`;
    groupsToDelete.push(groupId);
    const start = await endOffset('crm.crm.prosthesis_models');
    await admin.setOffsets({ groupId, topic: 'crm.crm.prosthesis_models', partitions: [{ partition: 0, offset: start }] });
    const name = `acl-test-model-${randomUUID()}`;
    const [model] = await sql<{ id: string }[]>`insert into crm.prosthesis_models (name, manufacturer, kind, actuator_count, battery_capacity_mah, weight_g) values (${name}, 'acl-test', 'hand', 6, 2000, 500) returning id`;
    try {
      const consumer = asJobs.consumer({ groupId, maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'crm.crm.prosthesis_models' });
      try {
        const event = await new Promise<Record<string, unknown>>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no change event for the new model within 30 s')), 30_000);
          void consumer.run({
            eachMessage: async ({ message }) => {
              const value = message.value ? (JSON.parse(message.value.toString()) as { after?: { id?: string } }) : null;
              if (value?.after?.id === model!.id) {
                clearTimeout(timer);
                resolve(value as Record<string, unknown>);
              }
            },
          });
        });
        expect(event.op).toBe('c');
      } finally {
        await consumer.disconnect();
      }
    } finally {
      await sql`delete from crm.prosthesis_models where id = ${model!.id}`;
      await sql.end();
    }
  }, 60_000);
});
