import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import postgres from 'postgres';
import { createOwnerRefs } from '../../common/identity/owner-ref.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { chSql, chTuple, chUuid } from '../../db/clickhouse/sql.ts';
import { createInvalidationQueue } from '../../jobs/invalidation/invalidation-queue.ts';
import { disabledInvalidator } from '../../jobs/invalidation/invalidator.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { createCdcHarness, eventually } from './support/cdc-harness.ts';
import { createScratchClickHouse, createScratchTelemetry, type ScratchClickHouse, type ScratchTelemetry } from './support/scratch-stores.ts';

// CRM PostgreSQL → Debezium (crm-connector) → Kafka → the jobs consumer → a scratch ClickHouse
// database (the crash test also records invalidations in a scratch telemetry schema). Every row is
// written by the test with unique names and deleted by it afterwards.
const env = loadStackEnv();
// Owner refs as core and the demo generator write them (CRM migration 003); the replica gets the ref, never the username.
const owners = await createOwnerRefs(env.OWNER_REF_KEY!);
const crm = postgres(env.CRM_DATABASE_URL!, { max: 2, onnotice: () => {} });
let clickhouse: ScratchClickHouse;
let telemetry: ScratchTelemetry;
let harness: ReturnType<typeof createCdcHarness>;
const createdCustomers: string[] = [];
const createdModels: string[] = [];
const createdProstheses: string[] = [];

beforeAll(async () => {
  const status = await fetch(`${env.KAFKA_CONNECT_URL}/connectors/crm-connector/status`);
  if (!status.ok) throw new Error(`crm-connector is not registered (${status.status}); run node stack/cli.ts up kafka-connect`);
  clickhouse = await createScratchClickHouse(env, 'jobs_cdc');
  telemetry = await createScratchTelemetry(env, 'jobs_cdc');
  harness = createCdcHarness(env, clickhouse);
  await harness.startAtEnd();
}, 120_000);

afterAll(async () => {
  await harness?.close();
  if (createdProstheses.length) await crm`delete from crm.prostheses where id in ${crm(createdProstheses)}`;
  if (createdCustomers.length) await crm`delete from crm.customers where id in ${crm(createdCustomers)}`;
  if (createdModels.length) await crm`delete from crm.prosthesis_models where id in ${crm(createdModels)}`;
  await crm.end();
  await clickhouse?.drop();
  await telemetry?.drop();
}, 60_000);

/** Runs `query` with {table} and {ids} (a binder-built UUID tuple) filled in. */
async function finalRows<T>(table: string, ids: readonly string[], query: string): Promise<T[]> {
  const text = query.replace('{table}', table).replace('{ids}', chTuple(ids.map(chUuid)).text);
  const result = await clickhouse.client.query({ query: text, format: 'JSONEachRow' });
  return result.json<T>();
}

async function insertCustomer(username: string): Promise<string> {
  const [row] = await crm<{ id: string }[]>`insert into crm.customers (username, owner_ref, region, full_name, email)
    values (${username}, ${await owners.of(username)}, 'eu', 'Cdc Testova', ${`${username}@example.test`}) returning id`;
  createdCustomers.push(row!.id);
  return row!.id;
}

describe('CDC consumer', () => {
  test('insert, update and delete in the CRM reach ClickHouse (measured end-to-end lag)', async () => {
    const consumer = await harness.start();
    const tag = randomUUID().slice(0, 8);
    const username = `cdc-${tag}`;

    const insertedAt = Date.now();
    const customerId = await insertCustomer(username);
    const created = await eventually('the customer in ClickHouse', async () => {
      const [row] = await finalRows<{ owner_ref: string; region: string; _deleted: number }>('crm_customers', [customerId], 'SELECT owner_ref, region, _deleted FROM {table} FINAL WHERE id IN {ids}');
      return row;
    });
    const lagMs = Date.now() - insertedAt;
    const applied = await eventually('the consumer status', async () => consumer.status.snapshot().lastApplied ?? undefined);
    console.log(`cdc: CRM insert → row visible in ClickHouse (Debezium + Kafka + consumer) in ${lagMs} ms; CRM commit → insert done ${applied.lagMs} ms`);
    expect(created).toEqual({ owner_ref: await owners.of(username), region: 'eu', _deleted: 0 });
    // The replica has no column the username could land in (ClickHouse migration 011).
    const columns = await clickhouse.client.query({ query: "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'crm_customers'", format: 'JSONEachRow' });
    expect((await columns.json<{ name: string }>()).map((c) => c.name)).not.toContain('username');

    const [model] = await crm<{ id: string }[]>`insert into crm.prosthesis_models (name, manufacturer, kind, actuator_count, battery_capacity_mah, weight_g)
      values (${`Hand ${tag}`}, 'BionicPRO test', 'hand', 6, 2400, 480) returning id`;
    createdModels.push(model!.id);
    const chip = `CDC-${tag}`;
    const [prosthesis] = await crm<{ id: string }[]>`insert into crm.prostheses (chip_id, customer_id, model_id, serial_number, fitted_at)
      values (${chip}, ${customerId}, ${model!.id}, ${`SN-${tag}`}, now()) returning id`;
    createdProstheses.push(prosthesis!.id);
    await crm`insert into crm.orders (customer_id, model_id, amount, currency) values (${customerId}, ${model!.id}, '12345.67', 'EUR')`;

    await crm`update crm.customers set region = 'ru' where id = ${customerId}`;
    await eventually('the update in ClickHouse', async () => {
      const [row] = await finalRows<{ region: string }>('crm_customers', [customerId], 'SELECT region FROM {table} FINAL WHERE id IN {ids}');
      return row?.region === 'ru' ? row : undefined;
    });
    const [replicated] = await eventually('the prosthesis in ClickHouse', async () => {
      const rows = await finalRows<{ chip_id: string; customer_id: string }>('crm_prostheses', [prosthesis!.id], 'SELECT chip_id, customer_id FROM {table} FINAL WHERE id IN {ids}');
      return rows.length ? rows : undefined;
    });
    expect(replicated).toEqual({ chip_id: chip, customer_id: customerId });
    const amount = await eventually('the order in ClickHouse', async () => {
      const result = await clickhouse.client.query({ query: chSql`SELECT toString(amount) AS amount FROM crm_orders FINAL WHERE customer_id = ${chUuid(customerId)}`.text, format: 'JSONEachRow' });
      const [row] = await result.json<{ amount: string }>();
      return row?.amount;
    });
    expect(amount).toBe('12345.67');

    await crm`delete from crm.orders where customer_id = ${customerId}`;
    await crm`delete from crm.prostheses where id = ${prosthesis!.id}`;
    await crm`delete from crm.customers where id = ${customerId}`;
    for (const [table, id] of [['crm_prostheses', prosthesis!.id], ['crm_customers', customerId]] as const) {
      await eventually(`the delete of ${table} in ClickHouse`, async () => {
        const [row] = await finalRows<{ _deleted: number }>(table, [id], 'SELECT _deleted FROM {table} FINAL WHERE id IN {ids}');
        return row?._deleted === 1 ? row : undefined;
      });
    }
    // Readers filtering _deleted = 0 no longer see the customer; the versions are the LSNs.
    const versions = await finalRows<{ v: string }>('crm_customers', [customerId], 'SELECT toString(_version) AS v FROM {table} WHERE id IN {ids}');
    expect(new Set(versions.map((v) => v.v)).size).toBe(versions.length);
    await eventually('tombstones acknowledged', async () => (consumer.status.snapshot().tombstones >= 2 ? true : undefined));
    // The customer's and the prosthesis's changes asked for the user's reports to be invalidated.
    expect(harness.affectedUsers.has(await owners.of(username))).toBe(true);
    expect(harness.affectedUsers.has(username)).toBe(false);
    const synced = await finalRows<{ s: number }>('crm_customers', [customerId], 'SELECT toUnixTimestamp(_synced_at) AS s FROM {table} FINAL WHERE id IN {ids}');
    expect(Math.abs(synced[0]!.s * 1000 - Date.now())).toBeLessThan(120_000);
    await consumer.stop();
  }, 90_000);

  test('a poison message goes to crm.dlq with its reason and original bytes; the next good change still applies', async () => {
    const consumer = await harness.start();
    const marker = randomUUID();
    const admin = harness.kafka.admin();
    await admin.connect();
    const dlqStart = await admin.fetchTopicOffsets('crm.dlq').catch(() => [{ partition: 0, offset: '0' }]);
    await admin.disconnect();

    const producer = harness.kafka.producer();
    await producer.connect();
    const garbage = Buffer.from(`\u0000not json ${marker} \u00ff`, 'latin1');
    const notEnvelope = Buffer.from(JSON.stringify({ marker, hello: 'world' }));
    await producer.send({
      topic: 'crm.crm.customers',
      messages: [
        { key: JSON.stringify({ id: randomUUID() }), value: garbage },
        { key: JSON.stringify({ id: randomUUID() }), value: notEnvelope },
      ],
    });
    await producer.disconnect();

    const username = `cdc-good-${marker.slice(0, 8)}`;
    const id = await insertCustomer(username);
    await eventually('the good customer after the poison', async () => {
      const [row] = await finalRows<{ owner_ref: string }>('crm_customers', [id], 'SELECT owner_ref FROM {table} FINAL WHERE id IN {ids}');
      return row;
    });

    const dead = await readDlq(harness.kafka, dlqStart, (m) => Boolean(m.value?.includes(marker)), 2);
    const byReason = new Map(dead.map((m) => [m.headers?.reason?.toString(), m]));
    expect(byReason.get('not_json')?.value?.equals(garbage)).toBe(true);
    expect(byReason.get('not_an_envelope')?.value?.equals(notEnvelope)).toBe(true);
    for (const message of dead) {
      expect(message.headers?.['source-topic']?.toString()).toBe('crm.crm.customers');
      expect(message.headers?.['source-offset']?.toString()).toMatch(/^\d+$/);
    }
    expect(consumer.status.snapshot().deadLettered).toBeGreaterThanOrEqual(2);
    await consumer.stop();
  }, 90_000);

  test('a consumer killed mid-batch (stored, not committed) and restarted loses nothing and shows no duplicates', async () => {
    class SimulatedCrash extends Error {}
    const ours = new Set<string>();
    let firstOffsetOfOurs: number | undefined;
    const killedBatchUsers: string[] = [];
    // The affected users go to the durable queue (a scratch pending_invalidations, not drained
    // until the end), as in the jobs runtime.
    const pending = createInvalidationQueue({ db: telemetry.sql, schema: telemetry.schema, invalidator: disabledInvalidator, logger: createMemoryLogger('jobs-cdc-test') });
    const onUsersAffected = (users: ReadonlySet<string>) => pending.enqueue(users);
    const crashing = await harness.start({
      retry: { retries: 0, initialRetryTime: 100, maxRetryTime: 100 },
      restartOnFailure: () => false,
      onUsersAffected,
      afterApply: ({ changes }) => {
        const mine = changes.filter((c) => ours.has(c.id));
        if (mine.length === 0) return;
        firstOffsetOfOurs = Math.min(...mine.map((c) => Number(c.message.offset)));
        killedBatchUsers.push(...mine.map((c) => String(c.row.owner_ref)));
        throw new SimulatedCrash('killed after the ClickHouse insert, before the commit');
      },
    });
    const tag = randomUUID().slice(0, 8);
    const usernames = Array.from({ length: 40 }, (_, i) => `cdc-kill-${tag}-${i + 1}`);
    const refs = await Promise.all(usernames.map((username) => owners.of(username)));
    const rows = await crm<{ id: string }[]>`insert into crm.customers (username, owner_ref, region, full_name, email)
      select u, r, 'ru', 'Kill Testov', u || '@example.test' from unnest(${usernames}::text[], ${refs}::text[]) as t(u, r) returning id`;
    for (const row of rows) {
      ours.add(row.id);
      createdCustomers.push(row.id);
    }
    const ids = [...ours];

    await Promise.race([crashing.crashed, new Promise((_, reject) => setTimeout(() => reject(new Error('the consumer did not crash')), 30_000))]);
    // The batch reached ClickHouse, but its offsets were not committed.
    const stored = await finalRows<{ id: string }>('crm_customers', ids, 'SELECT id FROM {table} FINAL WHERE id IN {ids}');
    expect(stored.length).toBeGreaterThan(0);
    expect(firstOffsetOfOurs).toBeDefined();
    expect(await harness.committed('crm.crm.customers')).toBeLessThanOrEqual(firstOffsetOfOurs!);
    // Its users were recorded before the kill, so their invalidation survives it.
    expect(killedBatchUsers.length).toBeGreaterThan(0);
    expect((await pendingUsers()).filter((user) => killedBatchUsers.includes(user)).sort()).toEqual([...killedBatchUsers].sort());
    await crashing.stop();

    const restarted = await harness.start({ onUsersAffected });
    await eventually('all 40 customers after the restart', async () => {
      const got = await finalRows<{ id: string }>('crm_customers', ids, 'SELECT id FROM {table} FINAL WHERE id IN {ids} AND _deleted = 0');
      return got.length === ids.length ? got : undefined;
    });
    const visible = await finalRows<{ id: string; n: string }>('crm_customers', ids, 'SELECT id, count() AS n FROM {table} FINAL WHERE id IN {ids} GROUP BY id');
    const physical = await finalRows<{ n: string }>('crm_customers', ids, 'SELECT count() AS n FROM {table} WHERE id IN {ids}');
    console.log(`cdc: after the kill and restart, ${visible.length} customers visible (FINAL), ${physical[0]?.n} physical rows before merges`);
    expect(visible).toHaveLength(40);
    expect(visible.every((row) => Number(row.n) === 1)).toBe(true);
    expect(Number(physical[0]!.n)).toBeGreaterThanOrEqual(40);
    await eventually('the offsets committed past the batch', async () => ((await harness.committed('crm.crm.customers')) > firstOffsetOfOurs! ? true : undefined));
    await restarted.stop();
    // All 40 users are pending (the redelivered batch recorded them again), and a drain empties the table.
    expect((await pendingUsers()).filter((user) => refs.includes(user)).sort()).toEqual([...refs].sort());
    await pending.flush();
    expect(await pendingUsers()).toEqual([]);
  }, 120_000);
});

async function pendingUsers(): Promise<string[]> {
  const rows = await telemetry.sql.unsafe<{ user_id: string }[]>(`select user_id from ${telemetry.schema}.pending_invalidations order by user_id`);
  return rows.map((row) => row.user_id);
}

/** Reads crm.dlq from the given offsets until `want` messages match. */
async function readDlq(kafka: ReturnType<typeof createCdcHarness>['kafka'], start: Array<{ partition: number; offset: string }>, match: (m: KafkaMessage) => boolean, want: number): Promise<KafkaMessage[]> {
  const found: KafkaMessage[] = [];
  const groupId = `jobs-dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'crm.dlq', fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void (match(message) && found.push(message)) });
  for (const { partition, offset } of start) consumer.seek({ topic: 'crm.dlq', partition, offset });
  try {
    await eventually(`${want} dead letters`, async () => (found.length >= want ? true : undefined));
    return found;
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}
