import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { checkWithChdb, type ChdbStatement } from '../../db/clickhouse/chdb-check.ts';
import { MIGRATIONS_DIR } from '../../db/migrate.ts';
import { readMigrationFiles, splitClickHouseStatements } from '../../db/runner/files.ts';
import { ownerQueries } from '../../jobs/cdc/apply-batch.ts';
import { decodeChange, type Change } from '../../jobs/cdc/decode-change.ts';
import { tablesByTopic } from '../../jobs/cdc/tables.ts';
import { dimensionQueries } from '../../jobs/etl/dimensions.ts';
import { toMartRow, zeroMartRow } from '../../jobs/etl/mart-rows.ts';
import { ownerSpanQueries } from '../../jobs/etl/owner-spans.ts';
import { staleRowsQuery } from '../../jobs/etl/retire-moved-rows.ts';
import { reassignedChipsQuery } from '../../jobs/etl/reassigned-hours.ts';
import { retentionQueries } from '../../jobs/retention/run-retention.ts';
import { listRunsQuery, runRow } from '../../jobs/runs/run-history.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { createScratchClickHouse, type ScratchClickHouse } from './support/scratch-stores.ts';

// Every statement jobs sends to ClickHouse — the rows it inserts (as JSONEachRow, in the exact shapes
// its code produces) and the queries it renders through the binder — on a current engine (chdb)
// and on the stack's 18.16 server, both over the tables the real migrations create.
const env = loadStackEnv();
let scratch: ScratchClickHouse;

beforeAll(async () => {
  scratch = await createScratchClickHouse(env, 'jobs_sql');
}, 120_000);

afterAll(async () => {
  await scratch?.drop();
});

const tables = tablesByTopic('crm');
const ids = {
  customer: '1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b',
  model: '80c0d1e2-f3a4-4b5c-8d6e-7f8091a2b3c4',
  prosthesis: '6f1c2f0e-8d7a-4c1b-9a53-2f1e4b0c9d11',
  order: 'c4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6a7b',
};
const ts = '2026-11-25T08:39:56.480230Z';

function change(topic: string, op: string, after: Record<string, unknown> | null, before: Record<string, unknown> | null = null, lsn = 27607968): Change {
  const id = String((after ?? before)!.id);
  const decoded = decodeChange(
    { topic, partition: 0, offset: '1', key: Buffer.from(JSON.stringify({ id })), value: Buffer.from(JSON.stringify({ op, before, after, source: { lsn, ts_ms: 1795595996509 } })) },
    tables,
  );
  if (decoded.kind !== 'change') throw new Error(`fixture is not a change: ${JSON.stringify(decoded)}`);
  return decoded;
}

/** INSERT … FORMAT JSONEachRow with the rows exactly as jobs sends them (plus _synced_at, as applyCdcBatch adds). */
function insert(table: string, rows: Array<Record<string, unknown>>): string {
  return `INSERT INTO ${table} FORMAT JSONEachRow ${rows.map((row) => JSON.stringify(row)).join('\n')}`;
}

function jobsStatements(): ChdbStatement[] {
  const synced = { _synced_at: 1795595997 };
  const customer = change('crm.crm.customers', 'c', { id: ids.customer, owner_ref: 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a', username: "o'neil\\test", region: 'eu', full_name: 'Ö Neil', email: 'x@example.com', phone: null, created_at: ts, updated_at: ts });
  const deleted = change('crm.crm.customers', 'd', null, { id: ids.customer, username: '' }, 27608000);
  const model = change('crm.crm.prosthesis_models', 'r', { id: ids.model, name: 'Hand "X"', manufacturer: 'BionicPRO', kind: 'hand', actuator_count: 6, battery_capacity_mah: 2400, weight_g: 480, created_at: ts, updated_at: ts });
  const prosthesis = change('crm.crm.prostheses', 'u', { id: ids.prosthesis, chip_id: 'CHIP-0001', customer_id: ids.customer, model_id: ids.model, serial_number: 'SN-1', fitted_at: ts, status: 'active', created_at: ts, updated_at: ts });
  const assignment = change('crm.crm.prosthesis_assignments', 'c', { id: 17, prosthesis_id: ids.prosthesis, customer_id: ids.customer, valid_from: ts, created_at: ts });
  const order = change('crm.crm.orders', 'c', { id: ids.order, customer_id: ids.customer, model_id: ids.model, status: 'new', amount: '12345.67', currency: 'EUR', ordered_at: ts, created_at: ts, updated_at: ts });
  const mart = toMartRow(
    {
      chipId: 'CHIP-0001', hourSeconds: 1_704_067_200, fromMs: 1_704_067_200_000, eventCount: 3, movements: 40, successfulMovements: 38, responseTimeSumMs: 8_000, responseTimeCount: 40,
      responseTimeMaxMs: 300, responseTimeP95Ms: 300, batteryMinPct: 40, batteryMaxPct: 42, batterySumPct: 123, actuatorTempMaxC: 38.5, actuatorTempSumC: 110.25,
      errorsTotal: 2, errorCodes: ['E_SENSOR', 'E_MOTOR'], activeMinutes: 3, chargingMinutes: 0,
    },
    { prosthesisId: ids.prosthesis, modelName: 'Hand "X"' },
    { userId: "o'neil\\test", region: 'eu' },
    1_795_595_996_509,
  );
  const run = runRow({
    runId: 'r-1', job: 'etl', startedAt: new Date('2026-11-25T08:00:00Z'), finishedAt: new Date('2026-11-25T08:01:00Z'), status: 'succeeded',
    windowFrom: new Date(0), windowTo: new Date('2026-11-25T08:00:00Z'), rowsRead: 10, rowsWritten: 2, affectedUsers: 1, error: "it's fine", note: 'a \\ note',
  });
  return [
    { name: 'insert CDC customer (create)', sql: insert('crm_customers', [{ ...customer.row, ...synced }]) },
    { name: 'insert CDC customer (delete: key only)', sql: insert('crm_customers', [{ ...deleted.row, ...synced }]) },
    { name: 'insert CDC model', sql: insert('crm_prosthesis_models', [{ ...model.row, ...synced }]) },
    { name: 'insert CDC prosthesis', sql: insert('crm_prostheses', [{ ...prosthesis.row, ...synced }]) },
    { name: 'insert CDC order (decimal as number)', sql: insert('crm_orders', [{ ...order.row, ...synced }]) },
    { name: 'insert CDC assignment (bigint id)', sql: insert('crm_prosthesis_assignments', [{ ...assignment.row, ...synced }]) },
    { name: 'insert mart row', sql: insert('report_hourly', [mart as unknown as Record<string, unknown>]) },
    {
      name: 'insert retired mart row',
      sql: insert('report_hourly', [zeroMartRow({ userId: "o'neil\\test", prosthesisId: ids.prosthesis, chipId: 'CHIP-0001', modelName: 'Hand', region: 'eu', hourSeconds: 1_704_067_200 }, 1_795_595_996_510) as unknown as Record<string, unknown>]),
    },
    { name: 'insert run', sql: insert('etl_runs', [run]) },
    { name: 'dimensions: prostheses by chip', sql: dimensionQueries.prostheses(['CHIP-0001', "x'); DROP TABLE crm_prostheses; --"]).text },
    { name: 'dimensions: customers', sql: dimensionQueries.customers([ids.customer]).text },
    { name: 'dimensions: models', sql: dimensionQueries.models([ids.model]).text },
    { name: 'owner spans: assignment histories', sql: ownerSpanQueries.histories([ids.prosthesis]).text },
    { name: 'owner spans: prostheses cut within a range', sql: ownerSpanQueries.cutWithin(1_704_067_200_000, 1_795_595_996_509).text },
    { name: 'owner spans: rows to retire', sql: staleRowsQuery([ids.prosthesis, ids.customer], [1_704_067_200, 1_704_070_800], 1_795_595_996_510).text },
    { name: 'reassigned hours: chips of prostheses', sql: reassignedChipsQuery([ids.prosthesis]).text },
    { name: 'owners: owner refs', sql: ownerQueries.ownerRefs([ids.customer]).text },
    { name: 'owners: prosthesis owners', sql: ownerQueries.owners([ids.prosthesis]).text },
    { name: 'runs: list', sql: listRunsQuery({ limit: 20 }).text },
    { name: 'runs: list one job', sql: listRunsQuery({ limit: 5, job: 'retention' }).text },
    { name: 'retention: mart partitions', sql: retentionQueries.martPartitions('reports').text },
    { name: 'retention: drop a month', sql: retentionQueries.dropMartPartition('202401').text },
  ];
}

describe('jobs ClickHouse statements', () => {
  test('run on a current engine (chdb)', async () => {
    const setup = readMigrationFiles(join(MIGRATIONS_DIR, 'clickhouse')).flatMap((file) => splitClickHouseStatements(file.sql));
    const statements = jobsStatements();
    const report = await checkWithChdb(statements, { database: 'reports', setup });
    console.log(`chdb ${report.chdb} (ClickHouse ${report.engine}): ${report.results.filter((r) => r.ok).length}/${report.results.length} jobs statements ok`);
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    expect(report.results).toHaveLength(statements.length);
  }, 600_000);

  test('run on the stack server (18.16), and the mart month is dropped', async () => {
    for (const { name, sql } of jobsStatements()) {
      const error = await scratch.client.command({ query: sql }).then(() => undefined, (e: Error) => e.message);
      expect({ name, error }).toEqual({ name, error: undefined });
    }
    const result = await scratch.client.query({ query: 'SELECT toString(amount) AS amount FROM crm_orders FINAL', format: 'JSONEachRow' });
    expect(await result.json()).toEqual([{ amount: '12345.67' }]);
    const mart = await scratch.client.query({ query: 'SELECT count() AS n FROM report_hourly', format: 'JSONEachRow' });
    expect(await mart.json()).toEqual([{ n: '0' }]);
  });
});
