import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { checkWithChdb } from '../../db/clickhouse/chdb-check.ts';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import { MIGRATIONS_DIR } from '../../db/migrate.ts';
import { readMigrationFiles, splitClickHouseStatements } from '../../db/runner/files.ts';
import type { ChRows } from '../../core/clickhouse-rows.ts';
import { createCdcInspector } from '../../core/health/cdc-inspector.ts';
import { createClickHouseReportSource } from '../../core/reports/clickhouse-source.ts';
import { chSql } from '../../db/clickhouse/sql.ts';
import { createCoreHarness, createMartSeeder } from './support/harness.ts';

/**
 * Core's ClickHouse SQL, exactly as core renders it (captured from the real report source and CDC
 * inspector), must run on the stack's 18.16 server and on a current engine (chdb). User ids here
 * are hostile on purpose: quotes, backslashes, comment markers, newlines, Unicode.
 */
const HOSTILE_USERS = ["o'neil\\x", "x' OR '1'='1", "a'; DROP TABLE report_hourly; --", 'line\nbreak\t"q"', 'Ünïcødé 用户 🙂', '\\\'\\'];

function recordingRows(captured: string[]): ChRows {
  return async <T>(query: { text: string }) => {
    captured.push(query.text);
    return [] as T[];
  };
}

async function captureCoreQueries(): Promise<string[]> {
  const captured: string[] = [];
  const rows = recordingRows(captured);
  const source = createClickHouseReportSource(rows, Date.now);
  for (const user of HOSTILE_USERS) {
    await source.dailyReport(user, '2026-11-20', Date.UTC(2026, 10, 20));
    await source.reportList(user);
    await source.summary(user);
  }
  await source.ping();
  const inspector = createCdcInspector({ rows });
  await inspector.tables();
  return captured;
}

const core = createCoreHarness();
const seeder = createMartSeeder(core.env);

afterAll(async () => {
  await seeder.cleanup();
  await core.close();
});

describe('core ClickHouse queries', () => {
  test('run on a current engine (chdb) against the migrated schema', async () => {
    const queries = await captureCoreQueries();
    // One query per document (daily, list, summary) and user.
    expect(queries.length).toBeGreaterThanOrEqual(HOSTILE_USERS.length * 3);
    const setup = readMigrationFiles(join(MIGRATIONS_DIR, 'clickhouse')).flatMap((file) => splitClickHouseStatements(file.sql));
    const report = await checkWithChdb(queries.map((sql, i) => ({ name: `query ${i + 1}`, sql })), { database: 'reports', setup });
    console.log(`chdb ${report.chdb} (ClickHouse ${report.engine}): ${report.results.filter((r) => r.ok).length}/${report.results.length} core queries ok`);
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
  }, 600_000);

  test('run on the 18.16 server, and hostile user ids match exactly their own rows', async () => {
    const queries = await captureCoreQueries();
    const client = createClickHouseClient(clickHouseConfigFromEnv(core.env));
    try {
      for (const sql of queries) {
        const error = await client.query({ query: sql, format: 'JSONEachRow' }).then(() => undefined, (e: Error) => e.message);
        expect({ sql: sql.slice(0, 80), error }).toEqual({ sql: sql.slice(0, 80), error: undefined });
      }
    } finally {
      await client.close();
    }
    const marker = `binder.${crypto.randomUUID().slice(0, 8)}`;
    const users = HOSTILE_USERS.map((u) => `${u}${marker}`);
    await seeder.insert(users.map((user_id, i) => ({ user_id, hour: '2026-11-20 05:00:00', movements: i + 1, successful_movements: 0 })));
    for (const [i, user] of users.entries()) {
      const day = await core.deps.reportSource.dailyReport(user, '2026-11-20', Date.UTC(2026, 10, 20));
      expect(day?.user_id).toBe(user);
      expect(day?.totals.movements).toBe(i + 1);
    }
    // A quote-breaking id finds nothing instead of everything.
    expect(await core.deps.reportSource.dailyReport(`x' OR '1'='1`, '2026-11-20', Date.UTC(2026, 10, 20))).toBeNull();
    expect((await core.deps.reportSource.reportList(`' OR 1=1 --`)).days).toEqual([]);
  });

  test('FINAL-free queries agree with the FINAL oracle on re-run versions, emptied hours and several prostheses', async () => {
    const user = `oracle.${crypto.randomUUID().slice(0, 8)}`;
    const second = '3c2d4e5f-0000-4000-8000-0000000000c2';
    await seeder.insert([
      // Re-run: version 2 replaces version 1.
      { user_id: user, hour: '2026-11-20 10:00:00', movements: 100, successful_movements: 90, errors_total: 5, error_codes: ['E_OLD'], error_counts: [5], _version: 1 },
      { user_id: user, hour: '2026-11-20 10:00:00', movements: 200, successful_movements: 150, errors_total: 3, error_codes: ['E_GRIP', 'E_TEMP'], error_counts: [2, 1], _version: 2 },
      // Emptied by a re-run: the older version with events must not come back.
      { user_id: user, hour: '2026-11-20 11:00:00', movements: 70, successful_movements: 70, _version: 1 },
      { user_id: user, hour: '2026-11-20 11:00:00', event_count: 0, movements: 0, successful_movements: 0, _version: 2 },
      // A second prosthesis in the same hour, newer chip, no response times, inconsistent success.
      { user_id: user, hour: '2026-11-20 10:00:00', prosthesis_id: second, chip_id: 'CHIP-2', model_name: 'BionicLeg L1', movements: 5, successful_movements: 9, response_time_count: 0, response_time_sum_ms: 0, battery_min_pct: 7, _version: 3 },
      { user_id: user, hour: '2026-11-22 23:00:00', prosthesis_id: second, chip_id: 'CHIP-2b', model_name: 'BionicLeg L2', movements: 11, successful_movements: 11, errors_total: 1, error_codes: ['E_GRIP'], error_counts: [1] },
      { user_id: user, hour: '2026-11-19 00:00:00', movements: 3, successful_movements: 1 },
    ]);
    const client = createClickHouseClient(clickHouseConfigFromEnv(core.env));
    const oracle = async <T>(query: { text: string }) => (await (await client.query({ query: query.text, format: 'JSONEachRow' })).json<T>()) as T[];
    try {
      type Hour = { ts: number; events: string; mov: string; ok: string; rtc: string; bmin: number; errors: string };
      const hours = await oracle<Hour>(chSql`
        SELECT toUnixTimestamp(hour) AS ts, sum(event_count) AS events, sum(movements) AS mov, sum(least(successful_movements, movements)) AS ok,
               sum(response_time_count) AS rtc, min(battery_min_pct) AS bmin, sum(errors_total) AS errors
        FROM report_hourly FINAL WHERE user_id = ${user} AND event_count > 0 GROUP BY hour ORDER BY hour`);
      const codes = await oracle<{ code: string; n: string }>(chSql`
        SELECT error_code AS code, sum(error_count) AS n FROM report_hourly FINAL
        ARRAY JOIN error_codes AS error_code, error_counts AS error_count
        WHERE user_id = ${user} AND event_count > 0 AND toDate(hour) = toDate('2026-11-20') GROUP BY error_code ORDER BY error_code`);
      const devices = await oracle<{ prosthesis_id: string; chip_id: string; model_name: string }>(chSql`
        SELECT toString(prosthesis_id) AS prosthesis_id, argMax(chip_id, hour) AS chip_id, argMax(model_name, hour) AS model_name
        FROM report_hourly FINAL WHERE user_id = ${user} AND event_count > 0 GROUP BY prosthesis_id`);
      expect(hours.length).toBe(3);

      const day = (await core.deps.reportSource.dailyReport(user, '2026-11-20', Date.UTC(2026, 10, 20)))!;
      const hoursOfDay = hours.filter((h) => new Date(Number(h.ts) * 1000).toISOString().startsWith('2026-11-20'));
      for (const h of hoursOfDay) {
        const point = day.hours[new Date(Number(h.ts) * 1000).getUTCHours()]!;
        expect(point).toMatchObject({ events: Number(h.events), movements: Number(h.mov), successful_movements: Number(h.ok), errors: Number(h.errors), min_battery_pct: Number(h.bmin) });
      }
      expect(day.hours[11]!.events).toBe(0);
      expect(day.totals.movements).toBe(hoursOfDay.reduce((a, h) => a + Number(h.mov), 0));
      expect(day.errors_by_code).toEqual(Object.fromEntries(codes.map((c) => [c.code, Number(c.n)])));
      expect(day.prostheses.map((p) => p.prosthesis_id).sort()).toEqual(['3c2d4e5f-0000-4000-8000-000000000001', second]);

      const list = await core.deps.reportSource.reportList(user);
      expect(list.days.map((d) => d.date)).toEqual(['2026-11-22', '2026-11-20', '2026-11-19']);
      expect(list.days.map((d) => d.movements)).toEqual(['2026-11-22', '2026-11-20', '2026-11-19'].map((date) =>
        hours.filter((h) => new Date(Number(h.ts) * 1000).toISOString().startsWith(date)).reduce((a, h) => a + Number(h.mov), 0)));

      const summary = await core.deps.reportSource.summary(user);
      expect(summary).toMatchObject({
        active_days: 3,
        first_activity_at: '2026-11-19T00:00:00Z',
        last_activity_at: '2026-11-22T23:00:00Z',
        movements: hours.reduce((a, h) => a + Number(h.mov), 0),
        successful_movements: hours.reduce((a, h) => a + Number(h.ok), 0),
        errors: hours.reduce((a, h) => a + Number(h.errors), 0),
        prosthesis_model: 'BionicLeg L2',
      });
      const byId = (a: { prosthesis_id: string }, b: { prosthesis_id: string }) => a.prosthesis_id.localeCompare(b.prosthesis_id);
      expect([...summary.prostheses].sort(byId)).toEqual([...devices].sort(byId));
    } finally {
      await client.close();
    }
  });
});
