import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { loadStackEnv } from '../../tools/kit/env.ts';
import { clickHouseSettings, renderTemplate } from '../../stack/services/clickhouse.ts';

// Runs against the stack's ClickHouse (`node stack/cli.ts up clickhouse`); the test database is unique to this run.
const env = loadStackEnv();
// Bun 1.3 ignores bunfig.toml's `[test] timeout`, so without this every test here gets Bun's 5 s
// default, which a loaded 2-core CI box can exceed. The services' own timeouts still bound each call.
setDefaultTimeout(60_000);
const settings = clickHouseSettings(env);
const testDb = `stack_test_${randomBytes(6).toString('hex')}`;
const admin: ClickHouseClient = createClient({ url: env.CLICKHOUSE_URL, username: settings.user, password: settings.password });
const ml: ClickHouseClient = createClient({ url: env.CLICKHOUSE_URL, username: settings.mlUser, password: settings.mlPassword });

interface Row {
  id: number;
  user_id: string;
  at: string;
  value: number;
}

beforeAll(async () => {
  await admin.command({ query: `CREATE DATABASE ${testDb}` });
});

afterAll(async () => {
  await admin.command({ query: `DROP DATABASE IF EXISTS ${testDb}` });
  await Promise.all([admin.close(), ml.close()]);
});

async function selectRows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

describe('clickhouse (stack)', () => {
  test('answers SELECT version() and has the reports database', async () => {
    const [row] = await selectRows<{ v: string }>(admin, 'SELECT version() AS v');
    expect(row?.v).toMatch(/^\d+\.\d+\.\d+/);
    const dbs = await selectRows<{ name: string }>(admin, `SELECT name FROM system.databases WHERE name = '${settings.database}'`);
    expect(dbs).toEqual([{ name: settings.database }]);
  });

  test('creates, fills with JSONEachRow, reads and drops a table', async () => {
    const table = `${testDb}.samples`;
    await admin.command({
      query: `CREATE TABLE ${table} (id UInt32, user_id String, at DateTime, value Float64) ENGINE = MergeTree PARTITION BY toYYYYMM(at) ORDER BY (user_id, id)`,
    });
    const rows: Row[] = [
      { id: 1, user_id: 'ivanov', at: '2025-01-02 03:04:05', value: 1.5 },
      { id: 2, user_id: "o'brien \\ \"quoted\"", at: '2025-01-02 04:00:00', value: -2 },
      { id: 3, user_id: 'ivanov', at: '2025-02-01 00:00:00', value: 10 },
    ];
    await admin.insert({ table, values: rows, format: 'JSONEachRow' });
    const back = await selectRows<Row>(admin, `SELECT id, user_id, toString(at) AS at, value FROM ${table} ORDER BY id`);
    expect(back).toEqual(rows);
    const [sums] = await selectRows<{ n: string; total: number }>(admin, `SELECT count() AS n, sum(value) AS total FROM ${table} WHERE user_id = 'ivanov'`);
    expect(Number(sums?.n)).toBe(2);
    expect(sums?.total).toBe(11.5);
    await admin.command({ query: `DROP TABLE ${table}` });
    const left = await selectRows<{ name: string }>(admin, `SELECT name FROM system.tables WHERE database = '${testDb}'`);
    expect(left).toEqual([]);
  });

  test('ml_readonly can SELECT in the report database but every write, DDL and setting change is refused', async () => {
    // ml_readonly may only see the report database, so this table lives there (unique name, dropped after).
    const table = `${settings.database}.${testDb}_readable`;
    await admin.command({ query: `CREATE TABLE ${table} (id UInt32) ENGINE = MergeTree ORDER BY id` });
    try {
      await admin.insert({ table, values: [{ id: 7 }], format: 'JSONEachRow' });

      expect(await selectRows<{ id: number }>(ml, `SELECT id FROM ${table}`)).toEqual([{ id: 7 }]);
      await expect(ml.insert({ table, values: [{ id: 8 }], format: 'JSONEachRow' })).rejects.toThrow(/readonly mode/);
      await expect(ml.command({ query: `CREATE TABLE ${settings.database}.${testDb}_sneaky (id UInt32) ENGINE = Memory` })).rejects.toThrow(/readonly mode/);
      await expect(ml.command({ query: `DROP TABLE ${table}` })).rejects.toThrow(/readonly mode/);
      await expect(ml.command({ query: `ALTER TABLE ${table} DELETE WHERE 1` })).rejects.toThrow(/readonly mode/);
      await expect(ml.command({ query: `CREATE DATABASE ${testDb}_sneaky` })).rejects.toThrow(/readonly mode/);
      await expect(ml.query({ query: 'SELECT 1', clickhouse_settings: { readonly: '0' } })).rejects.toThrow(/readonly mode/);
      // Nothing changed behind the refusals.
      expect(await selectRows<{ id: number }>(admin, `SELECT id FROM ${table}`)).toEqual([{ id: 7 }]);
    } finally {
      await admin.command({ query: `DROP TABLE IF EXISTS ${table}` });
    }
  });

  test('ml_readonly cannot read any database but the report database', async () => {
    const table = `${testDb}.elsewhere`;
    await admin.command({ query: `CREATE TABLE ${table} (id UInt32) ENGINE = MergeTree ORDER BY id` });
    await admin.insert({ table, values: [{ id: 1 }], format: 'JSONEachRow' });
    await expect(selectRows(ml, `SELECT id FROM ${table}`)).rejects.toThrow(/access|not allowed/i);
    await expect(selectRows(ml, `SELECT * FROM default.${testDb}_absent`)).rejects.toThrow(/access|not allowed/i);
    // A client that names another database as its session default is refused too.
    const elsewhere = createClient({ url: env.CLICKHOUSE_URL, username: settings.mlUser, password: settings.mlPassword, database: testDb });
    try {
      await expect(elsewhere.query({ query: 'SELECT 1' })).rejects.toThrow(/access|not allowed/i);
    } finally {
      await elsewhere.close();
    }
  });

  test('core_reader reads the report database only and writes nothing', async () => {
    const core = createClient({ url: env.CLICKHOUSE_URL, username: settings.coreUser, password: settings.corePassword });
    const table = `${settings.database}.${testDb}_core`;
    await admin.command({ query: `CREATE TABLE ${table} (id UInt32) ENGINE = MergeTree ORDER BY id` });
    try {
      await admin.insert({ table, values: [{ id: 3 }], format: 'JSONEachRow' });
      expect(await selectRows<{ id: number }>(core, `SELECT id FROM ${table}`)).toEqual([{ id: 3 }]);
      await expect(core.insert({ table, values: [{ id: 4 }], format: 'JSONEachRow' })).rejects.toThrow(/readonly mode/);
      await expect(core.command({ query: `ALTER TABLE ${table} DELETE WHERE 1` })).rejects.toThrow(/readonly mode/);
      await expect(core.command({ query: `DROP TABLE ${table}` })).rejects.toThrow(/readonly mode/);
      await admin.command({ query: `CREATE TABLE ${testDb}.core_elsewhere (id UInt32) ENGINE = Memory` });
      await expect(selectRows(core, `SELECT id FROM ${testDb}.core_elsewhere`)).rejects.toThrow(/access|not allowed/i);
    } finally {
      await admin.command({ query: `DROP TABLE IF EXISTS ${table}` });
      await core.close();
    }
  });

  test('jobs_writer writes, deletes and drops partitions in the report database, and cannot reach another', async () => {
    const jobs = createClient({ url: env.CLICKHOUSE_URL, username: settings.jobsUser, password: settings.jobsPassword });
    const table = `${settings.database}.${testDb}_jobs`;
    await admin.command({ query: `CREATE TABLE ${table} (d Date, id UInt32) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY id` });
    try {
      await jobs.insert({ table, values: [{ d: '2025-01-02', id: 1 }, { d: '2025-02-02', id: 2 }], format: 'JSONEachRow' });
      await jobs.command({ query: `ALTER TABLE ${table} DROP PARTITION 202501` });
      await jobs.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
      expect(await selectRows<{ id: number }>(jobs, `SELECT id FROM ${table}`)).toEqual([{ id: 2 }]);
      await admin.command({ query: `CREATE TABLE ${testDb}.jobs_elsewhere (id UInt32) ENGINE = Memory` });
      await expect(jobs.insert({ table: `${testDb}.jobs_elsewhere`, values: [{ id: 1 }], format: 'JSONEachRow' })).rejects.toThrow(/access|not allowed/i);
      await expect(selectRows(jobs, `SELECT id FROM ${testDb}.jobs_elsewhere`)).rejects.toThrow(/access|not allowed/i);
    } finally {
      await admin.command({ query: `DROP TABLE IF EXISTS ${table}` });
      await jobs.close();
    }
  });

  test('wrong or missing credentials are refused', async () => {
    const intruder = createClient({ url: env.CLICKHOUSE_URL, username: 'default', password: 'not-the-password' });
    const anonymous = createClient({ url: env.CLICKHOUSE_URL, username: 'default', password: '' });
    try {
      await expect(intruder.query({ query: 'SELECT 1' })).rejects.toThrow(/password/i);
      await expect(anonymous.query({ query: 'SELECT 1' })).rejects.toThrow(/password/i);
    } finally {
      await Promise.all([intruder.close(), anonymous.close()]);
    }
  });

  test('config rendering fills every placeholder and refuses markup', () => {
    expect(renderTemplate('<a>{{X}}</a>', { X: '/data' })).toBe('<a>/data</a>');
    expect(() => renderTemplate('<a>{{Y}}</a>', { X: '1' })).toThrow('{{Y}}');
    expect(() => renderTemplate('<a>{{X}}</a>', { X: '</a><b>' })).toThrow('XML markup');
    expect(() => clickHouseSettings({ ...env, CLICKHOUSE_DATABASE: 'reports; DROP', CLICKHOUSE_PASSWORD: '' })).toThrow(
      /CLICKHOUSE_PASSWORD is not set.*CLICKHOUSE_DATABASE must be an identifier/,
    );
  });
});
