import { afterAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { checkWithChdb, type ChdbStatement } from '../../db/clickhouse/chdb-check.ts';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import { chDateTime, chIdentifier, chSql, chTuple, chUuid } from '../../db/clickhouse/sql.ts';
import { MIGRATIONS_DIR } from '../../db/migrate.ts';
import { replicationQuery } from '../../core/crm/replication.ts';
import { readMigrationFiles, splitClickHouseStatements } from '../../db/runner/files.ts';
import { historyTableDdl, migrateClickHouse } from '../../db/runner/clickhouse.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// Every ClickHouse statement the migrations run, plus representative queries over the tables they
// create, must work on the stack's 18.16 server AND on a current engine (chdb from PyPI). The
// real-server half applies the real migration files into a scratch database and drops it after.
const env = loadStackEnv();
const CLICKHOUSE_DIR = join(MIGRATIONS_DIR, 'clickhouse');
const scratch = `test_migrate_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const admin = createClickHouseClient(clickHouseConfigFromEnv(env, { database: 'default' }));

function migrationStatements(): ChdbStatement[] {
  return readMigrationFiles(CLICKHOUSE_DIR).flatMap((file) =>
    splitClickHouseStatements(file.sql).map((sql, i) => ({ name: `${file.version} #${i + 1}`, sql })),
  );
}

const userId = "o'neil\\test";
const prosthesisId = '6f1c2f0e-8d7a-4c1b-9a53-2f1e4b0c9d11';
const customerId = '1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b';
const hour = new Date('2025-01-15T10:00:00Z');

/** Queries of the shapes the ETL, CDC consumer and reports service run against these tables. */
function projectQueries(): ChdbStatement[] {
  return [
    {
      name: 'insert report_hourly row',
      sql: chSql`INSERT INTO report_hourly VALUES (${userId}, ${chUuid(prosthesisId)}, ${'CHIP-0001'}, ${'Model "X"'}, ${'eu'},
        ${chDateTime(hour)}, 12, 340, 330, 41000, 330, 300, 180, 41, 77, 700, 38.5, 450.25, 2, ${['E_OVERHEAT', 'E_SENSOR']}, ${[1, 1]}, 42, 0, 1736935200000)`.text,
    },
    {
      name: 'insert CDC customer row',
      sql: chSql`INSERT INTO crm_customers (id, owner_ref, region, created_at, updated_at, _version, _deleted)
        VALUES (${chUuid(customerId)}, ${userId}, ${'eu'}, ${chDateTime(hour)}, ${chDateTime(hour)}, 101, 0)`.text,
    },
    {
      name: 'insert CDC prosthesis row',
      sql: chSql`INSERT INTO crm_prostheses (id, chip_id, customer_id, model_id, serial_number, fitted_at, status, created_at, updated_at, _version, _deleted)
        VALUES (${chUuid(prosthesisId)}, ${'CHIP-0001'}, ${chUuid(customerId)}, ${chUuid(customerId)}, ${'SN-1'}, ${chDateTime(hour)}, ${'active'},
        ${chDateTime(hour)}, ${chDateTime(hour)}, 7, 0)`.text,
    },
    {
      name: 'hourly report with FINAL',
      sql: chSql`SELECT hour, prosthesis_id, movements, response_time_sum_ms / response_time_count AS avg_response_ms
        FROM report_hourly FINAL WHERE user_id = ${userId} AND hour >= ${chDateTime(hour)} AND hour < ${chDateTime(new Date(hour.getTime() + 86_400_000))}
        ORDER BY hour, prosthesis_id`.text,
    },
    {
      name: 'daily summary re-aggregated from sums',
      sql: chSql`SELECT toDate(hour) AS day, sum(movements) AS movements, sum(response_time_sum_ms) / sum(response_time_count) AS avg_response_ms,
        min(battery_min_pct) AS battery_min, sum(battery_sum_pct) / sum(event_count) AS battery_avg, sum(errors_total) AS errors
        FROM report_hourly FINAL WHERE user_id = ${userId} GROUP BY day ORDER BY day`.text,
    },
    {
      // 18.16's sumMap refuses String keys, so per-code counts are merged with ARRAY JOIN.
      name: 'errors by code over a range',
      sql: chSql`SELECT code, sum(n) AS count FROM (SELECT error_codes, error_counts FROM report_hourly FINAL WHERE user_id = ${userId})
        ARRAY JOIN error_codes AS code, error_counts AS n GROUP BY code ORDER BY code`.text,
    },
    {
      name: 'latest CDC state by argMax',
      sql: chSql`SELECT id, argMax(owner_ref, _version) AS owner_ref, argMax(_deleted, _version) AS deleted
        FROM crm_customers WHERE id IN ${chTuple([chUuid(customerId)])} GROUP BY id`.text,
    },
    {
      name: 'dimension join (one JOIN per SELECT)',
      sql: `SELECT p.chip_id, c.owner_ref, c.region FROM (SELECT id, chip_id, customer_id FROM crm_prostheses FINAL WHERE _deleted = 0) AS p
        ANY LEFT JOIN (SELECT id AS customer_id, owner_ref, region FROM crm_customers FINAL WHERE _deleted = 0) AS c USING customer_id`,
    },
    { name: 'crm replication: first row at or after a saved version (core/crm/replication.ts)', sql: replicationQuery('customers', customerId, 1_736_935_200_000_000n).text },
    { name: 'etl_runs insert', sql: chSql`INSERT INTO etl_runs VALUES (${randomUUID()}, ${'etl'}, ${chDateTime(hour)}, ${chDateTime(hour)}, ${'ok'}, ${chDateTime(hour)}, ${chDateTime(hour)}, 1, 1, 1, ${''}, ${''})`.text },
    { name: 'retention drops a month', sql: 'ALTER TABLE report_hourly DROP PARTITION 202401' },
    { name: 'late-data delete of hours', sql: chSql`ALTER TABLE report_hourly DELETE WHERE user_id = ${'nobody'} AND hour = ${chDateTime(hour)}`.text },
  ];
}

afterAll(async () => {
  await admin.command({ query: chSql`DROP DATABASE IF EXISTS ${chIdentifier(scratch)}`.text });
  await admin.close();
});

describe('ClickHouse DDL on a current engine (chdb)', () => {
  test(
    'every migration statement, the history table and the project queries run',
    async () => {
      const statements = [{ name: 'schema_migrations', sql: historyTableDdl('schema_migrations') }, ...migrationStatements(), ...projectQueries()];
      const report = await checkWithChdb(statements, { database: 'reports' });
      console.log(`chdb ${report.chdb} (ClickHouse ${report.engine}): ${report.results.filter((r) => r.ok).length}/${report.results.length} statements ok`);
      expect(report.results.filter((r) => !r.ok)).toEqual([]);
      expect(report.results).toHaveLength(statements.length);
    },
    { timeout: 600_000 },
  );

  test('the check really fails on SQL the current engine rejects', async () => {
    const report = await checkWithChdb([{ name: 'bad', sql: 'CREATE TABLE t (a NoSuchType) ENGINE = MergeTree() ORDER BY a' }]);
    expect(report.results[0]?.ok).toBe(false);
    expect(report.results[0]?.error).toMatch(/NoSuchType/);
  });
});

describe('ClickHouse migrations on the stack server', () => {
  const config = clickHouseConfigFromEnv(env, { database: scratch });

  test('applies every file once; a second run applies nothing', async () => {
    const files = readMigrationFiles(CLICKHOUSE_DIR);
    const first = await migrateClickHouse({ config, dir: CLICKHOUSE_DIR });
    expect(first.applied).toEqual(files.map((f) => f.version));
    const second = await migrateClickHouse({ config, dir: CLICKHOUSE_DIR });
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toBe(files.length);
    const tables = await admin.query({ query: chSql`SELECT name FROM system.tables WHERE database = ${scratch} ORDER BY name`.text, format: 'JSONEachRow' });
    expect((await tables.json<{ name: string }>()).map((t) => t.name)).toEqual([
      'crm_customers',
      'crm_orders',
      'crm_prostheses',
      'crm_prosthesis_assignments',
      'crm_prosthesis_models',
      'etl_runs',
      'report_hourly',
      'schema_migrations',
    ]);
  });

  test('the project queries run on 18.16 too', async () => {
    const client = createClickHouseClient(config);
    try {
      for (const { name, sql } of projectQueries()) {
        const error = await client.command({ query: sql }).then(() => undefined, (e: Error) => e.message);
        expect({ name, error }).toEqual({ name, error: undefined });
      }
      const result = await client.query({
        query: chSql`SELECT code, sum(n) AS count FROM (SELECT error_codes, error_counts FROM report_hourly FINAL WHERE user_id = ${userId})
          ARRAY JOIN error_codes AS code, error_counts AS n GROUP BY code ORDER BY code`.text,
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ code: string; count: string }>();
      expect(rows.map((r) => [r.code, Number(r.count)])).toEqual([['E_OVERHEAT', 1], ['E_SENSOR', 1]]);
    } finally {
      await client.close();
    }
  });

  test('refuses an applied file whose checksum changed', async () => {
    const client = createClickHouseClient(config);
    try {
      // Simulate an edit after apply: record a different checksum as the newest one for 001.
      const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
      await client.command({ query: chSql`INSERT INTO schema_migrations VALUES (${'001_crm_cdc_tables'}, ${'0'.repeat(64)}, ${chDateTime(later)}, 0, 0)`.text });
    } finally {
      await client.close();
    }
    await expect(migrateClickHouse({ config, dir: CLICKHOUSE_DIR })).rejects.toThrow(/001_crm_cdc_tables\.sql: applied 000000000000…, file now [0-9a-f]{12}…/);
  });
});
