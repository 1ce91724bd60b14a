import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import postgres from 'postgres';
import { loadStackEnv } from '../../tools/kit/env.ts';
import { CDC_ROLE } from '../../stack/services/postgres.ts';
import { createKafkaClient } from '../../jobs/cdc/kafka-client.ts';
import { kafkaClientSettings } from '../../stack/services/kafka.ts';

// Runs against the stack's CRM PostgreSQL, Kafka and Kafka Connect with the crm-connector
// registered (`node stack/cli.ts up kafka-connect`). The row it writes has a unique username and is
// deleted by the test itself; the delete is also what produces the 'd' event and the tombstone.
const env = loadStackEnv();
const TOPIC = 'crm.crm.customers';
const sql = postgres(env.CRM_DATABASE_URL!, { max: 2, onnotice: () => {} });
function connectionOf(url: string): { host: string; port: number; database: string } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port), database: parsed.pathname.slice(1) };
}
// The stack's admin principal reads the topic (the broker requires SASL; see tests/stack/kafka-acl.int.test.ts).
const kafka = createKafkaClient(kafkaClientSettings(env, 'admin'), { clientId: 'debezium-int-test', logLevel: logLevel.ERROR });

interface ChangeEvent {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  source: Record<string, unknown>;
  op: 'c' | 'u' | 'd' | 'r' | 't';
  ts_ms: number;
}

interface Received {
  key: { id: string };
  /** null for the tombstone that follows a delete. */
  value: ChangeEvent | null;
  receivedAt: number;
}

/**
 * Reads the customers topic from the offsets it had before the test wrote anything, keeping only
 * the messages for one primary key, so other writers of crm.customers do not disturb the test.
 */
class CustomerEventReader {
  private readonly events: Received[] = [];
  private readonly waiters: Array<() => void> = [];
  private consumer: Consumer | undefined;
  private readonly ids = new Set<string>();
  private readonly groupId = `debezium-int-test-${randomUUID()}`;

  watch(id: string): void {
    this.ids.add(id);
  }

  async start(): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    let startOffsets: Array<{ partition: number; offset: string }>;
    try {
      // Debezium creates the topic with its first event; creating it first (same settings) lets the
      // test take the end offsets before the insert. false = it already existed.
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
      startOffsets = (await admin.fetchTopicOffsets(TOPIC)).map(({ partition, offset }) => ({ partition, offset }));
    } finally {
      await admin.disconnect();
    }
    // A short fetch wait keeps disconnect() from waiting out a 5 s long poll at the end.
    this.consumer = kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 500 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => this.accept(message),
    });
    for (const { partition, offset } of startOffsets) this.consumer.seek({ topic: TOPIC, partition, offset });
  }

  private accept(message: KafkaMessage): void {
    if (!message.key) return;
    const key = JSON.parse(message.key.toString()) as { id: string };
    if (!this.ids.has(key.id)) return;
    this.events.push({ key, value: message.value ? (JSON.parse(message.value.toString()) as ChangeEvent) : null, receivedAt: Date.now() });
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits for the next event for `id` matching `predicate`, at or after position `from`. */
  async next(id: string, from: number, predicate: (e: Received) => boolean, timeoutMs = 30_000): Promise<{ event: Received; index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex((e, i) => i >= from && e.key.id === id && predicate(e));
      if (index >= 0) return { event: this.events[index]!, index };
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.map((e) => e.value?.op ?? 'tombstone').join(', ') || 'nothing';
        throw new Error(`no matching event for customer ${id} on ${TOPIC} within ${timeoutMs} ms (seen: ${seen}); is crm-connector RUNNING?`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (!this.consumer) return;
    await this.consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => {});
    await admin.disconnect();
  }
}

const reader = new CustomerEventReader();
const createdIds: string[] = [];

beforeAll(async () => {
  const response = await fetch(`${env.KAFKA_CONNECT_URL}/connectors/crm-connector/status`);
  if (!response.ok) throw new Error(`crm-connector is not registered (${response.status}); run node stack/cli.ts up kafka-connect`);
  await reader.start();
}, 30_000);

afterAll(async () => {
  if (createdIds.length > 0) await sql`delete from crm.customers where id in ${sql(createdIds)}`;
  await reader.stop();
  await sql.end();
}, 30_000);

describe('debezium crm-connector', () => {
  test('is RUNNING with its task, and the database password is not in its stored config', async () => {
    const status = (await (await fetch(`${env.KAFKA_CONNECT_URL}/connectors/crm-connector/status`)).json()) as {
      connector: { state: string };
      tasks: Array<{ state: string }>;
    };
    expect(status.connector.state).toBe('RUNNING');
    expect(status.tasks.map((t) => t.state)).toEqual(['RUNNING']);
    const config = (await (await fetch(`${env.KAFKA_CONNECT_URL}/connectors/crm-connector/config`)).json()) as Record<string, string>;
    expect(config['database.user']).toBe(CDC_ROLE);
    expect(config['database.password']).toBe('${env:CRM_CDC_DB_PASSWORD}');
    expect(JSON.stringify(config)).not.toContain(env.CRM_CDC_DB_PASSWORD!);
    expect(JSON.stringify(config)).not.toContain(env.CRM_DB_PASSWORD!);
  });

  test('streams through the CDC role: the walsender of its slot runs as that role, not as the owner', async () => {
    const [sender] = await sql`
      select a.usename from pg_replication_slots s join pg_stat_activity a on a.pid = s.active_pid
      where s.slot_name = 'crm_debezium'`;
    expect(sender?.usename).toBe(CDC_ROLE);
  });

  test('the CDC role reads the CRM tables and can change nothing', async () => {
    const cdc = postgres({ ...connectionOf(env.CRM_DATABASE_URL!), username: CDC_ROLE, password: env.CRM_CDC_DB_PASSWORD!, max: 1, onnotice: () => {} });
    // postgres.js queries are lazy thenables; wrapping them in an async function makes them run.
    const attempt = (run: () => Promise<unknown>) => (async () => run())();
    try {
      for (const table of ['customers', 'prosthesis_models', 'prostheses', 'orders']) {
        const [row] = await cdc`select count(*)::int as n from ${cdc('crm.' + table)}`;
        expect(row?.n).toBeGreaterThanOrEqual(0);
        await expect(attempt(() => cdc`delete from ${cdc('crm.' + table)} where false`)).rejects.toThrow(/permission denied/);
        await expect(attempt(() => cdc`update ${cdc('crm.' + table)} set updated_at = now() where false`)).rejects.toThrow(/permission denied/);
        await expect(attempt(() => cdc`truncate ${cdc('crm.' + table)}`)).rejects.toThrow(/permission denied|must be owner/);
      }
      await expect(
        attempt(() => cdc`insert into crm.customers (username, region, full_name, email) values ('cdc-forged', 'eu', 'X', 'x@y.z')`),
      ).rejects.toThrow(/permission denied/);
      await expect(attempt(() => cdc`create table crm.cdc_sneaky (id int)`)).rejects.toThrow(/permission denied/);
      await expect(attempt(() => cdc`create table public.cdc_sneaky (id int)`)).rejects.toThrow(/permission denied/);
      await expect(attempt(() => cdc`alter publication crm_publication drop table crm.orders`)).rejects.toThrow(/must be owner/);
      await expect(attempt(() => cdc`select * from public.schema_migrations limit 1`)).rejects.toThrow(/permission denied|does not exist/);
    } finally {
      await cdc.end();
    }
  });

  test('streams insert, update and delete of a customer as c, u, d events and a tombstone', async () => {
    const username = `cdc-test-${randomUUID().slice(0, 8)}`;
    const id = randomUUID();
    reader.watch(id);
    createdIds.push(id);

    const insertedAt = Date.now();
    // Any well-formed owner ref (CRM migration 003): this test is about the events, not the key.
    const ownerRef = Array.from(crypto.getRandomValues(new Uint8Array(32)), (byte) => 'abcdefghijklmnopqrstuvwxyz234567'[byte % 32]).join('');
    await sql`insert into crm.customers (id, username, owner_ref, region, full_name, email, phone)
              values (${id}, ${username}, ${ownerRef}, 'eu', 'Ada Testova', ${`${username}@example.test`}, '+49 30 1234567')`;
    const created = await reader.next(id, 0, (e) => e.value?.op === 'c');
    const latencyMs = created.event.receivedAt - insertedAt;
    console.log(`debezium: insert → create event on ${TOPIC} in ${latencyMs} ms`);

    expect(created.event.key).toEqual({ id });
    const create = created.event.value!;
    expect(create.before).toBeNull();
    expect(create.after).toMatchObject({ id, owner_ref: ownerRef, region: 'eu' });
    // column.exclude.list: usernames, names, e-mails and phones stay in the CRM (tests/stack/pii-scan.int.test.ts scans for them).
    expect(Object.keys(create.after!).filter((key) => ['username', 'full_name', 'email', 'phone'].includes(key))).toEqual([]);
    // timestamptz columns arrive as ISO-8601 strings in UTC (io.debezium.time.ZonedTimestamp).
    expect(create.after!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(create.source).toMatchObject({ connector: 'postgresql', name: 'crm', db: 'crm', schema: 'crm', table: 'customers' });
    expect(typeof create.source.lsn).toBe('number');
    expect(typeof create.ts_ms).toBe('number');

    await sql`update crm.customers set email = ${`${username}@changed.test`} where id = ${id}`;
    const updated = await reader.next(id, created.index + 1, (e) => e.value?.op === 'u');
    const update = updated.event.value!;
    // Changing only an excluded column still streams an update, without the column.
    expect(update.after).toMatchObject({ id, owner_ref: ownerRef });
    expect(update.after!.email).toBeUndefined();
    // The update trigger moved updated_at forward.
    expect(Date.parse(String(update.after!.updated_at))).toBeGreaterThanOrEqual(Date.parse(String(create.after!.updated_at)));
    expect(Number(update.source.lsn)).toBeGreaterThan(Number(create.source.lsn));

    await sql`delete from crm.customers where id = ${id}`;
    const deleted = await reader.next(id, updated.index + 1, (e) => e.value?.op === 'd');
    const del = deleted.event.value!;
    expect(del.after).toBeNull();
    // With the default replica identity the old row carries the primary key only.
    expect(del.before).toMatchObject({ id });
    const tombstone = await reader.next(id, deleted.index + 1, (e) => e.value === null);
    expect(tombstone.event.key).toEqual({ id });
    expect(tombstone.index).toBe(deleted.index + 1);
  }, 60_000);
});
