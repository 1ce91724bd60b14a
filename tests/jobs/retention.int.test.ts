import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createMemoryLogger } from '../../common/log.ts';
import { tryJobLock } from '../../jobs/schedule/job-lock.ts';
import { createJobsMetrics } from '../../jobs/metrics/jobs-metrics.ts';
import { runRetention, type RetentionDeps } from '../../jobs/runs/retention-job.ts';
import { createClickHouseRunHistory } from '../../jobs/runs/run-history.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { createScratchClickHouse, createScratchTelemetry, type ScratchClickHouse, type ScratchTelemetry } from './support/scratch-stores.ts';
import { generateEvents, insertEvents } from './support/telemetry-data.ts';

// Retention against a scratch copy of raw_telemetry (real migration, real monthly partitions) and a
// scratch ClickHouse database: nothing shared is dropped.
const env = loadStackEnv();
const DAY_MS = 86_400_000;
let telemetry: ScratchTelemetry;
let clickhouse: ScratchClickHouse;

beforeAll(async () => {
  [telemetry, clickhouse] = await Promise.all([createScratchTelemetry(env, 'jobs_ret'), createScratchClickHouse(env, 'jobs_ret')]);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([telemetry?.drop(), clickhouse?.drop()]);
}, 60_000);

function deps(): RetentionDeps {
  return { telemetryDb: telemetry.sql, clickhouse: clickhouse.client, runHistory: createClickHouseRunHistory(clickhouse.client), logger: createMemoryLogger('jobs-test'), now: Date.now, newId: randomUUID, metrics: createJobsMetrics() };
}

const monthName = (ms: number) => {
  const d = new Date(ms);
  return `raw_telemetry_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};
const yyyymm = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

async function rawPartitions(): Promise<string[]> {
  const rows = await telemetry.sql<{ name: string }[]>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = ${`${telemetry.schema}.raw_telemetry`}::regclass order by 1`;
  return rows.map((r) => r.name);
}

async function martPartitions(): Promise<string[]> {
  const result = await clickhouse.client.query({ query: `SELECT DISTINCT partition FROM system.parts WHERE database = '${clickhouse.database}' AND table = 'report_hourly' AND active ORDER BY partition`, format: 'JSONEachRow' });
  return (await result.json<{ partition: string }>()).map((p) => p.partition);
}

describe('retention', () => {
  test('drops whole months past each horizon, old default-partition rows, and nothing younger', async () => {
    const now = Date.now();
    // Monthly partitions from 8 months ago to now, rows in each, plus a 3-year-old row (default partition).
    await telemetry.sql.unsafe(`select ${telemetry.schema}.ensure_raw_telemetry_partitions(now() - interval '8 months', now())`);
    const chip = `RET-${randomUUID().slice(0, 8)}`;
    for (const monthsAgo of [0, 2, 4, 6, 8]) {
      await insertEvents(telemetry.sql, telemetry.schema, generateEvents({ chips: [chip], startMs: Math.floor((now - monthsAgo * 30 * DAY_MS) / 3_600_000) * 3_600_000 - 3 * 3_600_000, hours: 3, seed: monthsAgo + 1 }));
    }
    const ancient = generateEvents({ chips: [chip], startMs: Math.floor((now - 3 * 365 * DAY_MS) / 3_600_000) * 3_600_000, hours: 2, seed: 77 });
    await insertEvents(telemetry.sql, telemetry.schema, ancient);
    expect(ancient.length).toBeGreaterThan(0);

    const martRow = (ms: number) => ({
      user_id: 'ret-user', prosthesis_id: randomUUID(), chip_id: chip, model_name: 'M', region: 'eu', hour: Math.floor(ms / 3_600_000) * 3_600,
      event_count: 1, movements: 1, successful_movements: 1, response_time_sum_ms: 1, response_time_count: 1, response_time_max_ms: 1, response_time_p95_ms: 1,
      battery_min_pct: 1, battery_max_pct: 1, battery_sum_pct: 1, actuator_temp_max_c: 1, actuator_temp_sum_c: 1, errors_total: 0, error_codes: [], error_counts: [],
      active_minutes: 1, charging_minutes: 0, _version: 1,
    });
    const martMonths = [now, now - 400 * DAY_MS, now - 800 * DAY_MS, now - 1000 * DAY_MS];
    await clickhouse.client.insert({ table: 'report_hourly', format: 'JSONEachRow', values: martMonths.map(martRow) });

    // ETL hours deferred for a chip the CRM never came to know: one past the raw horizon, one within.
    const deferred = telemetry.sql(`${telemetry.schema}.etl_deferred_hours`);
    const hourAt = (ms: number) => new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString();
    await telemetry.sql`insert into ${deferred} (source, chip_id, hour) values ('test:ret', ${chip}, ${hourAt(now - 100 * DAY_MS)}), ('test:ret', ${chip}, ${hourAt(now - 10 * DAY_MS)})`;

    const settings = { rawTelemetryDays: 90, martDays: 730, telemetrySchema: telemetry.schema, clickhouseDatabase: clickhouse.database };
    const rawBefore = await rawPartitions();
    const martBefore = await martPartitions();

    const plan = await runRetention(deps(), { ...settings, dryRun: true });
    expect(plan.status).toBe('planned');
    expect(await rawPartitions()).toEqual(rawBefore);
    expect(await martPartitions()).toEqual(martBefore);

    const result = await runRetention(deps(), settings);
    if (result.status !== 'succeeded') throw new Error(`retention ${result.status}: ${JSON.stringify(result)}`);
    const rawCutoff = now - 90 * DAY_MS;
    // Every dropped raw month ended before the cutoff; every kept range month did not.
    for (const name of result.droppedRaw) expect(rawBefore).toContain(name);
    expect(result.droppedRaw).toContain(monthName(now - 6 * 30 * DAY_MS));
    expect(result.droppedRaw).toContain(monthName(now - 8 * 30 * DAY_MS));
    expect(result.droppedRaw).not.toContain(monthName(now - 2 * 30 * DAY_MS));
    const rawAfter = await rawPartitions();
    expect(rawAfter).toContain(`raw_telemetry_default`);
    expect(rawAfter).toContain(monthName(now));
    const oldestKept = await telemetry.sql<{ t: Date | null }[]>`select min(event_time) as t from ${telemetry.sql(`${telemetry.schema}.raw_telemetry`)}`;
    expect(oldestKept[0]!.t!.getTime()).toBeGreaterThan(rawCutoff - 31 * DAY_MS);
    expect(result.deletedDefaultRows).toBe(ancient.length);
    // The deferred hour older than the horizon can no longer be recomputed: dropped, and said so.
    expect(result.droppedDeferredHours).toBe(1);
    const deferredLeft = await telemetry.sql<{ hour: Date }[]>`select hour from ${deferred} where source = 'test:ret'`;
    expect(deferredLeft.map((row) => row.hour.toISOString())).toEqual([hourAt(now - 10 * DAY_MS)]);
    expect(result.run.note).toContain('1 deferred ETL hour past the raw horizon');
    expect(result.run.error).toBe('');

    expect(result.droppedMart).toEqual([yyyymm(now - 1000 * DAY_MS), yyyymm(now - 800 * DAY_MS)].sort());
    expect(await martPartitions()).toEqual([yyyymm(now - 400 * DAY_MS), yyyymm(now)].sort());

    const [run] = await createClickHouseRunHistory(clickhouse.client).list({ limit: 1, job: 'retention' });
    expect(run).toMatchObject({ runId: result.run.runId, status: 'succeeded', rowsWritten: result.droppedRaw.length + result.droppedMart.length });

    // Nothing more to drop the second time.
    const again = await runRetention(deps(), settings);
    expect(again.status === 'succeeded' && again.droppedRaw.length + again.droppedMart.length + again.deletedDefaultRows + again.droppedDeferredHours).toBe(0);
  }, 120_000);

  test('one process at a time: a run finding the lock held (another replica) skips', async () => {
    const settings = { rawTelemetryDays: 90, martDays: 730, telemetrySchema: telemetry.schema, clickhouseDatabase: clickhouse.database };
    // Another replica's session holds the job's lock.
    const other = postgres(env.TELEMETRY_DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      const held = await tryJobLock(other, `retention:${telemetry.schema}`);
      expect(held).toBeDefined();
      expect((await runRetention(deps(), settings)).status).toBe('skipped');
      await held!.release();
      expect((await runRetention(deps(), settings)).status).toBe('succeeded');
    } finally {
      await other.end();
    }
  }, 60_000);
});
