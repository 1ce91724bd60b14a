import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import { replicationQuery } from '../../core/crm/replication.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import type { CdcConsumer } from '../../jobs/cdc/consumer.ts';
import { createCdcHarness, eventually } from '../jobs/support/cdc-harness.ts';
import { createScratchClickHouse, type ScratchClickHouse } from '../jobs/support/scratch-stores.ts';
import { addRegionalPerson, type OperatorTestPerson } from './crm-people.ts';
import { callCrm, insertTestModel, removeTestCrmRows } from './support/crm-rows.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';

// "In reports after N ms" (issue 11) end to end: a save through core's CRM API → CRM PostgreSQL →
// Debezium → Kafka → the real CDC consumer (started here, in a group of its own, writing into a
// scratch ClickHouse database built by the real migrations) → core's replication route, which
// reads the row back from that database. No jobs process runs during npm test, hence the consumer.
const env = loadStackEnv();
let clickhouse: ScratchClickHouse;
let harness: ReturnType<typeof createCdcHarness>;
let consumer: CdcConsumer;
let core: CoreHarness;
let crm: postgres.Sql;
let ruOperator: OperatorTestPerson;
let euOperator: OperatorTestPerson;
let ruToken: string;
let euToken: string;
let modelId: string;
const tag = randomUUID().slice(0, 8);
const customerIds: string[] = [];

const call = (token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) => callCrm(core, token, method, path, body, headers);

/** Polls the route as the page does until the saved version is in ClickHouse; returns lag_ms. */
async function replicatedLag(entity: string, id: string, etag: string): Promise<number> {
  const answer = await eventually(`${entity} ${id} in ClickHouse`, async () => {
    const { status, body } = await call(ruToken, 'GET', `/api/crm/replication/${entity}/${id}?since=${encodeURIComponent(etag)}`);
    expect(status).toBe(200);
    return body.replicated ? body : undefined;
  }, 45_000, 50);
  expect(Object.keys(answer).sort()).toEqual(['lag_ms', 'replicated']);
  expect(Number.isInteger(answer.lag_ms)).toBe(true);
  expect(answer.lag_ms).toBeGreaterThanOrEqual(0);
  expect(answer.lag_ms).toBeLessThan(60_000);
  return answer.lag_ms;
}

beforeAll(async () => {
  const status = await fetch(`${env.KAFKA_CONNECT_URL}/connectors/crm-connector/status`);
  if (!status.ok) throw new Error(`crm-connector is not registered (${status.status}); run node stack/cli.ts up kafka-connect`);
  clickhouse = await createScratchClickHouse(env, 'core_crm_replication');
  harness = createCdcHarness(env, clickhouse);
  await harness.startAtEnd();
  consumer = await harness.start();
  core = createCoreHarness({ CLICKHOUSE_DATABASE: clickhouse.database });
  crm = postgres(env.CRM_DATABASE_URL!, { max: 2, onnotice: () => undefined });
  modelId = await insertTestModel(crm, `Replication Test ${tag}`);
  [ruOperator, euOperator] = await Promise.all([addRegionalPerson(env, 'ru', ['crm_operator']), addRegionalPerson(env, 'eu', ['crm_operator'])]);
  [ruToken, euToken] = await Promise.all([ruOperator.accessToken(), euOperator.accessToken()]);
}, 240_000);

afterAll(async () => {
  await consumer?.stop();
  await harness?.close();
  if (crm) {
    await removeTestCrmRows(crm, customerIds, modelId);
    await crm.end();
  }
  await Promise.allSettled([ruOperator?.remove(), euOperator?.remove()]);
  await core?.close();
  await clickhouse?.drop();
}, 120_000);

describe('crm.replication', () => {
  test('each save reports when its own version reached ClickHouse; lag_ms is read from the replicated row', async () => {
    const username = `repl.${tag}`;
    const created = await call(ruToken, 'POST', '/api/crm/customers', { username, full_name: `Репликация ${tag}`, email: `${username}@example.org`, phone: null });
    expect(created.status).toBe(201);
    customerIds.push(created.body.id);
    const customerId = created.body.id as string;
    const lags = [await replicatedLag('customers', customerId, created.etag!)];

    // A version that no commit has reached yet is not replicated: the answer follows the version asked for.
    const future = `${BigInt(created.etag!.replaceAll('"', '')) + 600_000_000n}`;
    const notYet = await call(ruToken, 'GET', `/api/crm/replication/customers/${customerId}?since=${future}`);
    expect(notYet).toMatchObject({ status: 200, body: { replicated: false } });

    const edited = await call(ruToken, 'PATCH', `/api/crm/customers/${customerId}`, { phone: '+7 495 111-22-33' }, { 'if-match': created.etag! });
    expect(edited.status).toBe(200);
    lags.push(await replicatedLag('customers', customerId, edited.etag!));

    const registered = await call(ruToken, 'POST', '/api/crm/prostheses', { chip_id: `CHIP-REPL-${tag}`, serial_number: `SN-REPL-${tag}`, model_id: modelId, customer_id: customerId });
    expect(registered.status).toBe(201);
    lags.push(await replicatedLag('prostheses', registered.body.id, registered.etag!));

    const order = await call(ruToken, 'POST', '/api/crm/orders', { customer_id: customerId, model_id: modelId, amount: '1000.00', currency: 'RUB' });
    expect(order.status).toBe(201);
    lags.push(await replicatedLag('orders', order.body.id, order.etag!));
    const confirmed = await call(ruToken, 'PUT', `/api/crm/orders/${order.body.id}/status`, { status: 'confirmed' }, { 'if-match': order.etag! });
    expect(confirmed.status).toBe(200);
    lags.push(await replicatedLag('orders', order.body.id, confirmed.etag!));

    // The row the route read is the confirmed one: its commit is at or after the saved version.
    const rows = await clickhouse.client.query({
      query: `SELECT status, _source_ts_ms, _ingested_ms FROM crm_orders WHERE id = toUUID('${order.body.id}') ORDER BY _source_ts_ms`,
      format: 'JSONEachRow',
    });
    const stored = await rows.json<{ status: string; _source_ts_ms: string; _ingested_ms: string }>();
    const confirmedRow = stored.find((row) => row.status === 'confirmed')!;
    expect(Number(confirmedRow._source_ts_ms)).toBeGreaterThanOrEqual(Math.floor(Number(confirmed.etag!.replaceAll('"', '')) / 1000));
    expect(Number(confirmedRow._ingested_ms) - Number(confirmedRow._source_ts_ms)).toBe(lags.at(-1)!);
    console.log(`crm.replication: save → in ClickHouse lag_ms per save (customer create, edit, prosthesis, order create, status) = ${lags.join(', ')}`);

    // Another region's operator: 404 for each of the records, whatever ClickHouse holds.
    for (const [entity, id] of [['customers', customerId], ['prostheses', registered.body.id], ['orders', order.body.id]] as const) {
      const foreign = await call(euToken, 'GET', `/api/crm/replication/${entity}/${id}?since=${confirmed.etag!.replaceAll('"', '')}`);
      expect(foreign.status).toBe(404);
    }
  }, 180_000);

  test('core’s read-only ClickHouse user can run the query on the stack’s report database (as `npm run dev` starts core)', async () => {
    const client = createClickHouseClient({ ...clickHouseConfigFromEnv(env), username: env.CLICKHOUSE_CORE_USER!, password: env.CLICKHOUSE_CORE_PASSWORD! });
    try {
      for (const entity of ['customers', 'prostheses', 'orders'] as const) {
        const result = await client.query({ query: replicationQuery(entity, randomUUID(), 1n).text, format: 'JSONEachRow' });
        expect(await result.json()).toEqual([]);
      }
      const write = await client.command({ query: 'ALTER TABLE crm_orders DELETE WHERE 0' }).then(() => 'allowed', (error: Error) => error.message);
      expect(write).toMatch(/readonly/i);
    } finally {
      await client.close();
    }
  });

  test('bad input answers 400 with the reason; no ClickHouse query is built from it', async () => {
    const id = randomUUID();
    const badSince = await call(ruToken, 'GET', `/api/crm/replication/customers/${id}?since=1%20OR%201`);
    expect(badSince.status).toBe(400);
    const noSince = await call(ruToken, 'GET', `/api/crm/replication/customers/${id}`);
    expect(noSince.status).toBe(400);
    const badEntity = await call(ruToken, 'GET', `/api/crm/replication/users/${id}?since=1`);
    expect(badEntity.status).toBe(400);
    const unknown = await call(ruToken, 'GET', `/api/crm/replication/orders/${id}?since=1`);
    expect(unknown.status).toBe(404);
  });
});
