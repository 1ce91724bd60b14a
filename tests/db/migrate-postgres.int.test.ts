import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { migrateTarget } from '../../db/migrate.ts';
import { migratePostgres } from '../../db/runner/postgres.ts';
import { loadStackEnv } from '../../tools/kit/env.ts';

// The runner against the stack's CRM PostgreSQL with migrations of the test's own, in a scratch
// schema (history table included) that is dropped at the end; then the real CRM and telemetry
// schemas, whose test rows are removed again.
const env = loadStackEnv();
const crm = postgres(env.CRM_DATABASE_URL!, { max: 2, onnotice: () => {} });
const telemetry = postgres(env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => {} });
const schema = `test_migrate_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const dir = mkdtempSync(join(tmpdir(), 'pg-migrations-'));
const historyTable = `${schema}.schema_migrations`;

/** postgres.js queries run only when awaited; Bun's `expect(…).rejects` never calls then() on them. */
function settle<T>(query: PromiseLike<T>): Promise<T> {
  return Promise.resolve(query);
}

function write(name: string, body: string): void {
  writeFileSync(join(dir, name), body);
}

const run = (target = 'scratch') => migratePostgres({ target, url: env.CRM_DATABASE_URL!, dir, historyTable });

beforeAll(async () => {
  await crm.unsafe(`create schema ${schema}`);
});

afterAll(async () => {
  await crm.unsafe(`drop schema if exists ${schema} cascade`);
  rmSync(dir, { recursive: true, force: true });
  await crm.end();
  await telemetry.end();
});

describe('PostgreSQL migration runner', () => {
  test('applies files in order, once; a second run applies nothing', async () => {
    write('001_items.sql', `create table ${schema}.items (id int primary key);\ninsert into ${schema}.items values (1);`);
    write('002_more.sql', `insert into ${schema}.items values (2);`);
    const first = await run();
    expect(first.applied).toEqual(['001_items', '002_more']);
    const second = await run();
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toBe(2);
    expect((await crm.unsafe(`select id from ${schema}.items order by id`)).map((r) => r.id)).toEqual([1, 2]);
    const history = await crm.unsafe(`select version, length(checksum) as len from ${historyTable} order by version`);
    expect(history.map((r) => [r.version, r.len])).toEqual([['001_items', 64], ['002_more', 64]]);
  });

  test('two runners at once apply a file once (advisory lock)', async () => {
    write('003_slow.sql', `select pg_sleep(0.5);\ninsert into ${schema}.items values (3);`);
    const [a, b] = await Promise.all([run('a'), run('b')]);
    expect([...a.applied, ...b.applied]).toEqual(['003_slow']);
    expect((await crm.unsafe(`select count(*)::int as n from ${schema}.items where id = 3`))[0]!.n).toBe(1);
  });

  test('a failing file is rolled back whole, reported with file and line, and not recorded', async () => {
    write('004_broken.sql', `create table ${schema}.half (id int);\ninsert into ${schema}.items values (4);\nselect * from ${schema}.no_such_table;`);
    await expect(run()).rejects.toThrow(/004_broken\.sql:3: relation ".*no_such_table" does not exist \(SQLSTATE 42P01\)/);
    expect((await crm.unsafe(`select to_regclass('${schema}.half') as t`))[0]!.t).toBeNull();
    expect((await crm.unsafe(`select count(*)::int as n from ${schema}.items where id = 4`))[0]!.n).toBe(0);
    expect((await crm.unsafe(`select count(*)::int as n from ${historyTable} where version = '004_broken'`))[0]!.n).toBe(0);
    rmSync(join(dir, '004_broken.sql'));
  });

  test('refuses to run when an applied file was edited', async () => {
    write('001_items.sql', `create table ${schema}.items (id bigint primary key);`);
    await expect(run()).rejects.toThrow(/001_items\.sql: applied [0-9a-f]{12}…, file now [0-9a-f]{12}…/);
  });
});

describe('the real CRM schema', () => {
  test('is fully applied and re-running applies nothing', async () => {
    const report = await migrateTarget(env, 'crm');
    expect(report.applied).toEqual([]);
    expect(report.alreadyApplied).toBeGreaterThan(0);
  });

  test('crm_publication covers exactly the four CRM tables and the assignment history', async () => {
    const rows = await crm`select schemaname || '.' || tablename as t from pg_publication_tables where pubname = 'crm_publication' order by t`;
    expect(rows.map((r) => r.t)).toEqual(['crm.customers', 'crm.orders', 'crm.prostheses', 'crm.prosthesis_assignments', 'crm.prosthesis_models']);
  });

  test('updated_at moves on update; checks refuse bad rows', async () => {
    const username = `test.migrate.${randomUUID().slice(0, 8)}`;
    try {
      const [row] = await crm`insert into crm.customers (username, region, full_name, email)
        values (${username}, 'eu', 'Test Person', ${`${username}@example.com`})
        returning id, updated_at`;
      await crm`select pg_sleep(0.01)`;
      const [updated] = await crm`update crm.customers set phone = '+100' where id = ${row!.id} returning updated_at`;
      expect(updated!.updated_at.getTime()).toBeGreaterThan(row!.updated_at.getTime());
      await expect(settle(crm`insert into crm.customers (username, region, full_name, email) values (${`${username}x`}, 'us', 'X', 'x@y')`)).rejects.toThrow(/customers_region_check/);
      await expect(settle(crm`insert into crm.customers (username, region, full_name, email) values (${username}, 'eu', 'X', 'x@y')`)).rejects.toThrow(/customers_username_key/);
    } finally {
      await crm`delete from crm.customers where username = ${username}`;
    }
  });
});

describe('the real telemetry schema', () => {
  test('is fully applied and keeps partitions ahead', async () => {
    const report = await migrateTarget(env, 'telemetry');
    expect(report.applied).toEqual([]);
    const [row] = await telemetry`select count(*)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'public.raw_telemetry'::regclass and c.relname = 'raw_telemetry_' || to_char(now() at time zone 'UTC' + interval '2 months', 'YYYY_MM')`;
    expect(row!.n).toBe(1);
  });

  test('a re-sent event is stored once', async () => {
    const chip = `TEST-${randomUUID().slice(0, 8)}`;
    const eventId = randomUUID();
    // A re-sent event repeats the device's own event_time; only the arrival differs.
    const eventTime = new Date(Math.floor(Date.now() / 1000) * 1000 + 123);
    try {
      for (let i = 0; i < 2; i++) {
        await telemetry`insert into raw_telemetry (event_id, chip_id, event_time, movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c)
          values (${eventId}, ${chip}, ${eventTime}, 3, 3, 120, 80, 31.5) on conflict do nothing`;
      }
      const [row] = await telemetry`select count(*)::int as n from raw_telemetry where chip_id = ${chip}`;
      expect(row!.n).toBe(1);
    } finally {
      await telemetry`delete from raw_telemetry where chip_id = ${chip}`;
    }
  });

  test('rows of a month without a partition wait in the default one and move when it is created', async () => {
    const chip = `TEST-${randomUUID().slice(0, 8)}`;
    // A month no other test or generator uses; the partition is dropped again below.
    const at = new Date('2098-07-15T12:00:00.123Z');
    try {
      await telemetry`insert into raw_telemetry (event_id, chip_id, event_time, movements, successful_movements, battery_pct, actuator_temp_c)
        values (${randomUUID()}, ${chip}, ${at}, 0, 0, 50, 20)`;
      const [before] = await telemetry`select tableoid::regclass::text as part, event_time from raw_telemetry where chip_id = ${chip}`;
      expect(before!.part).toBe('raw_telemetry_default');
      expect(before!.event_time.getTime()).toBe(at.getTime());
      const [created] = await telemetry`select public.ensure_raw_telemetry_partitions(${at}, ${at}) as n`;
      expect(created!.n).toBe(1);
      const [after] = await telemetry`select tableoid::regclass::text as part from raw_telemetry where chip_id = ${chip}`;
      expect(after!.part).toBe('raw_telemetry_2098_07');
      const [again] = await telemetry`select public.ensure_raw_telemetry_partitions(${at}, ${at}) as n`;
      expect(again!.n).toBe(0);
    } finally {
      await telemetry`delete from raw_telemetry where chip_id = ${chip}`;
      await telemetry`drop table if exists public.raw_telemetry_2098_07`;
    }
  });

  test('the partition function refuses nonsense ranges', async () => {
    await expect(settle(telemetry`select public.ensure_raw_telemetry_partitions(now(), now() - interval '1 day')`)).rejects.toThrow(/need from_time <= to_time/);
    await expect(settle(telemetry`select public.ensure_raw_telemetry_partitions(now(), now() + interval '11 years')`)).rejects.toThrow(/longer than 10 years/);
  });
});
