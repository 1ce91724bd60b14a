import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { checkWithChdb } from '../../db/clickhouse/chdb-check.ts';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import { MIGRATIONS_DIR } from '../../db/migrate.ts';
import { readMigrationFiles, splitClickHouseStatements } from '../../db/runner/files.ts';
import type { ChRows } from '../../core/clickhouse-rows.ts';
import { createCdcInspector } from '../../core/health/cdc-inspector.ts';
import { createClickHouseReportSource } from '../../core/reports/clickhouse-source.ts';
import { createMemoryLogger } from '../../common/log.ts';
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
  const inspector = createCdcInspector({ rows, brokers: ['127.0.0.1:1'], consumerGroup: 'g', topics: [], connectUrl: 'http://127.0.0.1:1', timeoutMs: 100, logger: createMemoryLogger() });
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
    expect(queries.length).toBeGreaterThanOrEqual(HOSTILE_USERS.length * 5);
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
});
